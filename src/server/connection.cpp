#include "connection.h"

#include "fileresponse.h"
#include "httpfields.h"
#include "uploadfile.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtNetwork/qtcpsocket.h>

#include <limits>
#include <sys/socket.h>

using namespace HttpFields;

namespace {

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
// Requests of one connection handled in one turn of the event loop.
constexpr int RequestsPerTurn = 8;

} // namespace

Connection::Connection(FileServer *server, QTcpSocket *socket, const QHostAddress &client)
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

Connection::~Connection()
{
    m_server->connectionClosed(m_client);
}

void Connection::closed()
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
void Connection::drive()
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

void Connection::nextTurn()
{
    m_turnPending = false;
    drive();
}

bool Connection::fillInput()
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

void Connection::readHead()
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

void Connection::handleRequest()
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
void Connection::keepBodyOnlyIfSmall()
{
    if (m_bodyPending
        && (m_request.chunked || m_bodyRemaining > DiscardLimit || m_request.expectContinue))
        m_close = true;
}

void Connection::refuse(int status, const QByteArray &message, Headers headers)
{
    keepBodyOnlyIfSmall();
    respondError(status, message, std::move(headers));
}

void Connection::serveFile(bool withBody)
{
    const FileServer::ResolvedPath resolved = m_server->resolve(m_request.path());
    if (resolved.status) {
        respondError(resolved.status, resolved.reason);
        return;
    }
    FileResponse response = FileResponse::prepare(resolved.filePath, m_request);
    if (response.isError()) {
        respondError(response.status, response.error, std::move(response.headers));
        return;
    }
    writeHead(response.status, response.headers, response.length);
    if (!withBody || response.length <= 0) {
        endResponse();
        return;
    }
    if (response.first > 0 && !response.file->seek(response.first)) {
        abortConnection("cannot seek in " + resolved.filePath.toUtf8());
        return;
    }
    m_file = std::move(response.file);
    m_remaining = response.length;
    m_state = State::Streaming;
}

void Connection::storeFile()
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

    auto upload = std::make_unique<UploadFile>(resolved.filePath);
    QByteArray error;
    if (!upload->open(&error)) {
        refuse(500, error);
        return;
    }
    m_upload = std::move(upload);
    m_sink = Sink::File;
    m_state = State::Body;
    if (m_request.expectContinue)
        m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    if (!m_bodyPending)
        bodyDone();
}

QByteArray Connection::tooLargeMessage(qint64 limit)
{
    return "uploads are limited to " + QByteArray::number(limit) + " bytes";
}

void Connection::readBody()
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

bool Connection::take(const char *data, qsizetype length)
{
    if (m_sink == Sink::Discard || length == 0)
        return true;
    m_received += length;
    const qint64 limit = m_limits.maxUploadSize;
    if (limit > 0 && m_received > limit) {
        failBody(413, tooLargeMessage(limit));
        return false;
    }
    QByteArray error;
    if (!m_upload->write(data, length, &error)) {
        failBody(507, error);
        return false;
    }
    return true;
}

// The body cannot be taken: answered, and the rest of it is not read.
void Connection::failBody(int status, const QByteArray &message)
{
    m_upload.reset();
    m_bodyPending = false;
    m_close = true;
    respondError(status, message);
}

void Connection::bodyDone()
{
    m_bodyPending = false;
    if (m_sink == Sink::File) {
        finishUpload();
        return;
    }
    m_state = State::Head;
}

void Connection::finishUpload()
{
    std::unique_ptr<UploadFile> upload = std::move(m_upload);
    m_sink = Sink::Discard;
    const UploadFile::Result result = upload->commit();
    if (!result.error.isEmpty()) {
        respondError(result.status, result.error);
        return;
    }
    respond(result.status, {}, {});
}

void Connection::removeFile()
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

void Connection::respondError(int status, const QByteArray &message, Headers headers)
{
    headers.emplaceBack("Content-Type", "text/plain; charset=utf-8");
    respond(status, headers, message + '\n');
}

void Connection::respond(int status, const Headers &headers, const QByteArray &body)
{
    writeHead(status, headers, body.size());
    // A HEAD answer, errors included, ends with its head.
    if (m_method != "HEAD")
        m_socket->write(body);
    endResponse();
}

// contentLength < 0: a response without a body or a length (304).
void Connection::writeHead(int status, const Headers &headers, qint64 contentLength)
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
void Connection::endResponse()
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
bool Connection::pump()
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
void Connection::enterClosing()
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
void Connection::dropInput()
{
    if (m_socket->bytesAvailable() > 0 && m_socket->skip(m_socket->bytesAvailable()) > 0)
        m_lastProgress.restart();
}

void Connection::shutdownWhenSent()
{
    if (m_shutDown || m_socket->bytesToWrite() > 0
        || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    m_shutDown = true;
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
}

void Connection::abortConnection(const QByteArray &why)
{
    if (!why.isEmpty())
        qCWarning(lcServer).noquote() << why;
    m_upload.reset();
    m_file.reset();
    m_state = State::Closing;
    m_timer.stop();
    m_socket->abort();
}

void Connection::armTimer()
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

void Connection::checkTimeouts()
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
        if (m_state == State::Head && !m_headStarted.isValid() && m_socket->bytesToWrite() == 0) {
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

void Connection::timeOut(const QByteArray &message)
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
