// The HPACK decoder (RFC 7541) on its own: the Huffman code against the RFC's table, the
// examples of Appendix C decoded in sequence, and everything a hostile peer could send
// refused with the decoder failed for good: bad integers, indexes, padding, truncated
// blocks, misplaced or oversized table size updates, strings, fields and blocks over the
// bounds.

#include <qhpackdecoder_p.h>

#include <QtCore/qbytearraylist.h>
#include <QtCore/qrandom.h>
#include <QtTest/qtest.h>

#include <algorithm>
#include <climits>

namespace {

struct HuffmanCode
{
    quint32 code;
    int length;
};

// RFC 7541 Appendix B, octets 0-255 and EOS: written out code by code, independently of the
// decoder's table of lengths, to check the codes that table gives.
constexpr HuffmanCode RfcCodes[257] = {
    {0x1ff8, 13},     {0x7fffd8, 23},   {0xfffffe2, 28},  {0xfffffe3, 28},  {0xfffffe4, 28},
    {0xfffffe5, 28},  {0xfffffe6, 28},  {0xfffffe7, 28},  {0xfffffe8, 28},  {0xffffea, 24},
    {0x3ffffffc, 30}, {0xfffffe9, 28},  {0xfffffea, 28},  {0x3ffffffd, 30}, {0xfffffeb, 28},
    {0xfffffec, 28},  {0xfffffed, 28},  {0xfffffee, 28},  {0xfffffef, 28},  {0xffffff0, 28},
    {0xffffff1, 28},  {0xffffff2, 28},  {0x3ffffffe, 30}, {0xffffff3, 28},  {0xffffff4, 28},
    {0xffffff5, 28},  {0xffffff6, 28},  {0xffffff7, 28},  {0xffffff8, 28},  {0xffffff9, 28},
    {0xffffffa, 28},  {0xffffffb, 28},  {0x14, 6},        {0x3f8, 10},      {0x3f9, 10},
    {0xffa, 12},      {0x1ff9, 13},     {0x15, 6},        {0xf8, 8},        {0x7fa, 11},
    {0x3fa, 10},      {0x3fb, 10},      {0xf9, 8},        {0x7fb, 11},      {0xfa, 8},
    {0x16, 6},        {0x17, 6},        {0x18, 6},        {0x0, 5},         {0x1, 5},
    {0x2, 5},         {0x19, 6},        {0x1a, 6},        {0x1b, 6},        {0x1c, 6},
    {0x1d, 6},        {0x1e, 6},        {0x1f, 6},        {0x5c, 7},        {0xfb, 8},
    {0x7ffc, 15},     {0x20, 6},        {0xffb, 12},      {0x3fc, 10},      {0x1ffa, 13},
    {0x21, 6},        {0x5d, 7},        {0x5e, 7},        {0x5f, 7},        {0x60, 7},
    {0x61, 7},        {0x62, 7},        {0x63, 7},        {0x64, 7},        {0x65, 7},
    {0x66, 7},        {0x67, 7},        {0x68, 7},        {0x69, 7},        {0x6a, 7},
    {0x6b, 7},        {0x6c, 7},        {0x6d, 7},        {0x6e, 7},        {0x6f, 7},
    {0x70, 7},        {0x71, 7},        {0x72, 7},        {0xfc, 8},        {0x73, 7},
    {0xfd, 8},        {0x1ffb, 13},     {0x7fff0, 19},    {0x1ffc, 13},     {0x3ffc, 14},
    {0x22, 6},        {0x7ffd, 15},     {0x3, 5},         {0x23, 6},        {0x4, 5},
    {0x24, 6},        {0x5, 5},         {0x25, 6},        {0x26, 6},        {0x27, 6},
    {0x6, 5},         {0x74, 7},        {0x75, 7},        {0x28, 6},        {0x29, 6},
    {0x2a, 6},        {0x7, 5},         {0x2b, 6},        {0x76, 7},        {0x2c, 6},
    {0x8, 5},         {0x9, 5},         {0x2d, 6},        {0x77, 7},        {0x78, 7},
    {0x79, 7},        {0x7a, 7},        {0x7b, 7},        {0x7ffe, 15},     {0x7fc, 11},
    {0x3ffd, 14},     {0x1ffd, 13},     {0xffffffc, 28},  {0xfffe6, 20},    {0x3fffd2, 22},
    {0xfffe7, 20},    {0xfffe8, 20},    {0x3fffd3, 22},   {0x3fffd4, 22},   {0x3fffd5, 22},
    {0x7fffd9, 23},   {0x3fffd6, 22},   {0x7fffda, 23},   {0x7fffdb, 23},   {0x7fffdc, 23},
    {0x7fffdd, 23},   {0x7fffde, 23},   {0xffffeb, 24},   {0x7fffdf, 23},   {0xffffec, 24},
    {0xffffed, 24},   {0x3fffd7, 22},   {0x7fffe0, 23},   {0xffffee, 24},   {0x7fffe1, 23},
    {0x7fffe2, 23},   {0x7fffe3, 23},   {0x7fffe4, 23},   {0x1fffdc, 21},   {0x3fffd8, 22},
    {0x7fffe5, 23},   {0x3fffd9, 22},   {0x7fffe6, 23},   {0x7fffe7, 23},   {0xffffef, 24},
    {0x3fffda, 22},   {0x1fffdd, 21},   {0xfffe9, 20},    {0x3fffdb, 22},   {0x3fffdc, 22},
    {0x7fffe8, 23},   {0x7fffe9, 23},   {0x1fffde, 21},   {0x7fffea, 23},   {0x3fffdd, 22},
    {0x3fffde, 22},   {0xfffff0, 24},   {0x1fffdf, 21},   {0x3fffdf, 22},   {0x7fffeb, 23},
    {0x7fffec, 23},   {0x1fffe0, 21},   {0x1fffe1, 21},   {0x3fffe0, 22},   {0x1fffe2, 21},
    {0x7fffed, 23},   {0x3fffe1, 22},   {0x7fffee, 23},   {0x7fffef, 23},   {0xfffea, 20},
    {0x3fffe2, 22},   {0x3fffe3, 22},   {0x3fffe4, 22},   {0x7ffff0, 23},   {0x3fffe5, 22},
    {0x3fffe6, 22},   {0x7ffff1, 23},   {0x3ffffe0, 26},  {0x3ffffe1, 26},  {0xfffeb, 20},
    {0x7fff1, 19},    {0x3fffe7, 22},   {0x7ffff2, 23},   {0x3fffe8, 22},   {0x1ffffec, 25},
    {0x3ffffe2, 26},  {0x3ffffe3, 26},  {0x3ffffe4, 26},  {0x7ffffde, 27},  {0x7ffffdf, 27},
    {0x3ffffe5, 26},  {0xfffff1, 24},   {0x1ffffed, 25},  {0x7fff2, 19},    {0x1fffe3, 21},
    {0x3ffffe6, 26},  {0x7ffffe0, 27},  {0x7ffffe1, 27},  {0x3ffffe7, 26},  {0x7ffffe2, 27},
    {0xfffff2, 24},   {0x1fffe4, 21},   {0x1fffe5, 21},   {0x3ffffe8, 26},  {0x3ffffe9, 26},
    {0xffffffd, 28},  {0x7ffffe3, 27},  {0x7ffffe4, 27},  {0x7ffffe5, 27},  {0xfffec, 20},
    {0xfffff3, 24},   {0xfffed, 20},    {0x1fffe6, 21},   {0x3fffe9, 22},   {0x1fffe7, 21},
    {0x1fffe8, 21},   {0x7ffff3, 23},   {0x3fffea, 22},   {0x3fffeb, 22},   {0x1ffffee, 25},
    {0x1ffffef, 25},  {0xfffff4, 24},   {0xfffff5, 24},   {0x3ffffea, 26},  {0x7ffff4, 23},
    {0x3ffffeb, 26},  {0x7ffffe6, 27},  {0x3ffffec, 26},  {0x3ffffed, 26},  {0x7ffffe7, 27},
    {0x7ffffe8, 27},  {0x7ffffe9, 27},  {0x7ffffea, 27},  {0x7ffffeb, 27},  {0xffffffe, 28},
    {0x7ffffec, 27},  {0x7ffffed, 27},  {0x7ffffee, 27},  {0x7ffffef, 27},  {0x7fffff0, 27},
    {0x3ffffee, 26},  {0x3fffffff, 30}, // EOS
};

// What an encoder sends: the codes of `text`, padded with ones to a whole octet.
QByteArray huffman(QByteArrayView text)
{
    QByteArray out;
    quint64 bits = 0;
    int pending = 0;
    for (const char c : text) {
        const HuffmanCode &code = RfcCodes[uchar(c)];
        bits = (bits << code.length) | code.code;
        pending += code.length;
        for (; pending >= 8; pending -= 8)
            out += char(bits >> (pending - 8));
    }
    if (pending > 0)
        out += char((bits << (8 - pending)) | ((1u << (8 - pending)) - 1));
    return out;
}

// RFC 7541 5.1: `value` with an N-bit prefix, the bits above the prefix set to `flags`.
QByteArray integer(uchar flags, int prefixBits, quint64 value)
{
    const quint64 prefixMax = (quint64(1) << prefixBits) - 1;
    QByteArray out;
    if (value < prefixMax)
        return out += char(flags | value);
    out += char(flags | prefixMax);
    for (value -= prefixMax; value >= 128; value >>= 7)
        out += char(0x80 | (value & 0x7f));
    return out += char(value);
}

// RFC 7541 5.2: a string literal, raw or Huffman-coded.
QByteArray string(QByteArrayView text, bool huffmanCoded = false)
{
    const QByteArray bytes = huffmanCoded ? huffman(text) : text.toByteArray();
    return integer(huffmanCoded ? 0x80 : 0, 7, quint64(bytes.size())) + bytes;
}

// A literal field with a new name: 0x40 with indexing, 0x00 without, 0x10 never indexed.
QByteArray literal(uchar kind, QByteArrayView name, QByteArrayView value)
{
    return char(kind) + string(name) + string(value);
}

QByteArray hex(const char *digits)
{
    return QByteArray::fromHex(digits); // skips the spaces
}

// "name: value" lines, to compare whole lists at once with a readable diff.
QByteArray text(const QList<QHpackDecoder::Field> &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields)
        out += name + ": " + value + '\n';
    return out;
}

