#ifndef QPOWERSYNCPROTOCOL_P_H
#define QPOWERSYNCPROTOCOL_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qlist.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qstring.h>

Q_DECLARE_LOGGING_CATEGORY(lcSync)

// Splits a byte stream into NDJSON lines without holding more than one line.
// A line longer than maxLineLength is an error (the stream must be dropped).
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QPowerSyncLineSplitter
{
public:
    explicit QPowerSyncLineSplitter(qsizetype maxLineLength = 16 * 1024 * 1024)
        : m_maxLineLength(maxLineLength)
    { }

    // Appends bytes; false once a line is too long (nothing more is accepted).
    bool append(const char *data, qsizetype size);
    // The next complete line (without "\n" or "\r\n"); false when none.
    // Empty lines are skipped.
    bool takeLine(QByteArray *line);
    // Bytes of an unfinished line (and of complete lines not taken yet).
    qsizetype bufferedBytes() const { return m_buffer.size() - m_start; }
    bool hasError() const { return m_error; }
    void reset();

private:
    QByteArray m_buffer;
    qsizetype m_start = 0;
    qsizetype m_scanned = 0;
    qsizetype m_maxLineLength;
    bool m_error = false;
};

// The sync status the core reports with UpdateSyncStatus.
struct QPowerSyncCoreStatus
{
    bool connected = false;
    bool connecting = false;
    bool downloading = false;
    qint64 downloadedOperations = 0;
    qint64 totalOperations = 0;
    bool hasSynced = false;
    QDateTime lastSyncedAt;
};

// One instruction returned by powersync_control().
struct QPowerSyncInstruction
{
    enum Kind {
        LogLine,
        UpdateSyncStatus,
        EstablishSyncStream,
        FetchCredentials,
        CloseSyncStream,
        FlushFileSystem,
        DidCompleteSync,
        Unknown
    };
    Kind kind = Unknown;
    QString severity; // LogLine: DEBUG, INFO, WARNING
    QString line; // LogLine
    QPowerSyncCoreStatus status; // UpdateSyncStatus
    QJsonObject request; // EstablishSyncStream
    bool didExpire = false; // FetchCredentials
    bool hideDisconnect = false; // CloseSyncStream
    QString appliedCheckpointRequestId; // DidCompleteSync
    QString name; // Unknown: the instruction's name
};

namespace QPowerSyncProtocol {
// Parses powersync_control()'s result (a JSON array of instructions). Returns
// false (with *errorString) for anything that is not such an array; unknown
// instructions are returned as Unknown.
POWERSYNC_ATTACHMENTS_TEST_EXPORT bool parseInstructions(const QByteArray &json,
                                                         QList<QPowerSyncInstruction> *out,
                                                         QString *errorString = nullptr);
// {"data":{"write_checkpoint":"N"}} → N (digits only, at most 19); empty if invalid.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString parseWriteCheckpoint(const QByteArray &json);
// Maps a table name the core or SQLite reports (ps_data__t, ps_data_local__t)
// to the name apps use (t); other names unchanged.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString userTableName(const QString &table);
} // namespace QPowerSyncProtocol

#endif // QPOWERSYNCPROTOCOL_P_H
