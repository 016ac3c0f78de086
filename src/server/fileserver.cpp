#include "fileserver.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qlocale.h>
#include <QtCore/qmimedatabase.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtemporaryfile.h>
#include <QtCore/qtimer.h>
#include <QtHttpServer/qhttpserverrequest.h>
#include <QtHttpServer/qhttpserverresponder.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sys/socket.h>

Q_LOGGING_CATEGORY(lcServer, "powersync.attachments.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcServerAccess, "powersync.attachments.server.access", QtInfoMsg)

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;
using Method = QHttpServerRequest::Method;

// A response body is read from disk in chunks of this size, and no more is
// queued while the socket still holds this much unsent data: memory per
// download stays bounded whatever the file size and the client's speed.
constexpr qint64 ChunkSize = 64 * 1024;
constexpr qint64 HighWaterMark = 256 * 1024;
// Request heads longer than this are not searched for `Expect`.
constexpr qsizetype MaxWatchedHead = 64 * 1024;
// How long the rest of a refused upload is read and dropped before the
// connection is cut.
constexpr int DrainTimeoutMs = 10000;

QByteArray reasonPhrase(int status)
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
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    case 507:
        return "Insufficient Storage";
    }
    return "Unknown";
}

QByteArray methodName(Method method)
{
    switch (method) {
    case Method::Get:
        return "GET";
    case Method::Head:
        return "HEAD";
    case Method::Put:
        return "PUT";
    case Method::Delete:
        return "DELETE";
    case Method::Post:
        return "POST";
    case Method::Options:
        return "OPTIONS";
    case Method::Patch:
        return "PATCH";
    case Method::Connect:
        return "CONNECT";
    case Method::Trace:
        return "TRACE";
    default:
        return "UNKNOWN";
    }
}

QByteArray httpDate(const QDateTime &time)
{
    return QLocale::c()
        .toString(time.toUTC(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
        .toLatin1();
}

bool isWithin(const QString &path, const QString &directory)
{
    return path == directory
        || (path.startsWith(directory) && path.at(directory.size()) == QLatin1Char('/'));
}

bool parseDigits(const QByteArray &text, qint64 *value)
{
    // Digits only (no sign, no blanks) and short enough not to overflow.
    if (text.isEmpty() || text.size() > 18)
        return false;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
    }
    *value = text.toLongLong();
    return true;
}

enum class RangeKind { Whole, Partial, Unsatisfiable };

// One byte range of RFC 9110 (`bytes=N-`, `bytes=N-M`, `bytes=-N`). Anything
// else, including several ranges, is ignored and the whole file is sent, as
// the RFC allows.
RangeKind parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last)
{
    const QByteArray spec = header.trimmed();
    if (spec.size() < 6 || spec.left(6).compare("bytes=", Qt::CaseInsensitive) != 0)
        return RangeKind::Whole;
    const QByteArray set = spec.mid(6).trimmed();
    if (set.contains(','))
        return RangeKind::Whole;
    const qsizetype dash = set.indexOf('-');
    if (dash < 0)
        return RangeKind::Whole;
    const QByteArray from = set.left(dash).trimmed();
    const QByteArray to = set.mid(dash + 1).trimmed();
    if (from.isEmpty()) {
        qint64 suffix = 0;
        if (!parseDigits(to, &suffix))
            return RangeKind::Whole;
        if (suffix == 0 || size == 0)
            return RangeKind::Unsatisfiable;
        *first = qMax<qint64>(0, size - suffix);
        *last = size - 1;
        return RangeKind::Partial;
    }
    qint64 start = 0;
    if (!parseDigits(from, &start))
        return RangeKind::Whole;
    qint64 end = size - 1;
    if (!to.isEmpty()) {
        if (!parseDigits(to, &end) || end < start)
            return RangeKind::Whole;
        end = qMin(end, size - 1);
    }
    if (start >= size)
        return RangeKind::Unsatisfiable;
    *first = start;
    *last = end;
    return RangeKind::Partial;
}

struct Request
{
    Method method = Method::Unknown;
    QByteArray path; // percent-encoded
    Headers headers;
    QByteArray body;

    QByteArray header(const char *name) const
    {
        for (const auto &header : headers) {
            if (header.first.compare(name, Qt::CaseInsensitive) == 0)
                return header.second;
        }
        return {};
    }
};

} // namespace

