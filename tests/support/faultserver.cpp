#include "faultserver.h"

#include <QtCore/qcryptographichash.h>

#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <sys/socket.h>

namespace {

constexpr qsizetype MaxHeaderBytes = 64 * 1024;

QByteArray reasonOf(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

} // namespace

FaultServer::FaultServer(QObject *parent)
    : QObject(parent)
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &FaultServer::onNewConnection);
}

FaultServer::~FaultServer()
{
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        it.key()->disconnect(this);
        it.key()->abort();
    }
}

bool FaultServer::listen()
{
    return m_server->listen(QHostAddress::LocalHost, 0);
}

QUrl FaultServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_server->serverPort()));
}

void FaultServer::addFault(const QByteArray &method, const Fault &fault, int count)
{
    for (int i = 0; i < count; ++i)
        m_faults[method].enqueue(fault);
}

int FaultServer::pendingFaults() const
{
    int n = 0;
    for (const auto &queue : m_faults)
        n += queue.size();
    return n;
}

QByteArray FaultServer::etagOf(const QByteArray &object)
{
    return '"' + QCryptographicHash::hash(object, QCryptographicHash::Sha1).toHex().left(16) + '"';
}

int FaultServer::requestCount(const QByteArray &method) const
{
    int n = 0;
    for (const Request &r : m_requests)
        n += r.method == method ? 1 : 0;
    return n;
}

void FaultServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        ++m_connectionCount;
        Connection connection;
        connection.socket = socket;
        m_connections.insert(socket, connection);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_connections.remove(socket);
            socket->deleteLater();
        });
    }
}

void FaultServer::onReadyRead(QTcpSocket *socket)
{
    auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &c = it.value();
    const QByteArray data = socket->readAll();
    m_received += data;
    if (c.silent)
        return;
    c.buffer += data;
    handle(c);
}

void FaultServer::handle(Connection &c)
{
    QTcpSocket *socket = c.socket;
    // A fault may close the socket, which removes `c`: check before every use.
    while (m_connections.contains(socket) && !c.silent) {
        if (!c.headerDone) {
            const qsizetype end = c.buffer.indexOf("\r\n\r\n");
            if (end < 0) {
                if (c.buffer.size() > MaxHeaderBytes) {
                    send(socket, 431, "request header too large");
                    socket->disconnectFromHost();
                }
                return;
            }
            const QList<QByteArray> lines = c.buffer.left(end).split('\n');
            c.buffer.remove(0, end + 4);
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            c.request = Request();
            c.request.method = requestLine.value(0);
            const QByteArray target = requestLine.value(1);
            c.request.path = QUrl::fromPercentEncoding(
                target.left(target.indexOf('?') < 0 ? target.size() : target.indexOf('?')));
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines.at(i).trimmed();
                const qsizetype colon = line.indexOf(':');
                if (colon > 0)
                    c.request.headers.insert(line.left(colon).trimmed().toLower(),
                                             line.mid(colon + 1).trimmed());
            }
            c.contentLength = c.request.headers.value("content-length").toLongLong();
            c.body.clear();
            c.headerDone = true;
            c.hasFault = !m_faults.value(c.request.method).isEmpty();
            if (c.hasFault)
                c.fault = m_faults[c.request.method].dequeue();
            Q_EMIT requestReceived(c.request.method, c.request.path);
        }
        const qint64 missing = c.contentLength - c.body.size();
        if (missing > 0) {
            c.body += c.buffer.left(missing);
            c.buffer.remove(0, qMin<qint64>(missing, c.buffer.size()));
        }
        if (c.hasFault && c.fault.type == Fault::Reset && c.contentLength > 0
            && !c.body.isEmpty()) {
            // An upload broken off by the network.
            c.request.bodySize = c.body.size();
            m_requests.append(c.request);
            resetConnection(socket);
            return;
        }
        if (c.body.size() < c.contentLength)
            return;
        c.request.bodySize = c.body.size();
        m_requests.append(c.request);
        c.headerDone = false;
        respond(c);
    }
}

