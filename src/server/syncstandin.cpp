#include "syncstandin.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <utility>

namespace {
constexpr int kOpsPerLine = 500;

quint32 checksumOf(const QString &op, const QString &type, const QString &id, const QString &data,
                   qint64 opId)
{
    const QByteArray digest = QCryptographicHash::hash(
        (op + type + id + data + QString::number(opId)).toUtf8(), QCryptographicHash::Sha256);
    // Unsigned 32-bit, as the service sends them; sums wrap around.
    return (quint32(quint8(digest[0])) << 24) | (quint32(quint8(digest[1])) << 16)
        | (quint32(quint8(digest[2])) << 8) | quint32(quint8(digest[3]));
}
} // namespace

template<typename F>
auto SyncStandIn::call(F f) const
{
    using R = decltype(f());
    R result {};
    if (QThread::currentThread() == &m_thread) {
        result = f();
    } else {
        QMetaObject::invokeMethod(
            const_cast<SyncStandIn *>(this), [&result, &f] { result = f(); },
            Qt::BlockingQueuedConnection);
    }
    return result;
}

SyncStandIn::SyncStandIn()
{
    m_thread.setObjectName(QStringLiteral("sync stand-in"));
    moveToThread(&m_thread);
    m_thread.start();
}

SyncStandIn::~SyncStandIn()
{
    call([this] {
        for (Stream &stream : m_streams)
            stream.socket->abort();
        delete m_server;
        m_server = nullptr;
        return 0;
    });
    m_thread.quit();
    m_thread.wait();
}

bool SyncStandIn::start()
{
    return call([this] {
        m_server = new QTcpServer;
        connect(m_server, &QTcpServer::newConnection, this, &SyncStandIn::onConnection);
        if (!m_server->listen(QHostAddress::LocalHost, 0))
            return false;
        m_port = m_server->serverPort();
        return true;
    });
}

QString SyncStandIn::endpoint() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

void SyncStandIn::addOp(const QString &op, const QString &type, const QString &id,
                        const QString &data)
{
    const qint64 opId = m_nextOp++;
    m_ops.append({opId, op, type, id, data, checksumOf(op, type, id, data, opId)});
    if (op == QLatin1String("PUT"))
        m_rows[type][id] = data;
    else
        m_rows[type].remove(id);
}

void SyncStandIn::put(const QString &type, const QString &id, const QJsonObject &data)
{
    call([&] {
        addOp(QStringLiteral("PUT"), type, id,
              QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact)));
        broadcast();
        return 0;
    });
}

void SyncStandIn::putMany(const QString &type, int count, const QString &idPrefix)
{
    call([&] {
        for (int i = 0; i < count; ++i) {
            const QJsonObject data {
                {QStringLiteral("title"), QStringLiteral("Row %1 of a large sync").arg(i)},
                {QStringLiteral("done"), i % 2}};
            addOp(QStringLiteral("PUT"), type, idPrefix + QString::number(i),
                  QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact)));
        }
        broadcast();
        return 0;
    });
}

void SyncStandIn::remove(const QString &type, const QString &id)
{
    call([&] {
        addOp(QStringLiteral("REMOVE"), type, id, QString());
        broadcast();
        return 0;
    });
}

QString SyncStandIn::issueToken()
{
    return call([this] {
        const QString token = QStringLiteral("token-%1").arg(++m_tokenCounter);
        m_tokens.append(token);
        return token;
    });
}

void SyncStandIn::revokeTokens()
{
    call([this] {
        m_tokens.clear();
        return 0;
    });
}

void SyncStandIn::corruptNextChecksum()
{
    call([this] { return m_corrupt = true; });
}

void SyncStandIn::cutNextStreamAfterLines(int lines)
{
    call([this, lines] { return m_cutAfterLines = lines; });
}

void SyncStandIn::failNextStreams(int status, int count)
{
    call([this, status, count] {
        m_failStatus = status;
        return m_failCount = count;
    });
}

void SyncStandIn::sendTokenExpiresIn(int seconds)
{
    call([this, seconds] {
        for (Stream &stream : m_streams)
            sendLine(stream, "{\"token_expires_in\":" + QByteArray::number(seconds) + "}");
        return 0;
    });
}

void SyncStandIn::closeStreams()
{
    call([this] {
        for (Stream &stream : m_streams) {
            stream.socket->write("0\r\n\r\n");
            stream.socket->disconnectFromHost();
        }
        return 0;
    });
}

QList<SyncStandIn::Request> SyncStandIn::requests() const
{
    return call([this] { return m_requests; });
}

int SyncStandIn::count(const QByteArray &path, int status) const
{
    return call([&] {
        int n = 0;
        for (const Request &request : m_requests)
            n += request.path == path && (status == 0 || request.status == status);
        return n;
    });
}

int SyncStandIn::openStreams() const
{
    return call([this] { return int(m_streams.size()); });
}

