#include "qhpackdecoder_p.h"

#include <climits>
#include <cstring>
#include <iterator>

// The names below carry an Hpack prefix: unity builds put this file's anonymous namespace
// together with other files' in one translation unit.
namespace {

struct HpackStaticEntry
{
    const char *name;
    const char *value;
};

// RFC 7541 Appendix A; index 1 is the first entry.
constexpr HpackStaticEntry HpackStaticTable[] = {
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};
constexpr int HpackStaticEntries = int(std::size(HpackStaticTable));
static_assert(HpackStaticEntries == 61);

constexpr int HpackEos = 256;
constexpr int HpackMaxCodeLength = 30;

// RFC 7541 Appendix B: the code length of every octet, then of EOS. The RFC's code is
// canonical (the codes of one length count up in symbol order, and each length starts where
// the shorter ones ended, shifted left), so these lengths determine every code; the tests
// check the codes they give against the RFC's.
constexpr quint8 HpackHuffmanLengths[HpackEos + 1] = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
    6,  10, 10, 12, 13, 6,  8,  11, 10, 10, 8,  11, 8,  6,  6,  6, // 0x20
    5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8,  15, 6,  12, 10, // 0x30
    13, 6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, // 0x40
    7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8,  13, 19, 13, 14, 6, // 0x50
    15, 5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, // 0x60
    6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7,  15, 11, 14, 13, 28, // 0x70
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
    30, // EOS
};

// The canonical decoding tables: a code of `length` bits is `first[length] + i` for the i-th
// symbol of that length, i < count[length].
struct HpackCanonicalCode
{
    quint32 first[HpackMaxCodeLength + 1] = {};
    quint16 count[HpackMaxCodeLength + 1] = {};
    quint16 start[HpackMaxCodeLength + 1] = {}; // of that length's symbols in `symbols`
    quint16 symbols[HpackEos + 1] = {}; // by length, then value
    bool complete = false; // Kraft's sum is exactly 1: every 30 bits start with a code
};

constexpr HpackCanonicalCode makeHpackCanonicalCode()
{
    HpackCanonicalCode c;
    for (const quint8 length : HpackHuffmanLengths)
        ++c.count[length];
    quint32 code = 0;
    int next = 0;
    for (int length = 1; length <= HpackMaxCodeLength; ++length) {
        c.first[length] = code;
        c.start[length] = quint16(next);
        next += c.count[length];
        code = (code + c.count[length]) << 1;
    }
    c.complete = c.count[0] == 0 && code == quint32(1) << (HpackMaxCodeLength + 1);
    int placed[HpackMaxCodeLength + 1] = {};
    for (int symbol = 0; symbol <= HpackEos; ++symbol) {
        const int length = HpackHuffmanLengths[symbol];
        c.symbols[c.start[length] + placed[length]++] = quint16(symbol);
    }
    return c;
}

constexpr HpackCanonicalCode HpackHuffman = makeHpackCanonicalCode();
// A complete code is what keeps the decoder below within 30 bits per symbol.
static_assert(HpackHuffman.complete, "the Huffman code lengths do not form a complete code");

enum class HpackHuffmanResult { Ok, Eos, Padding, TooLong };

HpackHuffmanResult hpackHuffmanDecode(QByteArrayView in, QByteArray *out, qsizetype maxOut)
{
    out->clear();
    // Every symbol takes at least 5 bits.
    out->reserve(qBound<qsizetype>(0, in.size() * 8 / 5, maxOut));
    quint32 code = 0;
    int length = 0;
    for (const char byte : in) {
        for (int bit = 7; bit >= 0; --bit) {
            code = (code << 1) | ((uchar(byte) >> bit) & 1);
            ++length;
            // Unsigned: a code below first[length] wraps around and fails the test too.
            const quint32 offset = code - HpackHuffman.first[length];
            if (offset >= HpackHuffman.count[length])
                continue;
            const int symbol = HpackHuffman.symbols[HpackHuffman.start[length] + offset];
            if (symbol == HpackEos)
                return HpackHuffmanResult::Eos;
            if (out->size() >= maxOut)
                return HpackHuffmanResult::TooLong;
            out->append(char(symbol));
            code = 0;
            length = 0;
        }
    }
    // The last octet is filled with the high bits of EOS (all ones); a whole octet or more of
    // them, or anything else, is an encoder error the RFC says to treat as one (5.2).
    if (length > 7 || code != (quint32(1) << length) - 1)
        return HpackHuffmanResult::Padding;
    return HpackHuffmanResult::Ok;
}

