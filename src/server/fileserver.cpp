#include "fileserver.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qlocale.h>
#include <QtCore/qmimedatabase.h>
#include <QtCore/qtemporaryfile.h>
#include <QtCore/qtimer.h>
#include <QtCore/qtimezone.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcServer, "powersync.attachments.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcServerAccess, "powersync.attachments.server.access", QtInfoMsg)

namespace {

using Headers = QList<QPair<QByteArray, QByteArray>>;

// Bytes are read from the socket and from files in pieces of this size, and
// no more response data is queued while the socket still holds this much
// unsent: memory per connection stays bounded whatever the file size, the
// request size and the client's speed.
constexpr qint64 ChunkSize = 64 * 1024;
constexpr qint64 HighWaterMark = 256 * 1024;
// The body of a refused request is read and dropped, keeping the connection,
// when it is announced and no larger than this; otherwise the connection ends.
constexpr qint64 DiscardLimit = 64 * 1024;
// A closing connection drops what the client still sends for at most this long.
constexpr int LingerMs = 5000;
// Uploads are handed to the disk as they arrive, so the final fsync is short.
constexpr qint64 SyncInterval = 8 * 1024 * 1024;
// Requests of one connection handled in one turn of the event loop.
constexpr int RequestsPerTurn = 8;
// Longest target written to the log.
constexpr qsizetype MaxLoggedTarget = 1024;

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
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
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    }
    return "Unknown";
}

