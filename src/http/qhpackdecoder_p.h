#ifndef QHPACKDECODER_P_H
#define QHPACKDECODER_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <utility>

// Decodes HTTP/2 header blocks (HPACK, RFC 7541) from a peer that may be hostile: every
// integer, string, field count and the decoded size of a block is bounded, an index outside
// the tables or a truncated block fails, and nothing the peer sends makes the decoder hold
// more than its dynamic table (at most the maximum given to the constructor) plus one block.
// One decoder per connection and direction: the dynamic table carries over from one block to
// the next, so blocks must be decoded in the order they arrived, each exactly once.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHpackDecoder
{
public:
    using Field = std::pair<QByteArray, QByteArray>;
    static constexpr int DefaultTableSize = 4096; // SETTINGS_HEADER_TABLE_SIZE we never change
    static constexpr int MaxStringBytes = 16 * 1024; // one name or value, decoded
    static constexpr int MaxBlockBytes = 64 * 1024; // names+values of one block, decoded
    static constexpr int MaxFields = 200; // fields in one block

    explicit QHpackDecoder(int maxTableSize = DefaultTableSize);

    // Decodes one complete header block (after HEADERS/CONTINUATION are joined),
    // appending its fields in order to *fields. false: malformed or over a bound,
    // errorString() says why (short, quoting nothing long from the input), and *fields is
    // left as it was. A failed decoder stays failed (its dynamic table is no longer in step
    // with the peer's): every later decode() returns false.
    bool decode(QByteArrayView block, QList<Field> *fields);
    bool hasFailed() const { return m_failed; }
    QString errorString() const { return m_error; }

    // The dynamic table, for tests: its size in octets (RFC 7541 4.1: name + value + 32 per
    // entry), its entry count, and its current maximum.
    int tableSize() const { return m_tableSize; }
    int tableEntries() const { return int(m_table.size()); }
    int tableCapacity() const { return m_capacity; }

    // RFC 7541 5.2 / Appendix B: false on EOS in the string, padding longer than 7 bits or
    // not all ones, or output over maxOut. *out is replaced by the decoded string.
    static bool decodeHuffman(QByteArrayView in, QByteArray *out,
                              qsizetype maxOut = MaxStringBytes);

private:
    struct Reader;

    bool fail(const QString &message);
    bool readInteger(Reader *in, int prefixBits, int *value);
    bool readString(Reader *in, QByteArray *out);
    // The field at `index` of the static table followed by the dynamic one (1-based).
    bool lookup(int index, Field *field);
    // Drops the oldest entries until the table holds at most `size` octets.
    void evictTo(int size);
    void insert(Field field);

    QList<Field> m_table; // oldest first: the newest entry has dynamic index 1
    int m_tableSize = 0;
    int m_capacity;
    int m_maxCapacity;
    bool m_failed = false;
    QString m_error;
};

#endif // QHPACKDECODER_P_H