constexpr int hpackEntrySize(qsizetype nameSize, qsizetype valueSize)
{
    // RFC 7541 4.1: the 32 octets stand for an entry's overhead in the peer's encoder.
    return int(nameSize + valueSize + 32);
}

} // namespace

struct QHpackDecoder::Reader
{
    QByteArrayView data;
    qsizetype pos = 0;

    bool atEnd() const { return pos >= data.size(); }
    qsizetype remaining() const { return data.size() - pos; }
    uchar peek() const { return uchar(data[pos]); }
    uchar next() { return uchar(data[pos++]); }
};

QHpackDecoder::QHpackDecoder(int maxTableSize)
    : m_capacity(qMax(0, maxTableSize))
    , m_maxCapacity(qMax(0, maxTableSize))
{ }

bool QHpackDecoder::decodeHuffman(QByteArrayView in, QByteArray *out, qsizetype maxOut)
{
    return hpackHuffmanDecode(in, out, qMax<qsizetype>(0, maxOut)) == HpackHuffmanResult::Ok;
}

bool QHpackDecoder::fail(const QString &message)
{
    if (!m_failed) {
        m_failed = true;
        m_error = QStringLiteral("HPACK: ") + message;
    }
    return false;
}

bool QHpackDecoder::readInteger(Reader *in, int prefixBits, int *value)
{
    // RFC 7541 5.1. The caller has seen the first octet.
    const quint32 prefixMax = (quint32(1) << prefixBits) - 1;
    quint64 result = in->next() & prefixMax;
    if (result < prefixMax) {
        *value = int(result);
        return true;
    }
    // Five continuation octets carry 35 bits, enough for any int; a sixth could only be
    // padding (0x80 ...) that makes the peer's integer arbitrarily long to read.
    for (int shift = 0; shift <= 28; shift += 7) {
        if (in->atEnd())
            return fail(QStringLiteral("the block ends inside an integer"));
        const uchar octet = in->next();
        result += quint64(octet & 0x7f) << shift;
        if (!(octet & 0x80)) {
            if (result > quint64(INT_MAX))
                return fail(QStringLiteral("an integer is larger than %1").arg(INT_MAX));
            *value = int(result);
            return true;
        }
    }
    return fail(QStringLiteral("an integer has more than 5 continuation octets"));
}

bool QHpackDecoder::readString(Reader *in, QByteArray *out)
{
    // RFC 7541 5.2.
    if (in->atEnd())
        return fail(QStringLiteral("the block ends before a string"));
    const bool huffman = in->peek() & 0x80;
    int length = 0;
    if (!readInteger(in, 7, &length))
        return false;
    if (length > in->remaining())
        return fail(QStringLiteral("a string of %1 octets runs past the end of the block (%2 left)")
                        .arg(length)
                        .arg(in->remaining()));
    const QByteArrayView bytes = in->data.sliced(in->pos, length);
    in->pos += length;
    if (!huffman) {
        if (length > MaxStringBytes)
            return fail(QStringLiteral("a string is longer than %1 octets").arg(MaxStringBytes));
        *out = bytes.toByteArray();
        return true;
    }
    switch (hpackHuffmanDecode(bytes, out, MaxStringBytes)) {
    case HpackHuffmanResult::Ok:
        return true;
    case HpackHuffmanResult::Eos:
        return fail(QStringLiteral("EOS inside a Huffman-coded string"));
    case HpackHuffmanResult::Padding:
        return fail(QStringLiteral("a Huffman-coded string ends in invalid padding"));
    case HpackHuffmanResult::TooLong:
        break;
    }
    return fail(QStringLiteral("a Huffman-coded string is longer than %1 octets decoded")
                    .arg(MaxStringBytes));
}

