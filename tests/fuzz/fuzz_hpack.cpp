// The HPACK decoder on arbitrary bytes, split into header blocks that one decoder reads in
// sequence, as from one connection, and the Huffman decoder on the same bytes. Each result must
// keep its promises, not only not crash: fields and blocks within the bounds, the dynamic table
// within its maximum, a failure that says why in a few words, leaves the fields as they were
// and lasts.
//
// Input: one octet choosing the table maximum, one choosing the Huffman output bound, then
// blocks, each after an octet with its length (255: the rest of the input).

#include "fuzzpromise.h"
#include "qhpackdecoder_p.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void checkTable(const QHpackDecoder &decoder, int maxTableSize)
{
    check(decoder.tableCapacity() >= 0 && decoder.tableCapacity() <= maxTableSize,
          "the table's maximum is within the constructor's");
    check(decoder.tableSize() >= 0 && decoder.tableSize() <= decoder.tableCapacity(),
          "the table is within its maximum");
    // 32 octets of overhead per entry (RFC 7541 4.1).
    check(qint64(decoder.tableEntries()) * 32 <= decoder.tableSize(), "entries are counted");
    check((decoder.tableEntries() == 0) == (decoder.tableSize() == 0),
          "an empty table is 0 octets");
}

void checkHuffman(QByteArrayView in, qsizetype maxOut)
{
    QByteArray out;
    const bool ok = QHpackDecoder::decodeHuffman(in, &out, maxOut);
    if (!ok)
        return;
    check(out.size() <= maxOut, "Huffman output within its bound");
    // Codes take 5 to 30 bits, and the padding less than 8.
    check(out.size() * 5 <= in.size() * 8, "at most one octet per 5 bits");
    check(out.size() * 30 + 7 >= in.size() * 8, "at least one octet per 30 bits");
    // The same string whatever the bound, as long as it fits.
    QByteArray again("stale");
    check(QHpackDecoder::decodeHuffman(in, &again, out.size()), "decodes at its exact size");
    check(again == out, "the same output with another bound");
    if (!out.isEmpty())
        check(!QHpackDecoder::decodeHuffman(in, &again, out.size() - 1), "one octet short fails");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static constexpr int TableSizes[] = {0, 64, 256, 4096};
    const int maxTableSize = TableSizes[data[0] % 4];
    const qsizetype maxHuffman = data[1] % 4 == 0 ? QHpackDecoder::MaxStringBytes : data[1];
    const QByteArrayView input(reinterpret_cast<const char *>(data + 2), qsizetype(size - 2));

    checkHuffman(input, maxHuffman);

    QHpackDecoder decoder(maxTableSize);
    check(decoder.tableCapacity() == maxTableSize, "starts at the constructor's maximum");
    checkTable(decoder, maxTableSize);
    QString firstError;
    QList<QHpackDecoder::Field> fields = {{"kept", "as it was"}};
    qsizetype pos = 0;
    while (pos < input.size()) {
        const int length = uchar(input[pos++]);
        const qsizetype n
            = length == 255 ? input.size() - pos : qMin<qsizetype>(length, input.size() - pos);
        const QByteArrayView block = input.sliced(pos, n);
        pos += n;

        const bool failedBefore = decoder.hasFailed();
        const bool ok = decoder.decode(block, &fields);
        check(fields.first() == QHpackDecoder::Field("kept", "as it was"), "earlier fields kept");
        if (ok) {
            check(!failedBefore, "a failed decoder stays failed");
            check(!decoder.hasFailed() && decoder.errorString().isEmpty(),
                  "success is not failure");
            check(fields.size() - 1 <= QHpackDecoder::MaxFields, "field count bounded");
            qsizetype bytes = 0;
            for (qsizetype i = 1; i < fields.size(); ++i) {
                const auto &[name, value] = fields.at(i);
                check(name.size() <= QHpackDecoder::MaxStringBytes, "name bounded");
                check(value.size() <= QHpackDecoder::MaxStringBytes, "value bounded");
                bytes += name.size() + value.size();
            }
            check(bytes <= QHpackDecoder::MaxBlockBytes, "block bounded");
        } else {
            check(decoder.hasFailed(), "a refused block fails the decoder");
            check(fields.size() == 1, "a refused block adds no field");
            const QString error = decoder.errorString();
            check(!error.isEmpty(), "a failure says why");
            check(error.size() < 200, "the message is short");
            if (failedBefore)
                check(error == firstError, "the first cause stays");
            firstError = error;
        }
        checkTable(decoder, maxTableSize);
        fields.resize(1);
    }
    return 0;
}