QByteArray httpDate(const QDateTime &time)
{
    return QLocale::c()
        .toString(time.toUTC(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
        .toLatin1();
}

// IMF-fixdate, the only form servers send today; anything else is invalid.
QDateTime parseHttpDate(const QByteArray &text)
{
    if (text.size() != 29 || text.at(16) != ' ' || !text.endsWith(" GMT"))
        return {};
    const QDate date = QLocale::c().toDate(QString::fromLatin1(text.left(16)),
                                           QStringLiteral("ddd, dd MMM yyyy"));
    const QTime time
        = QTime::fromString(QString::fromLatin1(text.mid(17, 8)), QStringLiteral("hh:mm:ss"));
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, QTimeZone::utc());
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

// If-None-Match: `*` or a list of entity tags, compared weakly.
bool noneMatchHits(const QByteArray &header, const QByteArray &etag)
{
    for (const QByteArray &part : header.split(',')) {
        QByteArray tag = part.trimmed();
        if (tag == "*")
            return true;
        if (tag.startsWith("W/"))
            tag = tag.mid(2);
        if (tag == etag)
            return true;
    }
    return false;
}

// Types a browser would run or render with scripts when a stored file is
// opened from this server's origin.
bool isActiveType(const QByteArray &type)
{
    static const QByteArrayList active {
        "text/html",       "application/xhtml+xml",  "text/xml",
        "application/xml", "text/javascript",        "application/javascript",
        "text/xsl",        "application/xslt+xml",   "application/x-shockwave-flash",
        "text/ecmascript", "application/ecmascript", "application/x-javascript",
    };
    return active.contains(type) || type.endsWith("+xml");
}

// What goes into the log of a target or method that may be anything a client
// sent: every byte outside visible ASCII percent-encoded, and not too much.
QByteArray loggable(const QByteArray &text)
{
    if (text.isEmpty())
        return "-";
    QByteArray out;
    const qsizetype length = qMin(text.size(), MaxLoggedTarget);
    out.reserve(length);
    static const char hex[] = "0123456789ABCDEF";
    for (qsizetype i = 0; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text.at(i));
        if (byte > 0x20 && byte < 0x7f) {
            out += char(byte);
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    if (text.size() > length)
        out += "...";
    return out;
}

void syncDirectory(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    ::fsync(fd);
    ::close(fd);
}

} // namespace

// One client connection: reads its requests one after the other with the
// strict parser, answers them in order, streams bodies both ways through
// fixed-size buffers, and ends it when a limit or a timeout is reached.
class Connection : public QObject
{
    Q_OBJECT

public:
    Connection(FileServer *server, QTcpSocket *socket, const QHostAddress &client)
        : QObject(socket)
        , m_server(server)
        , m_socket(socket)
        , m_client(client)
        , m_limits(server->limits())
        , m_parser(m_limits.http)
    {
        m_socket->setReadBufferSize(ChunkSize);
        connect(m_socket, &QTcpSocket::readyRead, this, &Connection::drive);
        connect(m_socket, &QTcpSocket::bytesWritten, this, [this] {
            m_lastProgress.restart();
            drive();
        });
        connect(m_socket, &QTcpSocket::disconnected, this, &Connection::closed);
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, &Connection::checkTimeouts);
        m_lastProgress.start();
        drive();
    }

    ~Connection() override { m_server->connectionClosed(m_client); }

private:
    enum class State { Head, Body, Streaming, Closing };
    enum class Sink { Discard, File };

    void closed()
    {
        if (m_upload)
            qCInfo(lcServer).noquote() << "upload to" << loggable(m_target) << "cut off";
        m_upload.reset();
        m_file.reset();
        m_timer.stop();
        m_state = State::Closing;
        m_socket->deleteLater();
    }

    // Moves the connection on as far as the data at hand and the space in
    // the socket allow. Called whenever either changes.
    void drive()
    {
        if (m_driving)
            return;
        m_driving = true;
        int handled = 0;
        while (true) {
            if (m_state == State::Streaming) {
                if (!pump())
                    break;
                continue;
            }
            if (m_state == State::Closing) {
                dropInput();
                shutdownWhenSent();
                break;
            }
            // Responses the client does not read hold back the requests
            // behind them.
            if (m_state == State::Head && m_socket->bytesToWrite() >= HighWaterMark)
                break;
            // One client's pipelined requests do not keep the others waiting:
            // after a few, the rest wait for the next turn of the event loop.
            if (m_state == State::Head && handled >= RequestsPerTurn) {
                if (!m_turnPending) {
                    m_turnPending = true;
                    QMetaObject::invokeMethod(this, &Connection::nextTurn, Qt::QueuedConnection);
                }
                break;
            }
            if (m_inPos == m_inEnd && !fillInput())
                break;
            if (m_state == State::Head) {
                const int before = m_requests;
                readHead();
                handled += m_requests - before;
            } else {
                readBody();
            }
        }
        m_driving = false;
        armTimer();
    }

    void nextTurn()
    {
        m_turnPending = false;
        drive();
    }

    bool fillInput()
    {
        if (m_socket->state() != QAbstractSocket::ConnectedState || !m_socket->bytesAvailable())
            return false;
        if (m_in.size() != ChunkSize)
            m_in.resize(ChunkSize);
        const qint64 read = m_socket->read(m_in.data(), ChunkSize);
        if (read <= 0)
            return false;
        m_inPos = 0;
        m_inEnd = read;
        m_lastProgress.restart();
        return true;
    }

    void readHead()
    {
        const qsizetype used = m_parser.feed(m_in.constData() + m_inPos, m_inEnd - m_inPos);
        m_inPos += used;
        switch (m_parser.state()) {
        case HttpRequestParser::State::Idle:
            break;
        case HttpRequestParser::State::Partial:
            if (!m_headStarted.isValid())
                m_headStarted.start();
            break;
        case HttpRequestParser::State::Error:
            m_method = m_parser.head().method;
            m_target = m_parser.head().target;
            m_bodyPending = false;
            m_close = true;
            respondError(m_parser.errorStatus(), m_parser.errorReason());
            break;
        case HttpRequestParser::State::Complete:
            handleRequest();
            break;
        }
        // An idle keep-alive connection holds no input buffer.
        if (m_inPos == m_inEnd && m_state == State::Head
            && m_parser.state() == HttpRequestParser::State::Idle)
            m_in = QByteArray();
    }

    void handleRequest()
    {
        m_request = m_parser.head();
        m_parser.reset();
        m_headStarted.invalidate();
        ++m_requests;
        m_method = m_request.method;
        m_target = m_request.target;
        m_close = !m_request.keepAlive || m_requests >= m_limits.maxRequestsPerConnection;
        m_bodyPending = m_request.hasBody();
        m_bodyRemaining = m_request.chunked ? 0 : m_request.contentLength;
        m_decoder = HttpChunkedDecoder();
        m_sink = Sink::Discard;
        m_received = 0;

        const QByteArray authorization = m_request.header("authorization");
        if (!m_server->isAuthorized(authorization)) {
            const QByteArray challenge = authorization.isEmpty()
                ? QByteArray("Bearer realm=\"attachments\"")
                : QByteArray("Bearer realm=\"attachments\", error=\"invalid_token\"");
            refuse(401, "a valid bearer token is required", {{"WWW-Authenticate", challenge}});
            return;
        }

        if (m_method == "PUT") {
            storeFile();
            return;
        }
        // Bodies of other requests are not used: dropped when small enough.
        keepBodyOnlyIfSmall();
        if (m_method == "GET")
            serveFile(true);
        else if (m_method == "HEAD")
            serveFile(false);
        else if (m_method == "DELETE")
            removeFile();
        else
            respondError(405, "only GET, HEAD, PUT and DELETE are supported",
                         {{"Allow", "GET, HEAD, PUT, DELETE"}});
    }

    // A request body that will not be used is read and dropped after the
    // response when it is small and announced; otherwise the connection ends
    // after the response. A client that asked whether to send it (Expect)
    // has been answered with a final status and may not send it at all.
    void keepBodyOnlyIfSmall()
    {
        if (m_bodyPending
            && (m_request.chunked || m_bodyRemaining > DiscardLimit || m_request.expectContinue))
            m_close = true;
    }

    void refuse(int status, const QByteArray &message, Headers headers = {})
    {
        keepBodyOnlyIfSmall();
        respondError(status, message, std::move(headers));
    }

    void serveFile(bool withBody)
    {
        const FileServer::ResolvedPath resolved = m_server->resolve(m_request.path());
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

        const QByteArray ifNoneMatch = m_request.header("if-none-match");
        bool notModified = false;
        if (!ifNoneMatch.isNull()) {
            notModified = noneMatchHits(ifNoneMatch, etag);
        } else {
            const QDateTime since = parseHttpDate(m_request.header("if-modified-since"));
            notModified
                = since.isValid() && modified.toSecsSinceEpoch() <= since.toSecsSinceEpoch();
        }
        if (notModified) {
            writeHead(304, {{"ETag", etag}, {"Last-Modified", lastModified}}, -1);
            endResponse();
            return;
        }

        static const QMimeDatabase mimeDatabase;
        const QByteArray type
            = mimeDatabase.mimeTypeForFile(info, QMimeDatabase::MatchExtension).name().toUtf8();
        Headers headers {
            {"Content-Type", type},
            {"Accept-Ranges", "bytes"},
            {"Last-Modified", lastModified},
            {"ETag", etag},
            {"Content-Security-Policy", "default-src 'none'; sandbox"},
        };
        // Stored files are data: a browser saves what could run as a page.
        if (isActiveType(type))
            headers.emplaceBack("Content-Disposition", "attachment");

        QByteArray range = m_request.header("range");
        // A range of a file that changed since the client's copy would splice
        // two versions together: send the whole file instead.
        const QByteArray ifRange = m_request.header("if-range").trimmed();
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
        m_state = State::Streaming;
    }

    void storeFile()
    {
        if (!m_request.chunked && m_request.header("content-length").isNull()) {
            m_close = true;
            respondError(411, "uploads need a Content-Length or a chunked body");
            return;
        }
        const FileServer::ResolvedPath resolved = m_server->resolve(m_request.path());
        if (resolved.status) {
            refuse(resolved.status, resolved.reason);
            return;
        }
        const qint64 limit = m_limits.maxUploadSize;
        if (limit > 0 && !m_request.chunked && m_request.contentLength > limit) {
            // The body that would follow is not read: the connection ends.
            m_close = true;
            respondError(413, tooLargeMessage(limit));
            return;
        }
        const QFileInfo info(resolved.filePath);
        if (info.isDir()) {
            refuse(409, "the path is a directory");
            return;
        }
        if (!QDir().mkpath(info.absolutePath())) {
            refuse(409, "cannot create the parent directory");
            return;
        }

        // Written next to the final name and renamed over it only when
        // complete, so readers see the old file or the new one, never a part.
        auto upload = std::make_unique<QTemporaryFile>(info.absolutePath() + QLatin1Char('/')
                                                       + FileServer::UploadPrefix
                                                       + QStringLiteral("XXXXXX"));
        if (!upload->open()) {
            refuse(500, upload->errorString().toUtf8());
            return;
        }
        m_upload = std::move(upload);
        m_uploadPath = resolved.filePath;
        m_synced = 0;
        m_sink = Sink::File;
        m_state = State::Body;
        if (m_request.expectContinue)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        if (!m_bodyPending)
            bodyDone();
    }

    static QByteArray tooLargeMessage(qint64 limit)
    {
        return "uploads are limited to " + QByteArray::number(limit) + " bytes";
    }

    void readBody()
    {
        const char *data = m_in.constData() + m_inPos;
        const qsizetype available = m_inEnd - m_inPos;
        if (!m_request.chunked) {
            const qsizetype length = qsizetype(qMin<qint64>(available, m_bodyRemaining));
            m_inPos += length;
            m_bodyRemaining -= length;
            if (!take(data, length))
                return;
            if (m_bodyRemaining == 0)
                bodyDone();
            return;
        }
        const HttpChunkedDecoder::Step step = m_decoder.feed(data, available);
        m_inPos += step.consumed;
        if (step.length > 0 && !take(data + step.offset, step.length))
            return;
        if (m_decoder.state() == HttpChunkedDecoder::State::Error) {
            failBody(400, m_decoder.errorReason());
        } else if (m_decoder.state() == HttpChunkedDecoder::State::Done) {
            bodyDone();
        }
    }

    bool take(const char *data, qsizetype length)
    {
        if (m_sink == Sink::Discard || length == 0)
            return true;
        m_received += length;
        const qint64 limit = m_limits.maxUploadSize;
        if (limit > 0 && m_received > limit) {
            failBody(413, tooLargeMessage(limit));
            return false;
        }
        if (m_upload->write(data, length) != length) {
            failBody(507, m_upload->errorString().toUtf8());
            return false;
        }
#ifdef Q_OS_LINUX
        if (m_received - m_synced >= SyncInterval && m_upload->flush()) {
            // Starts writing back what arrived, without waiting for it.
            ::sync_file_range(m_upload->handle(), m_synced, m_received - m_synced,
                              SYNC_FILE_RANGE_WRITE);
            m_synced = m_received;
        }
#endif
        return true;
    }

    // The body cannot be taken: answered, and the rest of it is not read.
    void failBody(int status, const QByteArray &message)
    {
        m_upload.reset();
        m_bodyPending = false;
        m_close = true;
        respondError(status, message);
    }

    void bodyDone()
    {
        m_bodyPending = false;
        if (m_sink == Sink::File) {
            finishUpload();
            return;
        }
        m_state = State::Head;
    }

    void finishUpload()
    {
        std::unique_ptr<QTemporaryFile> upload = std::move(m_upload);
        m_sink = Sink::Discard;
        if (!upload->flush() || ::fsync(upload->handle()) != 0) {
            respondError(507, QByteArray("cannot write the upload: ") + std::strerror(errno));
            return;
        }
        upload->setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner
                               | QFileDevice::ReadGroup | QFileDevice::ReadOther);
        upload->close();
        const QFileInfo info(m_uploadPath);
        const bool replaced = info.exists() || info.isSymLink();
        if (std::rename(QFile::encodeName(upload->fileName()).constData(),
                        QFile::encodeName(m_uploadPath).constData())
            != 0) {
            respondError(500,
                         QByteArray("cannot move the upload into place: ") + std::strerror(errno));
            return;
        }
        upload->setAutoRemove(false);
        syncDirectory(info.absolutePath());
        respond(replaced ? 204 : 201, {}, {});
    }

    void removeFile()
    {
        const FileServer::ResolvedPath resolved = m_server->resolve(m_request.path());
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

    // contentLength < 0: a response without a body or a length (304).
    void writeHead(int status, const Headers &headers, qint64 contentLength)
    {
        qCInfo(lcServerAccess).noquote().nospace()
            << loggable(m_method) << ' ' << loggable(m_target) << ' ' << status << ' '
            << qMax<qint64>(0, contentLength);
        QByteArray head
            = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
        head += "Date: " + httpDate(QDateTime::currentDateTimeUtc()) + "\r\n";
        for (const auto &header : headers)
            head += header.first + ": " + header.second + "\r\n";
        head += "X-Content-Type-Options: nosniff\r\n";
        if (contentLength >= 0)
            head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
        if (m_close)
            head += "Connection: close\r\n";
        head += "\r\n";
        m_socket->write(head);
    }

    // The response is queued whole: on to the request body still to be
    // dropped, the next request, or the end of the connection.
    void endResponse()
    {
        m_request = HttpRequestHead();
        if (m_close) {
            enterClosing();
            return;
        }
        if (m_bodyPending) {
            m_sink = Sink::Discard;
            m_state = State::Body;
            return;
        }
        m_state = State::Head;
    }

    // Queues file data while the socket has room; true once the whole body
    // is queued (or the connection was aborted).
    bool pump()
    {
        while (m_remaining > 0 && m_socket->bytesToWrite() < HighWaterMark) {
            if (m_buffer.size() != ChunkSize)
                m_buffer.resize(ChunkSize);
            const qint64 read = m_file->read(m_buffer.data(), qMin(ChunkSize, m_remaining));
            if (read <= 0) {
                // The file shrank or failed under us; the announced length can
                // no longer be kept, and a short body must not look complete.
                abortConnection("short read from " + m_file->fileName().toUtf8());
                return true;
            }
            m_socket->write(m_buffer.constData(), read);
            m_remaining -= read;
        }
        if (m_remaining > 0)
            return false;
        m_file.reset();
        m_buffer = QByteArray();
        endResponse();
        return true;
    }

    // Closing with unread data would reset the connection, and a client
    // still sending would lose the response with it: stop sending once it is
    // out, drop what still arrives, and close when the client does (or after
    // LingerMs).
    void enterClosing()
    {
        m_state = State::Closing;
        m_closingSince.start();
        // The idle clock starts again: a reset right after the last response
        // byte would be the very loss this lingering avoids.
        m_lastProgress.restart();
        m_upload.reset();
        m_file.reset();
        m_in = QByteArray();
        m_inPos = m_inEnd = 0;
        m_parser.reset();
    }

    // A client still sending is still there: it gets until LingerMs to read
    // the response and close.
    void dropInput()
    {
        if (m_socket->bytesAvailable() > 0 && m_socket->skip(m_socket->bytesAvailable()) > 0)
            m_lastProgress.restart();
    }

    void shutdownWhenSent()
    {
        if (m_shutDown || m_socket->bytesToWrite() > 0
            || m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        m_shutDown = true;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    }

    void abortConnection(const QByteArray &why)
    {
        if (!why.isEmpty())
            qCWarning(lcServer).noquote() << why;
        m_upload.reset();
        m_file.reset();
        m_state = State::Closing;
        m_timer.stop();
        m_socket->abort();
    }

    void armTimer()
    {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        qint64 next = m_limits.idleTimeoutMs - m_lastProgress.elapsed();
        if (m_state == State::Head && m_headStarted.isValid())
            next = qMin<qint64>(next, m_limits.headTimeoutMs - m_headStarted.elapsed());
        if (m_state == State::Closing)
            next = qMin<qint64>(next, LingerMs - m_closingSince.elapsed());
        m_timer.start(int(qBound(qint64(0), next, qint64(std::numeric_limits<int>::max()))));
    }

    void checkTimeouts()
    {
        if (m_state == State::Closing) {
            if (m_closingSince.elapsed() >= LingerMs
                || m_lastProgress.elapsed() >= m_limits.idleTimeoutMs) {
                abortConnection({});
                return;
            }
        } else if (m_state == State::Head && m_headStarted.isValid()
                   && m_headStarted.elapsed() >= m_limits.headTimeoutMs) {
            timeOut("the request head did not arrive in time");
            return;
        } else if (m_lastProgress.elapsed() >= m_limits.idleTimeoutMs) {
            if (m_state == State::Head && !m_headStarted.isValid()
                && m_socket->bytesToWrite() == 0) {
                // An idle keep-alive connection: closed without a word.
                enterClosing();
                drive();
                return;
            }
            if (m_state == State::Head || m_state == State::Body) {
                timeOut("the request did not arrive in time");
                return;
            }
            // The client stopped reading.
            abortConnection({});
            return;
        }
        armTimer();
    }

    void timeOut(const QByteArray &message)
    {
        if (m_state == State::Head) {
            m_method = m_parser.head().method;
            m_target = m_parser.head().target;
        }
        m_upload.reset();
        m_bodyPending = false;
        m_close = true;
        respondError(408, message);
        drive();
    }

    FileServer *m_server;
    QTcpSocket *m_socket;
    QHostAddress m_client;
    const ServerLimits m_limits;
    HttpRequestParser m_parser;
    HttpRequestHead m_request;
    HttpChunkedDecoder m_decoder;
    State m_state = State::Head;
    Sink m_sink = Sink::Discard;
    QTimer m_timer;
    QElapsedTimer m_lastProgress;
    QElapsedTimer m_headStarted;
    QElapsedTimer m_closingSince;

    QByteArray m_in; // what was read from the socket, from m_inPos to m_inEnd unused
    qsizetype m_inPos = 0;
    qsizetype m_inEnd = 0;

    QByteArray m_method; // of the current request, for the log and HEAD
    QByteArray m_target;
    int m_requests = 0;
    bool m_close = false; // after the current response
    bool m_bodyPending = false;
    qint64 m_bodyRemaining = 0;
    qint64 m_received = 0;
    qint64 m_synced = 0;
    std::unique_ptr<QTemporaryFile> m_upload;
    QString m_uploadPath;

    std::unique_ptr<QFile> m_file; // of the response being streamed
    QByteArray m_buffer;
    qint64 m_remaining = 0;

    bool m_driving = false;
    bool m_turnPending = false;
    bool m_shutDown = false;
};

FileServer::FileServer(QObject *parent)
    : QObject(parent)
{ }

FileServer::~FileServer()
{
    // Connections report their end to this object: gone before its members.
    delete m_tcpServer;
}

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
    // Symbolic links are not followed: only what is really under the root.
    QDirIterator uploads(m_root, {UploadPrefix + QLatin1Char('*')},
                         QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (uploads.hasNext()) {
        const QString file = uploads.next();
        if (!QFileInfo(file).isSymLink())
            QFile::remove(file);
    }
    return true;
}

bool FileServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(address, port)) {
        *errorString = server->errorString();
        delete server;
        return false;
    }
    m_tcpServer = server;
    connect(server, &QTcpServer::newConnection, this, &FileServer::acceptConnections);
    return true;
}