QList<QJsonObject> SyncStandIn::uploadedEntries() const
{
    return call([this] { return m_uploaded; });
}

int SyncStandIn::lastOpId() const
{
    return call([this] { return int(m_nextOp - 1); });
}

quint32 SyncStandIn::bucketChecksum() const
{
    quint32 sum = 0;
    for (const Op &op : m_ops)
        sum += op.checksum;
    return sum;
}

void SyncStandIn::onConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        // Removed on the next turn: a stream being written to stays valid.
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            // Delivered only while the socket lives (the server deletes its
            // sockets when it goes).
            QMetaObject::invokeMethod(
                socket,
                [this, socket] {
                    for (qsizetype i = 0; i < m_streams.size(); ++i) {
                        if (m_streams.at(i).socket == socket)
                            m_streams.removeAt(i--);
                    }
                    m_buffers.remove(socket);
                    socket->deleteLater();
                },
                Qt::QueuedConnection);
        });
    }
}

void SyncStandIn::onReadable(QTcpSocket *socket)
{
    QByteArray &buffer = m_buffers[socket];
    buffer += socket->readAll();
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    Request request;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
    request.method = first.value(0);
    request.path = first.value(1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0)
            request.headers.insert(lines.at(i).left(colon).trimmed().toLower(),
                                   lines.at(i).mid(colon + 1).trimmed());
    }
    const qsizetype length = request.headers.value("content-length").toLongLong();
    if (buffer.size() < end + 4 + length)
        return;
    request.body = buffer.mid(end + 4, length);
    buffer.remove(0, end + 4 + length);
    handle(socket, request);
}

void SyncStandIn::reply(QTcpSocket *socket, int status, const QByteArray &body,
                        const QByteArray &type)
{
    socket->write("HTTP/1.1 " + QByteArray::number(status) + " Status\r\nContent-Type: " + type
                  + "\r\nContent-Length: " + QByteArray::number(body.size())
                  + "\r\nConnection: close\r\n\r\n" + body);
    socket->disconnectFromHost();
}

void SyncStandIn::handle(QTcpSocket *socket, Request request)
{
    const QByteArray auth = request.headers.value("authorization");
    const bool authorized
        = auth.startsWith("Token ") && m_tokens.contains(QString::fromLatin1(auth.mid(6)));
    const QByteArray path = request.path.left(
        request.path.indexOf('?') < 0 ? request.path.size() : request.path.indexOf('?'));
    const QByteArray query = request.path.mid(path.size() + 1);
    request.path = path;
    auto record = [&](int status) {
        request.status = status;
        m_requests.append(request);
    };
    if (!authorized) {
        record(401);
        reply(socket, 401, "{\"error\":\"unauthorized\"}");
        return;
    }
    if (path == "/sync/stream" && request.method == "POST") {
        if (m_failCount > 0) {
            --m_failCount;
            record(m_failStatus);
            reply(socket, m_failStatus, "{\"error\":\"unavailable\"}");
            return;
        }
        record(200);
        startStream(socket, request);
    } else if (path == "/write-checkpoint2.json" && request.method == "GET") {
        const QString clientId
            = QUrlQuery(QString::fromLatin1(query)).queryItemValue(QStringLiteral("client_id"));
        const qint64 checkpoint = m_writeCheckpoints.value(clientId) + 1;
        m_writeCheckpoints[clientId] = checkpoint;
        record(200);
        reply(socket, 200,
              "{\"data\":{\"write_checkpoint\":\"" + QByteArray::number(checkpoint) + "\"}}");
        broadcast();
    } else if (path == "/upload" && request.method == "POST") {
        const QJsonArray entries = QJsonDocument::fromJson(request.body)
                                       .object()
                                       .value(QLatin1String("entries"))
                                       .toArray();
        for (const QJsonValue &value : entries) {
            const QJsonObject entry = value.toObject();
            m_uploaded.append(entry);
            const QString op = entry.value(QLatin1String("op")).toString();
            const QString type = entry.value(QLatin1String("type")).toString();
            const QString id = entry.value(QLatin1String("id")).toString();
            if (op == QLatin1String("DELETE")) {
                addOp(QStringLiteral("REMOVE"), type, id, QString());
                continue;
            }
            QJsonObject row;
            if (op == QLatin1String("PATCH"))
                row = QJsonDocument::fromJson(m_rows.value(type).value(id).toUtf8()).object();
            const QJsonObject data = entry.value(QLatin1String("data")).toObject();
            for (auto it = data.begin(); it != data.end(); ++it)
                row.insert(it.key(), it.value());
            addOp(QStringLiteral("PUT"), type, id,
                  QString::fromUtf8(QJsonDocument(row).toJson(QJsonDocument::Compact)));
        }
        record(200);
        reply(socket, 200, "{}");
        broadcast();
    } else {
        record(404);
        reply(socket, 404, "{}");
    }
}