bool QHpackDecoder::lookup(int index, Field *field)
{
    // RFC 7541 2.3.3: the static table, then the dynamic one from its newest entry.
    if (index <= 0)
        return fail(QStringLiteral("index 0"));
    if (index <= HpackStaticEntries) {
        const HpackStaticEntry &entry = HpackStaticTable[index - 1];
        // The static strings outlive every field: no copy.
        field->first = QByteArray::fromRawData(entry.name, qsizetype(std::strlen(entry.name)));
        field->second = QByteArray::fromRawData(entry.value, qsizetype(std::strlen(entry.value)));
        return true;
    }
    const qsizetype dynamicIndex = qsizetype(index) - HpackStaticEntries;
    if (dynamicIndex > m_table.size())
        return fail(QStringLiteral("index %1 is beyond the tables (%2 static and %3 dynamic "
                                   "entries)")
                        .arg(index)
                        .arg(HpackStaticEntries)
                        .arg(m_table.size()));
    *field = m_table.at(m_table.size() - dynamicIndex);
    return true;
}

void QHpackDecoder::evictTo(int size)
{
    while (m_tableSize > size) {
        const Field &oldest = m_table.constFirst();
        m_tableSize -= hpackEntrySize(oldest.first.size(), oldest.second.size());
        m_table.removeFirst();
    }
}

void QHpackDecoder::insert(Field field)
{
    // RFC 7541 4.4: evict from the oldest until the new entry fits; one larger than the whole
    // table leaves it empty, which is not an error.
    const int size = hpackEntrySize(field.first.size(), field.second.size());
    if (size > m_capacity) {
        evictTo(0);
        return;
    }
    evictTo(m_capacity - size);
    m_table.append(std::move(field));
    m_tableSize += size;
}

bool QHpackDecoder::decode(QByteArrayView block, QList<Field> *fields)
{
    Q_ASSERT(fields);
    if (m_failed)
        return false;
    const qsizetype fieldsBefore = fields->size();
    const auto failed = [&] {
        fields->resize(fieldsBefore);
        return false;
    };

    Reader in {block};
    int count = 0;
    qsizetype decodedBytes = 0;
    while (!in.atEnd()) {
        const uchar first = in.peek();
        Field field;
        if (first & 0x80) {
            // 6.1 Indexed Header Field.
            int index = 0;
            if (!readInteger(&in, 7, &index) || !lookup(index, &field))
                return failed();
        } else if ((first & 0xe0) == 0x20) {
            // 6.3 Dynamic Table Size Update: only before the first field (4.2); several in a
            // row are allowed (the encoder may signal a smaller size, then the final one).
            int capacity = 0;
            if (count > 0) {
                fail(QStringLiteral("a dynamic table size update after a field"));
                return failed();
            }
            if (!readInteger(&in, 5, &capacity))
                return failed();
            if (capacity > m_maxCapacity) {
                fail(QStringLiteral("a dynamic table size update to %1, above the maximum %2")
                         .arg(capacity)
                         .arg(m_maxCapacity));
                return failed();
            }
            m_capacity = capacity;
            evictTo(capacity);
            continue;
        } else {
            // 6.2 Literal Header Field: with incremental indexing (01, 6-bit index), without
            // indexing (0000) or never indexed (0001, 4-bit index). Never indexed only matters
            // to an intermediary that re-encodes, which we are not.
            const bool indexing = first & 0x40;
            int nameIndex = 0;
            if (!readInteger(&in, indexing ? 6 : 4, &nameIndex))
                return failed();
            if (nameIndex == 0 ? !readString(&in, &field.first) : !lookup(nameIndex, &field))
                return failed();
            if (!readString(&in, &field.second))
                return failed();
            if (indexing)
                insert(field);
        }
        if (++count > MaxFields) {
            fail(QStringLiteral("more than %1 fields in one block").arg(MaxFields));
            return failed();
        }
        // Indexed fields cost the peer one octet each but can repeat a 4 KiB entry: the bound
        // is on what they expand to.
        decodedBytes += field.first.size() + field.second.size();
        if (decodedBytes > MaxBlockBytes) {
            fail(QStringLiteral("a block decodes to more than %1 octets").arg(MaxBlockBytes));
            return failed();
        }
        fields->append(std::move(field));
    }
    return true;
}
