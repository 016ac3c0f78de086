#include "qpowersyncprotocol_p.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>

#include <climits>
#include <cstring>

Q_LOGGING_CATEGORY(lcSync, "powersync.attachments.sync", QtWarningMsg)

bool QPowerSyncLineSplitter::append(const char *data, qsizetype size)
{
    if (m_error)
        return false;
    if (size <= 0)
        return true;
    // Drop what was already taken before growing.
    if (m_start > 0 && (m_start == m_buffer.size() || m_start > 64 * 1024)) {
        m_buffer.remove(0, m_start);
        m_scanned -= m_start;
        m_start = 0;
    }
    // m_scanned: where the unfinished last line starts.
    const char *newline = static_cast<const char *>(std::memchr(data, '\n', size));
    if (newline) {
        const char *last = newline;
        while (const char *next
               = static_cast<const char *>(std::memchr(last + 1, '\n', size - (last + 1 - data))))
            last = next;
        m_scanned = m_buffer.size() + (last + 1 - data);
    }
    m_buffer.append(data, size);
    if (m_buffer.size() - qMax(m_scanned, m_start) > m_maxLineLength) {
        m_error = true;
        m_buffer.clear();
        m_start = m_scanned = 0;
        return false;
    }
    return true;
}

bool QPowerSyncLineSplitter::takeLine(QByteArray *line)
{
    while (!m_error && m_start < m_buffer.size()) {
        const qsizetype newline = m_buffer.indexOf('\n', m_start);
        if (newline < 0)
            return false;
        qsizetype end = newline;
        if (end > m_start && m_buffer.at(end - 1) == '\r')
            --end;
        const qsizetype length = end - m_start;
        const qsizetype begin = m_start;
        m_start = newline + 1;
        if (length > m_maxLineLength) {
            m_error = true;
            return false;
        }
        if (length == 0)
            continue;
        *line = m_buffer.mid(begin, length);
        return true;
    }
    return false;
}

void QPowerSyncLineSplitter::reset()
{
    m_buffer.clear();
    m_start = m_scanned = 0;
    m_error = false;
}

namespace {

qint64 integer(const QJsonValue &value)
{
    // The core writes some integers as strings ("5").
    if (value.isString()) {
        bool ok = false;
        const qint64 n = value.toString().toLongLong(&ok);
        return ok ? n : 0;
    }
    const double d = value.toDouble();
    if (d != d || d < -9.0e18 || d > 9.0e18)
        return 0;
    return static_cast<qint64>(d);
}

QPowerSyncCoreStatus parseStatus(const QJsonObject &status)
{
    QPowerSyncCoreStatus result;
    result.connected = status.value(QLatin1String("connected")).toBool();
    result.connecting = status.value(QLatin1String("connecting")).toBool();
    const QJsonValue downloading = status.value(QLatin1String("downloading"));
    if (downloading.isObject()) {
        result.downloading = true;
        const QJsonObject buckets
            = downloading.toObject().value(QLatin1String("buckets")).toObject();
        for (auto it = buckets.constBegin(); it != buckets.constEnd(); ++it) {
            const QJsonObject progress = it.value().toObject();
            const qint64 atLast = integer(progress.value(QLatin1String("at_last")));
            const qint64 sinceLast = integer(progress.value(QLatin1String("since_last")));
            const qint64 target = integer(progress.value(QLatin1String("target_count")));
            if (atLast < 0 || sinceLast < 0 || target < 0)
                continue;
            result.downloadedOperations += sinceLast;
            result.totalOperations += qMax<qint64>(0, target - atLast);
        }
    }
    // The entry for the lowest priority (INT_MAX) stands for a complete sync.
    const QJsonArray priorities = status.value(QLatin1String("priority_status")).toArray();
    qint64 best = -1;
    for (const QJsonValue &value : priorities) {
        const QJsonObject entry = value.toObject();
        const qint64 priority = integer(entry.value(QLatin1String("priority")));
        if (priority < best)
            continue;
        best = priority;
        result.hasSynced = entry.value(QLatin1String("has_synced")).toBool();
        const qint64 at = integer(entry.value(QLatin1String("last_synced_at")));
        // Microseconds since the epoch (core 0.5); seconds in older cores.
        if (at > 100000000000000LL)
            result.lastSyncedAt = QDateTime::fromMSecsSinceEpoch(at / 1000, Qt::UTC);
        else if (at > 0)
            result.lastSyncedAt = QDateTime::fromSecsSinceEpoch(at, Qt::UTC);
        else
            result.lastSyncedAt = QDateTime();
    }
    if (best != INT_MAX) {
        result.hasSynced = false;
        result.lastSyncedAt = QDateTime();
    }
    return result;
}

} // namespace