quint16 FileServer::port() const
{
    return m_tcpServer ? m_tcpServer->serverPort() : 0;
}

void FileServer::acceptConnections()
{
    while (QTcpSocket *socket = m_tcpServer->nextPendingConnection()) {
        QHostAddress client = socket->peerAddress();
        bool isV4 = false;
        const quint32 v4 = client.toIPv4Address(&isV4);
        if (isV4)
            client = QHostAddress(v4);
        const int fromClient = m_perClient.value(client);
        if (m_connections >= m_limits.maxConnections
            || fromClient >= m_limits.maxConnectionsPerClient) {
            if (!m_lastRefusalLog.isValid() || m_lastRefusalLog.elapsed() > 10000) {
                m_lastRefusalLog.start();
                qCWarning(lcServer).noquote() << "refusing connections from" << client.toString()
                                              << "(limit reached:" << m_connections << "in total,"
                                              << fromClient << "from that address)";
            }
            socket->abort();
            socket->deleteLater();
            continue;
        }
        m_perClient.insert(client, fromClient + 1);
        ++m_connections;
        new Connection(this, socket, client);
    }
}

void FileServer::connectionClosed(const QHostAddress &client)
{
    --m_connections;
    auto it = m_perClient.find(client);
    if (it != m_perClient.end() && --it.value() <= 0)
        m_perClient.erase(it);
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
            // Uploads in progress, anywhere, are nobody's business.
            if (segment.startsWith(UploadPrefix))
                return refuse(403, "forbidden");
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

#include "fileserver.moc"