void SyncStandIn::startStream(QTcpSocket *socket, const Request &request)
{
    const QJsonObject body = QJsonDocument::fromJson(request.body).object();
    qint64 after = 0;
    for (const QJsonValue &bucket : body.value(QLatin1String("buckets")).toArray()) {
        if (bucket.toObject().value(QLatin1String("name")).toString() == QLatin1String("global"))
            after = bucket.toObject().value(QLatin1String("after")).toString().toLongLong();
    }
    socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n");
    Stream stream;
    stream.socket = socket;
    stream.clientId = body.value(QLatin1String("client_id")).toString();
    m_streams.append(stream);
    sendUpdates(m_streams.last(), true, after);
}

void SyncStandIn::sendLine(Stream &stream, const QByteArray &line)
{
    if (stream.socket->state() != QAbstractSocket::ConnectedState)
        return;
    const QByteArray data = line + '\n';
    if (m_cutAfterLines == 0) {
        // Half a line, then the connection drops.
        m_cutAfterLines = -1;
        const QByteArray half = data.left(data.size() / 2);
        stream.socket->write(QByteArray::number(half.size(), 16) + "\r\n" + half + "\r\n");
        stream.socket->flush();
        stream.socket->abort();
        return;
    }
    if (m_cutAfterLines > 0)
        --m_cutAfterLines;
    stream.socket->write(QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
}

void SyncStandIn::sendUpdates(Stream &stream, bool full, qint64 after)
{
    const qint64 last = m_nextOp - 1;
    const qint64 writeCheckpoint = m_writeCheckpoints.value(stream.clientId);
    if (!full && last <= stream.sentOp && writeCheckpoint <= stream.sentWriteCheckpoint)
        return;
    quint32 checksum = bucketChecksum();
    if (m_corrupt) {
        m_corrupt = false;
        checksum += 1;
    }
    const QJsonArray buckets {QJsonObject {{QStringLiteral("bucket"), QStringLiteral("global")},
                                           {QStringLiteral("checksum"), qint64(checksum)},
                                           {QStringLiteral("priority"), 3},
                                           {QStringLiteral("count"), qint64(m_ops.size())}}};
    const QJsonValue wc = writeCheckpoint > 0 ? QJsonValue(QString::number(writeCheckpoint))
                                              : QJsonValue(QJsonValue::Null);
    QJsonObject checkpoint {{QStringLiteral("last_op_id"), QString::number(last)},
                            {QStringLiteral("write_checkpoint"), wc}};
    QJsonObject line;
    if (full) {
        checkpoint.insert(QStringLiteral("buckets"), buckets);
        line.insert(QStringLiteral("checkpoint"), checkpoint);
    } else {
        checkpoint.insert(QStringLiteral("updated_buckets"), buckets);
        checkpoint.insert(QStringLiteral("removed_buckets"), QJsonArray());
        line.insert(QStringLiteral("checkpoint_diff"), checkpoint);
        after = stream.sentOp;
    }
    QTcpSocket *socket = stream.socket;
    sendLine(stream, QJsonDocument(line).toJson(QJsonDocument::Compact));
    if (socket->state() != QAbstractSocket::ConnectedState)
        return;
    QJsonArray ops;
    qint64 from = after;
    for (const Op &op : std::as_const(m_ops)) {
        if (op.opId <= after)
            continue;
        QJsonObject entry {{QStringLiteral("op_id"), QString::number(op.opId)},
                           {QStringLiteral("op"), op.op},
                           {QStringLiteral("object_type"), op.type},
                           {QStringLiteral("object_id"), op.id},
                           {QStringLiteral("checksum"), qint64(op.checksum)}};
        if (op.op == QLatin1String("PUT"))
            entry.insert(QStringLiteral("data"), op.data);
        ops.append(entry);
        if (ops.size() == kOpsPerLine || op.opId == last) {
            const QJsonObject data {{QStringLiteral("bucket"), QStringLiteral("global")},
                                    {QStringLiteral("has_more"), op.opId != last},
                                    {QStringLiteral("after"), QString::number(from)},
                                    {QStringLiteral("next_after"), QString::number(op.opId)},
                                    {QStringLiteral("data"), ops}};
            sendLine(stream,
                     QJsonDocument(QJsonObject {{QStringLiteral("data"), data}})
                         .toJson(QJsonDocument::Compact));
            if (socket->state() != QAbstractSocket::ConnectedState)
                return;
            from = op.opId;
            ops = QJsonArray();
        }
    }
    if (socket->state() != QAbstractSocket::ConnectedState)
        return;
    sendLine(stream,
             "{\"checkpoint_complete\":{\"last_op_id\":\"" + QByteArray::number(last) + "\"}}");
    stream.sentOp = last;
    stream.sentWriteCheckpoint = writeCheckpoint;
}

void SyncStandIn::broadcast()
{
    for (qsizetype i = 0; i < m_streams.size(); ++i)
        sendUpdates(m_streams[i], false, 0);
}