// The responses of one client connection, in request order. Qt's server hands
// over complete requests; a response whose body is still streaming holds back
// the ones after it, so pipelined requests cannot interleave their bytes.
class Connection : public QObject
{
    Q_OBJECT

public:
    Connection(FileServer *server, QTcpSocket *socket)
        : QObject(socket)
        , m_server(server)
        , m_socket(socket)
    {
        connect(socket, &QTcpSocket::bytesWritten, this, &Connection::pump);
        // Connected before Qt's server connects its own parser, so this sees
        // each chunk of the request before it is consumed.
        connect(socket, &QTcpSocket::readyRead, this, &Connection::inspectRequestHead);
    }

    void enqueue(Request &&request)
    {
        m_headSeen = false;
        m_head.clear();
        m_pending.append(std::move(request));
        processQueue();
    }

private:
    // Qt's server (6.4) hands over a request only once its whole body is in
    // memory, and never answers `Expect: 100-continue`, so a client that asks
    // for it (curl does for large uploads) would wait before sending the body.
    // The request head is read here ahead of Qt's parser to answer that, and
    // to turn away an upload beyond the size limit before its body arrives.
    void inspectRequestHead()
    {
        if (m_headSeen)
            return;
        m_head += m_socket->peek(m_socket->bytesAvailable());
        const qsizetype end = m_head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (m_head.size() > MaxWatchedHead) {
                m_headSeen = true;
                m_head.clear();
            }
            return;
        }
        m_headSeen = true;
        const QList<QByteArray> lines = m_head.left(end).split('\n');
        m_head.clear();
        // Another response is still being written: nothing may go in between.
        // The size limit is then checked when the request is complete.
        if (m_streaming || !m_pending.isEmpty() || m_closing)
            return;