void FaultServer::respond(Connection &c)
{
    QTcpSocket *socket = c.socket;
    const Request &r = c.request;
    const QByteArray method = r.method;

    if (c.hasFault) {
        const Fault fault = c.fault;
        c.hasFault = false;
        QByteArray object = m_objects.value(r.path);
        if (object.isEmpty())
            object = QByteArray(4096, 'x');
        const QByteArray head = "HTTP/1.1 200 OK\r\nContent-Length: "
            + QByteArray::number(object.size()) + "\r\nETag: " + etagOf(object) + "\r\n\r\n";
        switch (fault.type) {
        case Fault::Status:
            send(socket, fault.status, fault.body, fault.headers, method == "HEAD");
            return;
        case Fault::Reset:
            if (method == "GET") {
                socket->write(head + object.left(object.size() / 2));
                socket->flush();
            }
            resetConnection(socket);
            return;
        case Fault::Stall:
            if (method == "GET") {
                socket->write(head + object.left(object.size() / 2));
                socket->flush();
            }
            c.silent = true;
            return;
        case Fault::Truncated:
            socket->write(head + object.left(object.size() / 2));
            socket->disconnectFromHost();
            return;
        case Fault::Longer:
            socket->write(head + object + QByteArray(512, 'G'));
            socket->disconnectFromHost();
            return;
        case Fault::Raw:
            socket->write(fault.body);
            socket->disconnectFromHost();
            return;
        }
        return;
    }

    if (!m_requiredToken.isEmpty()
        && r.headers.value("authorization") != "Bearer " + m_requiredToken) {
        send(socket, 401, "token missing or expired",
             {{"WWW-Authenticate", "Bearer realm=\"attachments\""}});
        return;
    }

    if (method == "PUT" || method == "POST") {
        const bool existed = m_objects.contains(r.path);
        m_objects.insert(r.path, c.body);
        send(socket, existed ? 204 : 201, {});
    } else if (method == "GET" || method == "HEAD") {
        const auto it = m_objects.constFind(r.path);
        if (it == m_objects.constEnd()) {
            send(socket, 404, "no such object: " + r.path.toUtf8(), {}, method == "HEAD");
            return;
        }
        const QByteArray object = it.value();
        const QByteArray range = r.headers.value("range");
        // "bytes=N-" or "bytes=N-M".
        const qsizetype dash = range.indexOf('-');
        if (range.startsWith("bytes=") && dash > 6 && !range.contains(',')) {
            const qint64 from = range.mid(6, dash - 6).toLongLong();
            const QByteArray lastText = range.mid(dash + 1);
            const qint64 last = lastText.isEmpty()
                ? object.size() - 1
                : qMin<qint64>(lastText.toLongLong(), object.size() - 1);
            if (from >= object.size()) {
                send(socket, 416, {},
                     {{"Content-Range", "bytes */" + QByteArray::number(object.size())}},
                     method == "HEAD");
                return;
            }
            send(socket, 206, object.mid(from, last - from + 1),
                 {{"Content-Range",
                   "bytes " + QByteArray::number(from) + '-' + QByteArray::number(last) + '/'
                       + QByteArray::number(object.size())},
                  {"ETag", etagOf(object)}},
                 method == "HEAD");
            return;
        }
        send(socket, 200, object, {{"Accept-Ranges", "bytes"}, {"ETag", etagOf(object)}},
             method == "HEAD");
    } else if (method == "DELETE") {
        if (m_objects.remove(r.path))
            send(socket, 204, {});
        else
            send(socket, 404, "no such object");
    } else {
        send(socket, 405, "method not allowed");
    }
}

void FaultServer::send(QTcpSocket *socket, int status, const QByteArray &body,
                       const QList<std::pair<QByteArray, QByteArray>> &headers, bool headOnly)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonOf(status) + "\r\n";
    bool hasLength = false;
    for (const auto &header : headers) {
        out += header.first + ": " + header.second + "\r\n";
        hasLength = hasLength || header.first.compare("Content-Length", Qt::CaseInsensitive) == 0;
    }
    if (!hasLength)
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    out += "\r\n";
    if (!headOnly)
        out += body;
    socket->write(out);
}

void FaultServer::resetConnection(QTcpSocket *socket)
{
    // A zero linger time makes close() send RST instead of FIN.
    struct linger option = {1, 0};
    ::setsockopt(int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &option, sizeof option);
    socket->abort();
}