bool QPowerSyncProtocol::parseInstructions(const QByteArray &json,
                                           QList<QPowerSyncInstruction> *out, QString *errorString)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isArray()) {
        if (errorString)
            *errorString = QStringLiteral("powersync_control returned no instruction list");
        return false;
    }
    const QJsonArray array = doc.array();
    for (const QJsonValue &value : array) {
        const QJsonObject object = value.toObject();
        if (object.size() != 1)
            continue;
        QPowerSyncInstruction instruction;
        instruction.name = object.constBegin().key();
        const QJsonValue body = object.constBegin().value();
        const QJsonObject fields = body.toObject();
        if (instruction.name == QLatin1String("LogLine")) {
            instruction.kind = QPowerSyncInstruction::LogLine;
            instruction.severity = fields.value(QLatin1String("severity")).toString();
            instruction.line = fields.value(QLatin1String("line")).toString();
        } else if (instruction.name == QLatin1String("UpdateSyncStatus")) {
            instruction.kind = QPowerSyncInstruction::UpdateSyncStatus;
            instruction.status = parseStatus(fields.value(QLatin1String("status")).toObject());
        } else if (instruction.name == QLatin1String("EstablishSyncStream")) {
            instruction.kind = QPowerSyncInstruction::EstablishSyncStream;
            instruction.request = fields.value(QLatin1String("request")).toObject();
        } else if (instruction.name == QLatin1String("FetchCredentials")) {
            instruction.kind = QPowerSyncInstruction::FetchCredentials;
            instruction.didExpire = fields.value(QLatin1String("did_expire")).toBool();
        } else if (instruction.name == QLatin1String("CloseSyncStream")) {
            instruction.kind = QPowerSyncInstruction::CloseSyncStream;
            instruction.hideDisconnect = fields.value(QLatin1String("hide_disconnect")).toBool();
        } else if (instruction.name == QLatin1String("FlushFileSystem")) {
            instruction.kind = QPowerSyncInstruction::FlushFileSystem;
        } else if (instruction.name == QLatin1String("DidCompleteSync")) {
            instruction.kind = QPowerSyncInstruction::DidCompleteSync;
            const QJsonValue applied = fields.value(QLatin1String("applied_checkpoint_request_id"));
            if (applied.isString())
                instruction.appliedCheckpointRequestId = applied.toString();
            else if (applied.isDouble())
                instruction.appliedCheckpointRequestId = QString::number(integer(applied));
        }
        out->append(instruction);
    }
    return true;
}

QString QPowerSyncProtocol::parseWriteCheckpoint(const QByteArray &json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    const QJsonValue value = doc.object()
                                 .value(QLatin1String("data"))
                                 .toObject()
                                 .value(QLatin1String("write_checkpoint"));
    QString text;
    if (value.isString())
        text = value.toString();
    else if (value.isDouble() && value.toDouble() >= 0 && value.toDouble() < 9.0e15)
        text = QString::number(static_cast<qint64>(value.toDouble()));
    if (text.isEmpty() || text.size() > 18)
        return {};
    for (const QChar c : text) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9'))
            return {};
    }
    return text;
}

QString QPowerSyncProtocol::userTableName(const QString &table)
{
    static const QLatin1String data("ps_data__");
    static const QLatin1String local("ps_data_local__");
    if (table.startsWith(local))
        return table.mid(local.size());
    if (table.startsWith(data))
        return table.mid(data.size());
    return table;
}