        bool expectContinue = false;
        qint64 contentLength = -1;
        for (const QByteArray &line : lines) {
            const qsizetype colon = line.indexOf(':');
            if (colon < 0)
                continue;
            const QByteArray name = line.left(colon).trimmed();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name.compare("expect", Qt::CaseInsensitive) == 0)
                expectContinue = value.compare("100-continue", Qt::CaseInsensitive) == 0;
            else if (name.compare("content-length", Qt::CaseInsensitive) == 0)
                parseDigits(value, &contentLength);
        }
        const qint64 limit = m_server->maxUploadSize();
        if (limit > 0 && contentLength > limit) {
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            m_method = requestLine.value(0);
            m_path = requestLine.value(1);
            // The body that would follow is not kept: the connection ends.
            m_closeAfterResponse = true;
            m_draining = true;
            respondError(413, tooLargeMessage(limit));
            return;
        }
        if (expectContinue)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }

    static QByteArray tooLargeMessage(qint64 limit)
    {
        return "uploads are limited to " + QByteArray::number(limit) + " bytes";
    }

    void processQueue()
    {
        if (m_processing)
            return;
        m_processing = true;
        while (!m_streaming && !m_closing && !m_pending.isEmpty())
            process(m_pending.takeFirst());
        m_processing = false;
    }

    void process(const Request &request)
    {
        m_method = methodName(request.method);
        m_path = request.path;
        m_closeAfterResponse
            = request.header("connection").trimmed().compare("close", Qt::CaseInsensitive) == 0;

        const QByteArray authorization = request.header("authorization");
        if (!m_server->isAuthorized(authorization)) {
            const QByteArray challenge = authorization.isEmpty()
                ? QByteArray("Bearer realm=\"attachments\"")
                : QByteArray("Bearer realm=\"attachments\", error=\"invalid_token\"");
            respondError(401, "a valid bearer token is required",
                         {{"WWW-Authenticate", challenge}});
            return;
        }

        switch (request.method) {
        case Method::Get:
            serveFile(request, true);
            break;
        case Method::Head:
            serveFile(request, false);
            break;
        case Method::Put:
            storeFile(request);
            break;
        case Method::Delete:
            removeFile(request);
            break;
        default:
            respondError(405, "only GET, HEAD, PUT and DELETE are supported",
                         {{"Allow", "GET, HEAD, PUT, DELETE"}});
            break;
        }
    }

    void serveFile(const Request &request, bool withBody)
    {
        const FileServer::ResolvedPath resolved = m_server->resolve(request.path);
        if (resolved.status) {
            respondError(resolved.status, resolved.reason);
            return;
        }
        const QFileInfo info(resolved.filePath);
        if (!info.isFile()) {
            respondError(404, "no such file");
            return;
        }
        auto file = std::make_unique<QFile>(resolved.filePath);
        if (!file->open(QIODevice::ReadOnly)) {
            respondError(info.isReadable() ? 500 : 403, file->errorString().toUtf8());
            return;
        }
        const qint64 size = file->size();
        const QDateTime modified = info.lastModified();
        const QByteArray lastModified = httpDate(modified);
        // Every upload is a new file (renamed into place), so size and
        // modification time in milliseconds tell versions apart far better
        // than Last-Modified's whole seconds.
        const QByteArray etag = '"' + QByteArray::number(size, 16) + '-'
            + QByteArray::number(modified.toMSecsSinceEpoch(), 16) + '"';
        static const QMimeDatabase mimeDatabase;
        Headers headers {
            {"Content-Type",
             mimeDatabase.mimeTypeForFile(info, QMimeDatabase::MatchExtension).name().toUtf8()},
            {"Accept-Ranges", "bytes"},
            {"Last-Modified", lastModified},
            {"ETag", etag},
        };

        QByteArray range = request.header("range");
        // A range of a file that changed since the client's copy would splice
        // two versions together: send the whole file instead.
        const QByteArray ifRange = request.header("if-range").trimmed();
        if (!ifRange.isEmpty() && ifRange != etag && ifRange != lastModified)
            range.clear();

        qint64 first = 0;
        qint64 last = size - 1;
        int status = 200;
        switch (parseRange(range, size, &first, &last)) {
        case RangeKind::Whole:
            break;
        case RangeKind::Partial:
            status = 206;
            headers.emplaceBack("Content-Range",
                                "bytes " + QByteArray::number(first) + '-'
                                    + QByteArray::number(last) + '/' + QByteArray::number(size));
            break;
        case RangeKind::Unsatisfiable:
            respondError(416, "the requested range is outside the file",
                         {{"Content-Range", "bytes */" + QByteArray::number(size)}});
            return;
        }

        const qint64 length = size == 0 ? 0 : last - first + 1;
        writeHead(status, headers, length);
        if (!withBody || length == 0) {
            endResponse();
            return;
        }
        if (first > 0 && !file->seek(first)) {
            abortConnection("cannot seek in " + resolved.filePath.toUtf8());
            return;
        }
        m_file = std::move(file);
        m_remaining = length;
        m_streaming = true;
        pump();
    }

    void storeFile(const Request &request)
    {
        const FileServer::ResolvedPath resolved = m_server->resolve(request.path);
        if (resolved.status) {
            respondError(resolved.status, resolved.reason);
            return;
        }
        const qint64 limit = m_server->maxUploadSize();
        if (limit > 0 && request.body.size() > limit) {
            respondError(413, tooLargeMessage(limit));
            return;
        }
        const QFileInfo info(resolved.filePath);
        if (info.isDir()) {
            respondError(409, "the path is a directory");
            return;
        }
        if (!QDir().mkpath(info.absolutePath())) {
            respondError(409, "cannot create the parent directory");
            return;
        }

        // Written in the partial directory and renamed over the final name
        // only when complete, so readers see the old file or the new one,
        // never a part.
        QTemporaryFile temporary(m_server->partialDirectory() + QStringLiteral("/upload-XXXXXX"));
        if (!temporary.open()) {
            respondError(500, temporary.errorString().toUtf8());
            return;
        }
        if (temporary.write(request.body) != request.body.size() || !temporary.flush()) {
            respondError(507, temporary.errorString().toUtf8());
            return;
        }
        temporary.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                 | QFileDevice::ReadGroup | QFileDevice::ReadOther);
        temporary.close();
        const bool replaced = info.exists() || info.isSymLink();
        if (std::rename(QFile::encodeName(temporary.fileName()).constData(),
                        QFile::encodeName(resolved.filePath).constData())
            != 0) {
            respondError(500,
                         QByteArray("cannot move the upload into place: ") + std::strerror(errno));
            return;
        }
        temporary.setAutoRemove(false);
        respond(replaced ? 204 : 201, {}, {});
    }

    void removeFile(const Request &request)
    {
        const FileServer::ResolvedPath resolved = m_server->resolve(request.path);
        if (resolved.status) {
            respondError(resolved.status, resolved.reason);
            return;
        }
        const QFileInfo info(resolved.filePath);
        if (!info.exists() && !info.isSymLink()) {
            respondError(404, "no such file");
            return;
        }
        if (info.isDir() && !info.isSymLink()) {
            respondError(409, "the path is a directory");
            return;
        }
        QFile file(resolved.filePath);
        if (!file.remove()) {
            respondError(500, file.errorString().toUtf8());
            return;
        }
        respond(204, {}, {});
    }

    void respondError(int status, const QByteArray &message, Headers headers = {})
    {
        headers.emplaceBack("Content-Type", "text/plain; charset=utf-8");
        respond(status, headers, message + '\n');
    }

    void respond(int status, const Headers &headers, const QByteArray &body)
    {
        writeHead(status, headers, body.size());
        // A HEAD answer, errors included, ends with its head.
        if (m_method != "HEAD")
            m_socket->write(body);
        endResponse();
    }

    void writeHead(int status, const Headers &headers, qint64 contentLength)
    {
        qCInfo(lcServerAccess).noquote().nospace()
            << m_method << ' ' << m_path << ' ' << status << ' ' << contentLength;
        QByteArray head
            = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
        for (const auto &header : headers)
            head += header.first + ": " + header.second + "\r\n";
        head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
        if (m_closeAfterResponse)
            head += "Connection: close\r\n";
        head += "\r\n";
        m_socket->write(head);
    }

    void pump()
    {
        if (!m_file)
            return;
        while (m_remaining > 0 && m_socket->bytesToWrite() < HighWaterMark) {
            if (m_buffer.isEmpty())
                m_buffer.resize(ChunkSize);
            const qint64 read = m_file->read(m_buffer.data(), qMin(ChunkSize, m_remaining));
            if (read <= 0) {
                // The file shrank or failed under us; the announced length can
                // no longer be kept, and a short body must not look complete.
                abortConnection("short read from " + m_file->fileName().toUtf8());
                return;
            }
            m_socket->write(m_buffer.constData(), read);
            m_remaining -= read;
        }
        if (m_remaining > 0)
            return;
        m_file.reset();
        m_buffer = QByteArray();
        m_streaming = false;
        endResponse();
        processQueue();
    }

    void endResponse()
    {
        if (!m_closeAfterResponse)
            return;
        m_closing = true;
        m_pending.clear();
        if (m_draining) {
            // Closing with unread data would reset the connection, and a
            // client still sending would lose the response with it: stop
            // sending once it is out, drop what still arrives, and close when
            // the client does (or after a while). Qt's parser, which would
            // keep the body in memory, no longer reads the socket.
            disconnect(m_socket, &QTcpSocket::readyRead, nullptr, nullptr);
            if (m_socket->isTransactionStarted())
                m_socket->commitTransaction();
            connect(m_socket, &QTcpSocket::readyRead, this, &Connection::dropInput);
            connect(m_socket, &QTcpSocket::bytesWritten, this, &Connection::shutdownWhenSent);
            QTimer::singleShot(DrainTimeoutMs, m_socket, &QTcpSocket::abort);
            dropInput();
            shutdownWhenSent();
            return;
        }
        m_socket->disconnectFromHost();
    }

    void dropInput() { m_socket->skip(m_socket->bytesAvailable()); }

    void shutdownWhenSent()
    {
        if (m_shutDown || m_socket->bytesToWrite() > 0)
            return;
        m_shutDown = true;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    }

    void abortConnection(const QByteArray &why)
    {
        qCWarning(lcServer).noquote() << why;
        m_file.reset();
        m_streaming = false;
        m_closing = true;
        m_pending.clear();
        m_socket->abort();
    }

    FileServer *m_server;
    QTcpSocket *m_socket;
    QList<Request> m_pending;
    std::unique_ptr<QFile> m_file;
    QByteArray m_buffer;
    qint64 m_remaining = 0;
    QByteArray m_method;
    QByteArray m_path;
    QByteArray m_head;
    bool m_headSeen = false;
    bool m_streaming = false;
    bool m_processing = false;
    bool m_closing = false;
    bool m_closeAfterResponse = false;
    bool m_draining = false;
    bool m_shutDown = false;
};