// Decodes `block` on its own; "name: value" lines, or "error: ..." when it fails.
QByteArray decodeOne(QHpackDecoder *decoder, const QByteArray &block)
{
    QList<QHpackDecoder::Field> fields;
    if (!decoder->decode(block, &fields))
        return "error: " + decoder->errorString().toUtf8();
    return text(fields);
}

const QByteArray Date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const QByteArray Date2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const QByteArray Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

} // namespace

class tst_Hpack : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The test's own table is the RFC's: a complete prefix code (Kraft's sum exactly 1, no
    // code a prefix of another) with EOS all ones.
    void rfcTableIsACompletePrefixCode()
    {
        quint64 kraft = 0; // in units of 2^-30
        QList<std::pair<quint32, quint32>> ranges; // of 30-bit strings each code starts
        for (const HuffmanCode &code : RfcCodes) {
            QVERIFY(code.length >= 5 && code.length <= 30);
            QVERIFY(code.code < (quint32(1) << code.length));
            kraft += quint64(1) << (30 - code.length);
            const quint32 first = code.code << (30 - code.length);
            ranges.append({first, first + (quint32(1) << (30 - code.length))});
        }
        QCOMPARE(kraft, quint64(1) << 30);
        std::sort(ranges.begin(), ranges.end());
        for (qsizetype i = 1; i < ranges.size(); ++i)
            QVERIFY2(ranges[i - 1].second <= ranges[i].first, qPrintable(QString::number(i)));
        QCOMPARE(RfcCodes[256].code, 0x3fffffffu);
        QCOMPARE(RfcCodes[256].length, 30);
    }

    // The decoder's code, built from lengths alone, gives every octet the RFC's code.
    void everyOctetDecodes()
    {
        QByteArray all;
        for (int octet = 0; octet < 256; ++octet) {
            const QByteArray one(1, char(octet));
            QByteArray out("stale");
            QVERIFY2(QHpackDecoder::decodeHuffman(huffman(one), &out),
                     qPrintable(QString::number(octet)));
            QCOMPARE(out, one);
            all += one;
        }
        QByteArray out;
        QVERIFY(QHpackDecoder::decodeHuffman(huffman(all), &out));
        QCOMPARE(out, all);

        QRandomGenerator random(7541);
        for (int round = 0; round < 200; ++round) {
            QByteArray text(random.bounded(1, 64), Qt::Uninitialized);
            for (char &c : text)
                c = char(random.bounded(256));
            QVERIFY(QHpackDecoder::decodeHuffman(huffman(text), &out));
            QCOMPARE(out, text);
        }
    }

    void huffmanStrings_data()
    {
        QTest::addColumn<QByteArray>("encoded");
        QTest::addColumn<QByteArray>("decoded");
        // RFC 7541 C.4 and C.6.
        QTest::newRow("www.example.com")
            << hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff") << QByteArray("www.example.com");
        QTest::newRow("no-cache") << hex("a8eb 1064 9cbf") << QByteArray("no-cache");
        QTest::newRow("custom-key") << hex("25a8 49e9 5ba9 7d7f") << QByteArray("custom-key");
        QTest::newRow("custom-value")
            << hex("25a8 49e9 5bb8 e8b4 bf") << QByteArray("custom-value");
        QTest::newRow("302") << hex("6402") << QByteArray("302");
        QTest::newRow("307") << hex("640e ff") << QByteArray("307");
        QTest::newRow("private") << hex("aec3 771a 4b") << QByteArray("private");
        QTest::newRow("date") << hex("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff")
                              << Date1;
        QTest::newRow("location") << hex("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3")
                                  << QByteArray("https://www.example.com");
        QTest::newRow("empty") << QByteArray() << QByteArray();
        // '0' '0' ':' take 17 bits: the longest padding allowed, 7 bits.
        QTest::newRow("7 bits of padding") << hex("002e7f") << QByteArray("00:");
    }
    void huffmanStrings()
    {
        QFETCH(QByteArray, encoded);
        QFETCH(QByteArray, decoded);
        QByteArray out("stale");
        QVERIFY(QHpackDecoder::decodeHuffman(encoded, &out));
        QCOMPARE(out, decoded);
        // The test's encoder agrees with the RFC.
        QCOMPARE(huffman(decoded), encoded);
    }

    void huffmanRefused_data()
    {
        QTest::addColumn<QByteArray>("encoded");
        // 30 ones are EOS (then 2 bits of padding).
        QTest::newRow("EOS alone") << hex("ffff ffff");
        // 'a' (00011), EOS, 5 bits of padding.
        QTest::newRow("EOS after a symbol") << hex("1fff ffff ff");
        // 'a' then EOS then 'a': EOS anywhere is refused.
        QTest::newRow("EOS in the middle") << hex("1fff ffff e3");
        QTest::newRow("8 bits of padding alone") << hex("ff");
        QTest::newRow("11 bits of padding") << hex("1fff");
        QTest::newRow("15 bits of padding") << hex("002e7f ff");
        QTest::newRow("padding of zeros") << hex("18"); // 'a' 000
        QTest::newRow("padding with a zero") << hex("1b"); // 'a' 011
        QTest::newRow("a zero after 7 ones") << hex("fe");
    }
    void huffmanRefused()
    {
        QFETCH(QByteArray, encoded);
        QByteArray out;
        QVERIFY(!QHpackDecoder::decodeHuffman(encoded, &out));
    }

    void huffmanOutputBound()
    {
        const QByteArray encoded = huffman("www.example.com");
        QByteArray out;
        QVERIFY(QHpackDecoder::decodeHuffman(encoded, &out, 15));
        QCOMPARE(out, QByteArray("www.example.com"));
        QVERIFY(!QHpackDecoder::decodeHuffman(encoded, &out, 14));
        QVERIFY(!QHpackDecoder::decodeHuffman(encoded, &out, 0));
        QVERIFY(QHpackDecoder::decodeHuffman(QByteArrayView(), &out, 0));
        QVERIFY(out.isEmpty());
    }

    // RFC 7541 C.1 through the dynamic table size update (5-bit prefix), and indexes (7-bit
    // prefix) that name what they decoded to in the error.
    void integers_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<QString>("error"); // a part of it; empty: decodes
        QTest::addColumn<int>("capacity"); // after it, when it decodes

        QTest::newRow("C.1.1 10") << hex("2a") << QString() << 10;
        QTest::newRow("C.1.2 1337") << hex("3f9a0a") << QString() << 1337;
        QTest::newRow("30, one under the prefix") << hex("3e") << QString() << 30;
        QTest::newRow("31, the whole prefix") << hex("3f00") << QString() << 31;
        QTest::newRow("4096") << integer(0x20, 5, 4096) << QString() << 4096;
        QTest::newRow("127 with 4 padding octets")
            << hex("ff 80 80 80 80 00") << QStringLiteral("index 127 ") << 0;
        QTest::newRow("INT_MAX") << integer(0x80, 7, INT_MAX) << QStringLiteral("index 2147483647 ")
                                 << 0;
        QTest::newRow("INT_MAX + 1")
            << integer(0x80, 7, quint64(INT_MAX) + 1) << QStringLiteral("larger than") << 0;
        QTest::newRow("2^35") << hex("ff ff ff ff ff 0f") << QStringLiteral("larger than") << 0;
        QTest::newRow("6 continuation octets")
            << hex("ff 80 80 80 80 80 00") << QStringLiteral("continuation") << 0;
        QTest::newRow("endless") << QByteArray(char(0xff) + QByteArray(1000, char(0x80)))
                                 << QStringLiteral("continuation") << 0;
        QTest::newRow("truncated") << hex("ff 80") << QStringLiteral("inside an integer") << 0;
        QTest::newRow("truncated size update")
            << hex("3f") << QStringLiteral("inside an integer") << 0;
    }
    void integers()
    {
        QFETCH(QByteArray, block);
        QFETCH(QString, error);
        QFETCH(int, capacity);
        QCOMPARE(integer(0x20, 5, 1337), hex("3f9a0a")); // the test's encoder, RFC C.1.2

        QHpackDecoder decoder;
        QList<QHpackDecoder::Field> fields;
        QCOMPARE(decoder.decode(block, &fields), error.isEmpty());
        QVERIFY2(decoder.errorString().contains(error), qPrintable(decoder.errorString()));
        QCOMPARE(decoder.hasFailed(), !error.isEmpty());
        QVERIFY(fields.isEmpty());
        if (error.isEmpty())
            QCOMPARE(decoder.tableCapacity(), capacity);
    }

    // RFC 7541 C.2: one field each, on a fresh decoder.
    void literalExamples_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<QByteArray>("fields");
        QTest::addColumn<int>("tableSize");
        QTest::newRow("C.2.1 with indexing")
            << hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")
            << QByteArray("custom-key: custom-header\n") << 55;
        QTest::newRow("C.2.2 without indexing") << hex("040c 2f73 616d 706c 652f 7061 7468")
                                                << QByteArray(":path: /sample/path\n") << 0;
        QTest::newRow("C.2.3 never indexed") << hex("1008 7061 7373 776f 7264 0673 6563 7265 74")
                                             << QByteArray("password: secret\n") << 0;
        QTest::newRow("C.2.4 indexed") << hex("82") << QByteArray(":method: GET\n") << 0;
    }
    void literalExamples()
    {
        QFETCH(QByteArray, block);
        QFETCH(QByteArray, fields);
        QFETCH(int, tableSize);
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, block), fields);
        QCOMPARE(decoder.tableSize(), tableSize);
        QCOMPARE(decoder.tableEntries(), tableSize ? 1 : 0);
    }

    // RFC 7541 C.3 (raw) and C.4 (Huffman): three requests on one decoder.
    void requests_data()
    {
        QTest::addColumn<QByteArrayList>("blocks");
        QTest::newRow("C.3") << QByteArrayList {
            hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
            hex("8286 84be 5808 6e6f 2d63 6163 6865"),
            hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
        };
        QTest::newRow("C.4") << QByteArrayList {
            hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
            hex("8286 84be 5886 a8eb 1064 9cbf"),
            hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
        };
    }
    void requests()
    {
        QFETCH(QByteArrayList, blocks);
        const QByteArray first = ":method: GET\n:scheme: http\n:path: /\n"
                                 ":authority: www.example.com\n";
        const QByteArrayList expected = {
            first,
            first + "cache-control: no-cache\n",
            ":method: GET\n:scheme: https\n:path: /index.html\n:authority: www.example.com\n"
            "custom-key: custom-value\n",
        };
        const int sizes[] = {57, 110, 164};
        QHpackDecoder decoder;
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(decodeOne(&decoder, blocks[i]), expected[i]);
            QCOMPARE(decoder.tableSize(), sizes[i]);
            QCOMPARE(decoder.tableEntries(), i + 1);
        }
        // The dynamic table, newest first.
        QCOMPARE(decodeOne(&decoder, hex("be bf c0")),
                 QByteArray("custom-key: custom-value\ncache-control: no-cache\n"
                            ":authority: www.example.com\n"));
        QVERIFY(decodeOne(&decoder, hex("c1")).contains("index 65 is beyond"));
    }

    // RFC 7541 C.5 (raw) and C.6 (Huffman): three responses with a 256-octet table, which
    // evicts.
    void responses_data()
    {
        QTest::addColumn<QByteArrayList>("blocks");
        QTest::newRow("C.5") << QByteArrayList {
            hex("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
                "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
                "6c65 2e63 6f6d"),
            hex("4803 3330 37c1 c0bf"),
            hex("88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d"
                "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049"
                "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e"
                "3d31"),
        };
        QTest::newRow("C.6") << QByteArrayList {
            hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
                "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
            hex("4883 640e ffc1 c0bf"),
            hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab"
                "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
                "9587 3160 65c0 03ed 4ee5 b106 3d50 07"),
        };
    }
    void responses()
    {
        QFETCH(QByteArrayList, blocks);
        const QByteArray rest
            = "cache-control: private\ndate: " + Date1 + "\nlocation: https://www.example.com\n";
        const QByteArrayList expected = {
            ":status: 302\n" + rest,
            ":status: 307\n" + rest,
            ":status: 200\ncache-control: private\ndate: " + Date2
                + "\nlocation: https://www.example.com\ncontent-encoding: gzip\nset-cookie: "
                + Cookie + '\n',
        };
        const int sizes[] = {222, 222, 215};
        const int entries[] = {4, 4, 3};
        QHpackDecoder decoder(256);
        QCOMPARE(decoder.tableCapacity(), 256);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(decodeOne(&decoder, blocks[i]), expected[i]);
            QCOMPARE(decoder.tableSize(), sizes[i]);
            QCOMPARE(decoder.tableEntries(), entries[i]);
        }
        QCOMPARE(decodeOne(&decoder, hex("be bf c0")),
                 QByteArray("set-cookie: " + Cookie + "\ncontent-encoding: gzip\ndate: " + Date2
                            + '\n'));
        QVERIFY(decodeOne(&decoder, hex("c1")).contains("index 65 is beyond"));
    }

    void staticTable_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<QByteArray>("field");
        QTest::newRow("1") << 1 << QByteArray(":authority: ");
        QTest::newRow("3") << 3 << QByteArray(":method: POST");
        QTest::newRow("5") << 5 << QByteArray(":path: /index.html");
        QTest::newRow("9") << 9 << QByteArray(":status: 204");
        QTest::newRow("14") << 14 << QByteArray(":status: 500");
        QTest::newRow("16") << 16 << QByteArray("accept-encoding: gzip, deflate");
        QTest::newRow("19") << 19 << QByteArray("accept: ");
        QTest::newRow("20") << 20 << QByteArray("access-control-allow-origin: ");
        QTest::newRow("32") << 32 << QByteArray("cookie: ");
        QTest::newRow("40") << 40 << QByteArray("if-modified-since: ");
        QTest::newRow("47") << 47 << QByteArray("max-forwards: ");
        QTest::newRow("55") << 55 << QByteArray("set-cookie: ");
        QTest::newRow("56") << 56 << QByteArray("strict-transport-security: ");
        QTest::newRow("61") << 61 << QByteArray("www-authenticate: ");
    }
    void staticTable()
    {
        QFETCH(int, index);
        QFETCH(QByteArray, field);
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, integer(0x80, 7, quint64(index))), QByteArray(field + '\n'));
    }

    // All 61 entries: lowercase names, no entry twice, and nothing past them.
    void staticTableWhole()
    {
        QByteArray block;
        for (int index = 1; index <= 61; ++index)
            block += integer(0x80, 7, quint64(index));
        QHpackDecoder decoder;
        QList<QHpackDecoder::Field> fields;
        QVERIFY2(decoder.decode(block, &fields), qPrintable(decoder.errorString()));
        QCOMPARE(fields.size(), 61);
        for (const auto &[name, value] : fields) {
            QVERIFY(!name.isEmpty());
            QCOMPARE(name.toLower(), name);
        }
        auto sorted = fields;
        std::sort(sorted.begin(), sorted.end());
        QVERIFY(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
        QCOMPARE(decoder.tableEntries(), 0);
        QVERIFY(decodeOne(&decoder, hex("be")).contains("index 62 is beyond"));
    }

    // Every literal form with a new name and with an indexed one (static or dynamic); only
    // incremental indexing adds to the table.
    void literalForms_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<bool>("indexed");
        QTest::newRow("indexing, new name")
            << literal(0x40, "x-a", "1") << QByteArray("x-a: 1") << true;
        QTest::newRow("indexing, static name")
            << QByteArray("\x41" + string("h")) << QByteArray(":authority: h") << true;
        QTest::newRow("indexing, dynamic name")
            << QByteArray("\x7e" + string("2")) << QByteArray("x-first: 2") << true;
        QTest::newRow("without, new name")
            << literal(0x00, "x-b", "2") << QByteArray("x-b: 2") << false;
        QTest::newRow("without, static name")
            << QByteArray("\x04" + string("/a")) << QByteArray(":path: /a") << false;
        QTest::newRow("without, dynamic name")
            << QByteArray(integer(0x00, 4, 62) + string("3")) << QByteArray("x-first: 3") << false;
        QTest::newRow("never, new name")
            << literal(0x10, "x-c", "3") << QByteArray("x-c: 3") << false;
        QTest::newRow("never, static name")
            << QByteArray("\x1f\x10" + string("5")) << QByteArray("content-type: 5") << false;
        QTest::newRow("never, dynamic name")
            << QByteArray(integer(0x10, 4, 62) + string("4")) << QByteArray("x-first: 4") << false;
        QTest::newRow("Huffman name and value")
            << QByteArray('\0' + string("x-huff", true) + string("v", true))
            << QByteArray("x-huff: v") << false;
        // HTTP/2 wants lowercase names; refusing them is the caller's decision.
        QTest::newRow("uppercase name")
            << literal(0x00, "X-Upper", "V") << QByteArray("X-Upper: V") << false;
        QTest::newRow("empty name and value") << literal(0x40, "", "") << QByteArray(": ") << true;
    }
    void literalForms()
    {
        QFETCH(QByteArray, block);
        QFETCH(QByteArray, field);
        QFETCH(bool, indexed);
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, literal(0x40, "x-first", "1")), QByteArray("x-first: 1\n"));
        QCOMPARE(decoder.tableSize(), 7 + 1 + 32);
        QCOMPARE(decodeOne(&decoder, block), QByteArray(field + '\n'));
        QCOMPARE(decoder.tableEntries(), indexed ? 2 : 1);
        if (indexed)
            QCOMPARE(decodeOne(&decoder, hex("be")), QByteArray(field + '\n'));
    }

    void tableSizeUpdates()
    {
        QHpackDecoder decoder(256);
        // Each 40 octets in the table.
        const QByteArray a = literal(0x40, "a", "1234567"), b = literal(0x40, "b", "1234567"),
                         c = literal(0x40, "c", "1234567");
        QCOMPARE(decodeOne(&decoder, a + b + c),
                 QByteArray("a: 1234567\nb: 1234567\nc: 1234567\n"));
        QCOMPARE(decoder.tableSize(), 120);
        // Down to 80: the oldest goes.
        QCOMPARE(decodeOne(&decoder, integer(0x20, 5, 80) + hex("be bf")),
                 QByteArray("c: 1234567\nb: 1234567\n"));
        QCOMPARE(decoder.tableCapacity(), 80);
        QCOMPARE(decoder.tableEntries(), 2);
        QCOMPARE(decoder.tableSize(), 80);
        QVERIFY(decodeOne(&decoder, hex("c0")).contains("beyond"));
        decoder = QHpackDecoder(256);
        QCOMPARE(decodeOne(&decoder, a + b), QByteArray("a: 1234567\nb: 1234567\n"));
        // A new entry evicts the oldest to fit under the new maximum.
        QCOMPARE(decodeOne(&decoder, integer(0x20, 5, 80) + c), QByteArray("c: 1234567\n"));
        QCOMPARE(decodeOne(&decoder, hex("be bf")), QByteArray("c: 1234567\nb: 1234567\n"));
        // Two updates at the start of a block (0, then back up): the table empties.
        QCOMPARE(decodeOne(&decoder, hex("20") + integer(0x20, 5, 256) + hex("82")),
                 QByteArray(":method: GET\n"));
        QCOMPARE(decoder.tableEntries(), 0);
        QCOMPARE(decoder.tableSize(), 0);
        QCOMPARE(decoder.tableCapacity(), 256);
        // An update alone is a valid block.
        QCOMPARE(decodeOne(&decoder, integer(0x20, 5, 100)), QByteArray());
        QCOMPARE(decoder.tableCapacity(), 100);
        QVERIFY(!decoder.hasFailed());
    }

    void tableSizeUpdateRefused_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<QString>("error");
        QTest::newRow("above the maximum")
            << integer(0x20, 5, 4097) << QStringLiteral("to 4097, above the maximum 4096");
        QTest::newRow("far above") << integer(0x20, 5, INT_MAX) << QStringLiteral("above");
        QTest::newRow("after a field") << hex("82 20") << QStringLiteral("after a field");
        QTest::newRow("after a literal")
            << QByteArray(literal(0x00, "a", "b") + integer(0x20, 5, 4096))
            << QStringLiteral("after a field");
        QTest::newRow("at the end") << hex("20 82 3f e1 1f") << QStringLiteral("after a field");
    }
    void tableSizeUpdateRefused()
    {
        QFETCH(QByteArray, block);
        QFETCH(QString, error);
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, integer(0x20, 5, 4096)), QByteArray()); // the maximum: fine
        QList<QHpackDecoder::Field> fields;
        QVERIFY(!decoder.decode(block, &fields));
        QVERIFY(fields.isEmpty());
        QVERIFY2(decoder.errorString().contains(error), qPrintable(decoder.errorString()));
    }

    // RFC 7541 4.4: an entry larger than the table empties it and is not added.
    void entryLargerThanTheTable()
    {
        QHpackDecoder decoder(256);
        QCOMPARE(decodeOne(&decoder, literal(0x40, "a", "1")), QByteArray("a: 1\n"));
        QCOMPARE(decoder.tableEntries(), 1);
        // 1 + 224 + 32 = 257 octets.
        const QByteArray big(224, 'v');
        QCOMPARE(decodeOne(&decoder, literal(0x40, "b", big)), QByteArray("b: " + big + '\n'));
        QCOMPARE(decoder.tableEntries(), 0);
        QCOMPARE(decoder.tableSize(), 0);
        QVERIFY(!decoder.hasFailed());
        // 256 octets exactly fit.
        const QByteArray fits(223, 'v');
        QCOMPARE(
            decodeOne(&decoder, literal(0x40, "c", "1") + literal(0x40, "d", fits) + hex("be")),
            QByteArray("c: 1\nd: " + fits + "\nd: " + fits + '\n'));
        QCOMPARE(decoder.tableEntries(), 1);
        QCOMPARE(decoder.tableSize(), 256);
        // With a table of 0, nothing is ever added.
        QHpackDecoder none(0);
        QCOMPARE(decodeOne(&none, literal(0x40, "", "")), QByteArray(": \n"));
        QCOMPARE(none.tableEntries(), 0);
        QVERIFY(decodeOne(&none, integer(0x20, 5, 1)).contains("above the maximum 0"));
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<QString>("error");
        QTest::newRow("index 0") << hex("80") << QStringLiteral("index 0");
        QTest::newRow("index 62, empty table") << hex("be") << QStringLiteral("index 62 is beyond");
        QTest::newRow("index 62 after a field") << hex("82 be") << QStringLiteral("index 62");
        QTest::newRow("literal name index 62")
            << QByteArray(hex("7e") + string("v")) << QStringLiteral("index 62");
        QTest::newRow("literal name index 1000")
            << QByteArray(integer(0x00, 4, 1000) + string("v")) << QStringLiteral("index 1000");
        QTest::newRow("no name") << hex("40") << QStringLiteral("before a string");
        QTest::newRow("no value") << hex("41") << QStringLiteral("before a string");
        QTest::newRow("no value after a name")
            << QByteArray(hex("00") + string("name")) << QStringLiteral("before a string");
        QTest::newRow("short name") << hex("400a 6375") << QStringLiteral("past the end");
        QTest::newRow("short value")
            << QByteArray(hex("04") + string("/abc").chopped(1)) << QStringLiteral("past the end");
        QTest::newRow("string length overflows")
            << QByteArray(hex("04") + integer(0, 7, quint64(1) << 33))
            << QStringLiteral("larger than");
        QTest::newRow("EOS in a name") << hex("00 84 ffff ffff 01 61") << QStringLiteral("EOS");
        QTest::newRow("bad padding in a value") << hex("04 81 18") << QStringLiteral("padding");
        QTest::newRow("a whole octet of padding") << hex("04 82 1fff") << QStringLiteral("padding");
    }
    void malformed()
    {
        QFETCH(QByteArray, block);
        QFETCH(QString, error);
        QHpackDecoder decoder;
        QList<QHpackDecoder::Field> fields = {{"kept", "as it was"}};
        QVERIFY(!decoder.decode(block, &fields));
        QVERIFY(decoder.hasFailed());
        QCOMPARE(text(fields), QByteArray("kept: as it was\n"));
        QVERIFY2(decoder.errorString().contains(error), qPrintable(decoder.errorString()));
        QVERIFY(decoder.errorString().size() < 120);
    }

    void bounds()
    {
        const int max = QHpackDecoder::MaxStringBytes;
        const QByteArray longest(max, 'S');
        const QByteArray over(max + 1, 'S');
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, literal(0x00, "n", longest)),
                 QByteArray("n: " + longest + '\n'));
        QCOMPARE(decodeOne(&decoder, literal(0x00, longest, "v")), QByteArray(longest + ": v\n"));
        QCOMPARE(decodeOne(&decoder, '\0' + string("n") + string(longest, true)),
                 QByteArray("n: " + longest + '\n'));
        QVERIFY(!decoder.hasFailed());

        const QByteArrayList refused = {
            literal(0x00, "n", over),
            literal(0x00, over, "v"),
            '\0' + string("n") + string(over, true),
            '\0' + string(over, true) + string("v"),
        };
        for (const QByteArray &block : refused) {
            QHpackDecoder fresh;
            const QByteArray result = decodeOne(&fresh, block);
            QVERIFY2(result.contains("longer than 16384 octets"), result.constData());
            QVERIFY(!result.contains("SSSS"));
        }
    }

    void fieldCount()
    {
        QHpackDecoder decoder;
        QList<QHpackDecoder::Field> fields;
        QVERIFY(decoder.decode(QByteArray(QHpackDecoder::MaxFields, char(0x82)), &fields));
        QCOMPARE(fields.size(), QHpackDecoder::MaxFields);
        // The bound is per block: a second block starts again.
        QVERIFY(decoder.decode(QByteArray(QHpackDecoder::MaxFields, char(0x82)), &fields));
        QCOMPARE(fields.size(), 2 * QHpackDecoder::MaxFields);
        QVERIFY(!decoder.decode(QByteArray(QHpackDecoder::MaxFields + 1, char(0x82)), &fields));
        QCOMPARE(fields.size(), 2 * QHpackDecoder::MaxFields);
        QVERIFY2(decoder.errorString().contains(QStringLiteral("more than 200 fields")),
                 qPrintable(decoder.errorString()));
        // Size updates are not fields.
        QHpackDecoder updates;
        fields.clear();
        QVERIFY(updates.decode(
            QByteArray(QByteArray(300, char(0x20)) + QByteArray(200, char(0x82))), &fields));
        QCOMPARE(fields.size(), 200);
    }

    // One-octet references to a large entry expand; the block's decoded size is bounded.
    void blockSize()
    {
        const QByteArray value(4000, 'v'); // 4001 octets per field
        QHpackDecoder decoder;
        QList<QHpackDecoder::Field> fields;
        // 16 fields: 64016 octets.
        QVERIFY(decoder.decode(QByteArray(literal(0x40, "x", value) + QByteArray(15, char(0xbe))),
                               &fields));
        QCOMPARE(fields.size(), 16);
        QVERIFY(decoder.decode(QByteArray(16, char(0xbe)), &fields));
        // 17: 68017 octets.
        QVERIFY(!decoder.decode(QByteArray(17, char(0xbe)), &fields));
        QCOMPARE(fields.size(), 32);
        QVERIFY2(decoder.errorString().contains(QStringLiteral("more than 65536 octets")),
                 qPrintable(decoder.errorString()));
    }

    void failedStaysFailed()
    {
        QHpackDecoder decoder;
        QCOMPARE(decodeOne(&decoder, hex("82")), QByteArray(":method: GET\n"));
        QVERIFY(!decoder.hasFailed());
        QVERIFY(decoder.errorString().isEmpty());
        QCOMPARE(decodeOne(&decoder, QByteArray()), QByteArray()); // an empty block is fine

        QList<QHpackDecoder::Field> fields;
        QVERIFY(!decoder.decode(hex("80"), &fields));
        const QString error = decoder.errorString();
        QVERIFY(error.contains(QStringLiteral("index 0")));
        for (const QByteArray &block : {hex("82"), QByteArray(), hex("ff ff ff ff ff 0f")}) {
            QVERIFY(!decoder.decode(block, &fields));
            QVERIFY(fields.isEmpty());
            QVERIFY(decoder.hasFailed());
            QCOMPARE(decoder.errorString(), error); // the first cause stays
        }
    }
};

QTEST_APPLESS_MAIN(tst_Hpack)
#include "tst_hpack.moc"