FileServer::FileServer(QObject *parent)
    : QAbstractHttpServer(parent)
{ }

FileServer::~FileServer() = default;

bool FileServer::setRoot(const QString &path, QString *errorString)
{
    const QString partial = path + QLatin1Char('/') + PartialDirName;
    if (!QDir().mkpath(partial)) {
        *errorString = QStringLiteral("cannot create %1").arg(partial);
        return false;
    }
    m_root = QFileInfo(path).canonicalFilePath();
    m_partialDir = QFileInfo(partial).canonicalFilePath();
    if (m_root.isEmpty() || m_partialDir.isEmpty() || !isWithin(m_partialDir, m_root)) {
        *errorString = QStringLiteral("cannot use %1 as the root").arg(path);
        return false;
    }
    // Uploads interrupted by an earlier stop never reached their final name.
    QDirIterator leftovers(m_partialDir, QDir::Files | QDir::Hidden | QDir::System);
    while (leftovers.hasNext())
        QFile::remove(leftovers.next());
    return true;
}

// Gives each connection its Connection before Qt's server sees the socket.
class TcpServer : public QTcpServer
{
public:
    TcpServer(FileServer *server)
        : QTcpServer(server)
        , m_server(server)
    { }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QTcpSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            qCWarning(lcServer) << "cannot accept a connection:" << socket->errorString();
            delete socket;
            return;
        }
        new Connection(m_server, socket);
        addPendingConnection(socket);
    }

private:
    FileServer *m_server;
};

bool FileServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *server = new TcpServer(this);
    if (!server->listen(address, port)) {
        *errorString = server->errorString();
        delete server;
        return false;
    }
    m_tcpServer = server;
    bind(server);
    return true;
}

quint16 FileServer::port() const
{
    return m_tcpServer ? m_tcpServer->serverPort() : 0;
}

bool FileServer::isAuthorized(const QByteArray &authorization) const
{
    if (m_token.isEmpty())
        return true;
    const QByteArray value = authorization.trimmed();
    const qsizetype space = value.indexOf(' ');
    if (space < 0 || value.left(space).compare("Bearer", Qt::CaseInsensitive) != 0)
        return false;
    const QByteArray presented = value.mid(space + 1).trimmed();
    // Compared in constant time, so the response time tells nothing about how
    // much of a guessed token was right.
    unsigned char difference = presented.size() == m_token.size() ? 0 : 1;
    for (qsizetype i = 0; i < m_token.size(); ++i) {
        const char other = i < presented.size() ? presented.at(i) : '\0';
        difference |= static_cast<unsigned char>(m_token.at(i) ^ other);
    }
    return difference == 0;
}

FileServer::ResolvedPath FileServer::resolve(const QByteArray &encodedPath) const
{
    ResolvedPath result;
    auto refuse = [&result](int status, const char *reason) {
        result.status = status;
        result.reason = reason;
        return result;
    };
    if (!encodedPath.startsWith('/'))
        return refuse(400, "the path must start with '/'");

    QStringList segments;
    const QByteArray rest = encodedPath.mid(1);
    if (!rest.isEmpty()) {
        for (const QByteArray &encoded : rest.split('/')) {
            // Decoded one segment at a time, so that an encoded '/' or dot
            // segment cannot turn into a path step after the checks.
            const QByteArray raw = QByteArray::fromPercentEncoding(encoded);
            if (raw.isEmpty())
                return refuse(400, "empty path segment");
            if (raw == "." || raw == "..")
                return refuse(400, "dot segments are not allowed");
            if (raw.contains('/') || raw.contains('\\') || raw.contains('\0'))
                return refuse(400, "encoded separators are not allowed");
            const QString segment = QString::fromUtf8(raw);
            if (segment.toUtf8() != raw)
                return refuse(400, "the path is not valid UTF-8");
            segments.append(segment);
        }
    }
    if (!segments.isEmpty() && segments.first() == PartialDirName)
        return refuse(403, "forbidden");

    const QString filePath
        = segments.isEmpty() ? m_root : m_root + QLatin1Char('/') + segments.join(QLatin1Char('/'));
    // The nearest part of the path that exists decides where it really leads
    // once symbolic links are followed; what does not exist yet is created
    // below it as plain directories.
    QString probe = filePath;
    while (!QFileInfo::exists(probe) && !QFileInfo(probe).isSymLink())
        probe = QFileInfo(probe).absolutePath();
    const QString real = QFileInfo(probe).canonicalFilePath();
    if (real.isEmpty() || !isWithin(real, m_root) || isWithin(real, m_partialDir))
        return refuse(403, "forbidden");
    result.filePath = filePath;
    return result;
}

bool FileServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    auto *connection = socket->findChild<Connection *>(QString(), Qt::FindDirectChildrenOnly);
    if (!connection)
        connection = new Connection(this, socket);
    Request copy;
    copy.method = request.method();
    copy.path = request.url().path(QUrl::FullyEncoded).toUtf8();
    copy.headers = request.headers();
    copy.body = request.body();
    connection->enqueue(std::move(copy));
    return true;
}

void FileServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // Unreachable: every request is handled above.
    makeResponder(request, socket).write(QHttpServerResponder::StatusCode::NotFound);
}

#include "fileserver.moc"
