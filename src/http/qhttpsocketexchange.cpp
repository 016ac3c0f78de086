#include "qhttpsocketexchange_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentremotestorage.h"
#include "qhttpconnectioncache_p.h"
#include "qhttpwire_p.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qiodevice.h>
#include <QtCore/qvarlengtharray.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkcookie.h>
#include <QtNetwork/qnetworkcookiejar.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslsocket.h>

#include <typeinfo>

namespace {

// Headers this path writes itself; a caller's own values for them are not
// sent twice.
bool isOwnHeader(const QByteArray &name)
{
    return name.compare("Host", Qt::CaseInsensitive) == 0
        || name.compare("Content-Length", Qt::CaseInsensitive) == 0
        || name.compare("Connection", Qt::CaseInsensitive) == 0
        || name.compare("Accept-Encoding", Qt::CaseInsensitive) == 0;
}

bool usesProxy(QNetworkAccessManager *manager, const QUrl &url)
{
    if (manager->proxyFactory())
        return true;
    const QNetworkProxy::ProxyType own = manager->proxy().type();
    if (own != QNetworkProxy::NoProxy && own != QNetworkProxy::DefaultProxy)
        return true;
    if (own == QNetworkProxy::NoProxy)
        return false;
    // The application's proxy, its factory or the system's configuration.
    const QList<QNetworkProxy> proxies
        = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(url));
    for (const QNetworkProxy &proxy : proxies) {
        if (proxy.type() != QNetworkProxy::NoProxy)
            return true;
    }
    return false;
}

} // namespace

QString QHttpSocketExchange::whyNotStream(const QHttpRequest &request,
                                          QNetworkAccessManager *manager, bool http2)
{
    const QUrl url = request.request.url();
    const QString scheme = url.scheme().toLower();
    if (!manager)
        return QStringLiteral("no network access manager");
    // A subclass may change requests in createRequest() (attributes, headers,
    // bookkeeping): only the manager itself can honour that.
    if (typeid(*manager) != typeid(QNetworkAccessManager))
        return QStringLiteral("the manager is a subclass of QNetworkAccessManager");
    if (request.sink) {
        if (request.body)
            return QStringLiteral("a body and a sink");
        if (request.resumeFrom > 0)
            return QStringLiteral("a resumed download");
        if (request.partsOverHttp1 || request.partsFromTheStart)
            return QStringLiteral("a download in parts");
        if (!request.sink->isWritable())
            return QStringLiteral("the sink is not open for writing");
    } else if (!request.body || request.body->isSequential() || !request.body->isReadable()) {
        return QStringLiteral("the body is not a random-access file");
    }
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return QStringLiteral("not http or https");
    if (!url.isValid() || url.host().isEmpty())
        return QStringLiteral("no host");
    if (!url.userInfo().isEmpty())
        return QStringLiteral("user info in the URL");
    if (scheme == QLatin1String("https") && !QSslSocket::supportsSsl())
        return QStringLiteral("no TLS backend");
    if (http2) {
        if (scheme != QLatin1String("http"))
            return QStringLiteral("HTTP/2 with prior knowledge is for http:// only");
        const QVariant allowed = request.request.attribute(QNetworkRequest::Http2AllowedAttribute);
        if (allowed.isValid() && !allowed.toBool())
            return QStringLiteral("HTTP/2 refused by the request");
    } else if (request.request.attribute(QNetworkRequest::Http2AllowedAttribute).toBool()
               || request.request.attribute(QNetworkRequest::Http2DirectAttribute).toBool()) {
        return QStringLiteral("HTTP/2 asked for");
    }
    if (request.request.hasRawHeader("Transfer-Encoding") || request.request.hasRawHeader("Expect"))
        return QStringLiteral("Transfer-Encoding or Expect set");
    if (manager->isStrictTransportSecurityEnabled() && scheme == QLatin1String("http"))
        return QStringLiteral("strict transport security is enabled");
    if (usesProxy(manager, url))
        return QStringLiteral("a proxy is configured");
    if (manager->cookieJar() && !manager->cookieJar()->cookiesForUrl(url).isEmpty())
        return QStringLiteral("cookies for the URL");
    return {};
}

QHttpSocketExchange::QHttpSocketExchange(QObject *parent)
    : QObject(parent)
    , m_silence(this, [this] { onTimeout(); })
{ }

QHttpSocketExchange::~QHttpSocketExchange()
{
    m_done = true;
    closeSocket();
    releaseSlot();
}

QString QHttpSocketExchange::host() const
{
    return QHttpWire::hostOf(m_request.request.url());
}

void QHttpSocketExchange::touch()
{
    m_silence.touch(m_request.transferTimeoutMs);
}

void QHttpSocketExchange::resetResponse()
{
    m_parser = QHttpResponseParser(m_request.maxKeptBody);
    if (m_http2)
        m_h2 = std::make_unique<QHttp2RequestCodec>(m_request.maxKeptBody);
    m_toSink = false;
    m_expected = -1;
    m_pendingError = QAttachmentError();
    if (m_request.sink)
        m_parser.setHeadersHandler([this] { return takeHeaders(); });
}

// A download's final answer: a 2xx is checked and its body goes to the sink
// as it arrives; anything else is kept, to name the failure.
bool QHttpSocketExchange::takeHeaders()
{
    const int status = m_parser.status();
    if (status < 200 || status >= 300)
        return true;
    const qint64 announced = m_parser.contentLength();
    if (announced < 0 && !m_parser.isChunked()) {
        m_pendingError = QAttachmentError(
            QAttachmentError::ProtocolError,
            QStringLiteral("HTTP %1 response has neither a Content-Length nor chunked encoding; "
                           "a cut-off body would go unnoticed")
                .arg(status),
            status);
        return false;
    }
    m_expected = announced;
    if (status == 206) {
        // No range was asked for: a part is only the whole resource.
        const QByteArray header = m_parser.header("Content-Range");
        const QHttpWire::ContentRange range = QHttpWire::parseContentRange(header);
        if (range.first != 0 || !range.reachesEnd()
            || (announced >= 0 && announced != range.length())) {
            m_pendingError = QAttachmentError(
                QAttachmentError::ProtocolError,
                QStringLiteral("%1 answered the request for the bytes from 0 on with "
                               "Content-Range \"%2\" and Content-Length %3")
                    .arg(host(), QString::fromLatin1(header.left(100)), QString::number(announced)),
                status);
            return false;
        }
        m_expected = range.length();
    }
    // Kept with the bytes, for a later attempt to resume against.
    m_request.sink->setProperty(
        QAttachmentRemoteStorage::ResumeValidatorProperty,
        QHttpWire::rangeValidator(m_parser.header("ETag"), m_parser.header("Last-Modified")));
    m_toSink = true;
    m_parser.setBodySink([this](QByteArrayView bytes) { return toSink(bytes); });
    if (onProgress)
        onProgress(0, m_expected);
    return true;
}

bool QHttpSocketExchange::toSink(QByteArrayView bytes)
{
    if (m_expected >= 0 && m_parser.bodyReceived() > m_expected) {
        m_pendingError = QAttachmentError(
            QAttachmentError::ProtocolError,
            QStringLiteral("response body is longer than the announced %1 bytes").arg(m_expected),
            m_parser.status());
        return false;
    }
    if (m_request.sink->write(bytes.data(), bytes.size()) != bytes.size()) {
        m_pendingError = QAttachmentError(QAttachmentError::LocalStorageError,
                                          QStringLiteral("writing the downloaded data failed: %1")
                                              .arg(m_request.sink->errorString()));
        return false;
    }
    return true;
}

void QHttpSocketExchange::start(const QHttpRequest &request)
{
    m_request = request;
    resetResponse();
    const QUrl url = request.request.url();
    const QByteArray method = request.method.trimmed().toUpper();
    const QString problem = QHttpWire::problemWithRequest(request.request, method);
    if (!problem.isEmpty()) {
        fail(QAttachmentError(
            QAttachmentError::InvalidInput,
            QStringLiteral("refusing to send the request to %1: %2").arg(host(), problem)));
        return;
    }
    if (QIODevice *body = request.body) {
        m_bodyStart = body->pos();
        const qint64 remaining = qMax<qint64>(0, body->size() - m_bodyStart);
        if (request.bodySize > remaining) {
            fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                  QStringLiteral("request body has %1 bytes, %2 expected")
                                      .arg(remaining)
                                      .arg(request.bodySize)));
            return;
        }
        m_total = request.bodySize >= 0 ? request.bodySize : remaining;
    }
    m_tls = url.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    m_origin = QHttpConnectionCache::originOf(url);

    qCDebug(lcHttp).noquote() << method << QHttpWire::redactedUrl(url) << "body" << m_total
                              << (m_http2 ? "streamed over HTTP/2" : "streamed over HTTP/1.1");
    if (onProgress && !request.sink)
        onProgress(0, m_total);
    // An HTTP/2 connection carries this one request and ends with it.
    if (!m_cache || m_http2) {
        touch();
        connectSocket(nullptr);
        return;
    }
    const quint64 ticket = m_cache->acquire(m_origin, m_connectionLimit, [this] {
        m_ticket = 0;
        m_holdsSlot = true;
        begin();
    });
    if (!m_holdsSlot && !m_done) {
        m_ticket = ticket;
        m_silence.stop();
        qCDebug(lcHttp) << "upload waits for a connection to" << host();
    }
}

void QHttpSocketExchange::begin()
{
    if (m_done)
        return;
    touch();
    connectSocket(m_cache ? m_cache->take(m_origin, m_request.request.sslConfiguration(), this)
                          : nullptr);
}

void QHttpSocketExchange::releaseSlot()
{
    if (!m_cache)
        return;
    if (m_ticket) {
        m_cache->cancel(std::exchange(m_ticket, 0));
        return;
    }
    if (std::exchange(m_holdsSlot, false))
        m_cache->release(m_origin);
}

// Sets up `reused`, or a new connection when it is null.
void QHttpSocketExchange::connectSocket(QTcpSocket *reused)
{
    const QUrl url = m_request.request.url();
    m_reused = reused != nullptr;
    m_ready = false;
    if (reused) {
        m_socket = reused;
        m_tlsSocket = m_tls ? qobject_cast<QSslSocket *>(reused) : nullptr;
    } else {
        m_tlsSocket = m_tls ? new QSslSocket(this) : nullptr;
        m_socket = m_tlsSocket ? m_tlsSocket : new QTcpSocket(this);
        m_socket->setProxy(QNetworkProxy::NoProxy);
    }
    connect(m_socket, &QAbstractSocket::connected, this, [this] {
        touch();
        if (!m_tls)
            onConnected();
    });
    if (m_tlsSocket) {
        connect(m_tlsSocket, &QSslSocket::encrypted, this, [this] { onConnected(); });
        connect(m_tlsSocket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
            // Never ignored here: the manager decides (and the app with it).
            m_sslErrors = true;
            for (const QSslError &error : errors)
                qCDebug(lcHttp) << "TLS error from" << host() << error.errorString();
        });
        connect(m_tlsSocket, &QSslSocket::encryptedBytesWritten, this, [this] { pump(); });
    }
    connect(m_socket, &QAbstractSocket::bytesWritten, this, [this] { pump(); });
    connect(m_socket, &QAbstractSocket::readyRead, this, [this] { onReadyRead(); });
    connect(m_socket, &QAbstractSocket::disconnected, this, [this] { onDisconnected(); });
    connect(m_socket, &QAbstractSocket::errorOccurred, this, [this] { onSocketError(); });

    if (reused) {
        qCDebug(lcHttp) << "reusing a kept-alive connection to" << host();
        onConnected();
        return;
    }
    const quint16 port = quint16(url.port(m_tls ? 443 : 80));
    if (m_tls) {
        QSslConfiguration config = m_request.request.sslConfiguration();
        // This path speaks HTTP/1.1 only, also to a server that offers HTTP/2.
        config.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        m_tlsSocket->setSslConfiguration(config);
        m_tlsSocket->setPeerVerifyName(url.host());
        m_tlsSocket->connectToHostEncrypted(url.host(), port, QIODevice::ReadWrite);
    } else {
        // Unbuffered: a write goes to the kernel at once when nothing waits
        // before it, without a copy into the socket's buffer.
        m_socket->connectToHost(url.host(), port, QIODevice::ReadWrite | QIODevice::Unbuffered);
    }
}

qint64 QHttpSocketExchange::readBody(qint64 offset, char *data, qint64 size)
{
    // The device may be shared (the parts of a multipart upload from one
    // buffer): read from where this body is, wherever another left it.
    QIODevice *body = m_request.body;
    if (body->pos() != m_bodyStart + offset && !body->seek(m_bodyStart + offset))
        return -1;
    return body->read(data, size);
}

bool QHttpSocketExchange::writeAll(const QByteArray &bytes)
{
    return bytes.isEmpty() || writeAll(bytes.constData(), bytes.size());
}

bool QHttpSocketExchange::writeAll(const char *data, qint64 size)
{
    ++m_writes;
    if (m_socket->write(data, size) != size) {
        fail(transportError(m_socket->errorString()));
        return false;
    }
    return true;
}

void QHttpSocketExchange::onConnected()
{
    if (m_done || m_ready)
        return;
    touch();
    m_ready = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    const QUrl url = m_request.request.url();
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray hostHeader = url.host(QUrl::FullyEncoded).toLatin1();
    if (hostHeader.contains(':'))
        hostHeader = '[' + hostHeader + ']';
    if (url.port() >= 0 && url.port() != (m_tls ? 443 : 80))
        hostHeader += ':' + QByteArray::number(url.port());

    const QByteArray method = m_request.method.trimmed().toUpper();
    if (m_http2) {
        openHttp2(method, target, hostHeader);
        return;
    }
    QByteArray head;
    head.reserve(1024);
    head += method + ' ' + target + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n";
    const QList<QByteArray> names = m_request.request.rawHeaderList();
    bool hasUserAgent = false;
    bool hasContentType = false;
    for (const QByteArray &name : names) {
        if (isOwnHeader(name))
            continue;
        hasUserAgent |= name.compare("User-Agent", Qt::CaseInsensitive) == 0;
        hasContentType |= name.compare("Content-Type", Qt::CaseInsensitive) == 0;
        head += name + ": " + m_request.request.rawHeader(name) + "\r\n";
    }
    if (method == "POST" && !hasContentType)
        head += "Content-Type: application/octet-stream\r\n";
    // A download asks without a body (and says nothing of one).
    if (m_request.body)
        head += "Content-Length: " + QByteArray::number(m_total) + "\r\n";
    head += "Accept-Encoding: identity\r\n";
    if (!hasUserAgent)
        head += "User-Agent: Mozilla/5.0\r\n"; // what the manager sends
    // HTTP/1.1 keeps the connection by default.
    head += m_cache ? QByteArray("\r\n") : QByteArray("Connection: close\r\n\r\n");
    m_head = head.size();
    if (m_request.body && !m_request.body->seek(m_bodyStart)) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("cannot seek in the local file")));
        return;
    }
    m_writes = 0;
    if (m_total <= SmallBody) {
        // Head and body in one write.
        const qsizetype headSize = head.size();
        head.resize(headSize + m_total);
        qint64 got = 0;
        while (got < m_total) {
            const qint64 n = readBody(got, head.data() + headSize + got, m_total - got);
            if (n <= 0)
                break;
            got += n;
        }
        if (got != m_total) {
            fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                  QStringLiteral("reading the local file failed after %1 of %2 "
                                                 "bytes: %3")
                                      .arg(got)
                                      .arg(m_total)
                                      .arg(m_request.body->errorString())));
            return;
        }
        if (!writeAll(head.constData(), head.size()))
            return;
        m_read = m_total;
    } else if (!writeAll(head.constData(), head.size())) {
        return;
    }
    pump();
}

qint64 QHttpSocketExchange::queuedInSocket() const
{
    return m_socket->bytesToWrite() + (m_tlsSocket ? m_tlsSocket->encryptedBytesToWrite() : 0);
}

// Runs `step` in a later turn of the event loop, once however often asked
// before it ran.
void QHttpSocketExchange::continueLater(bool *queued, void (QHttpSocketExchange::*step)())
{
    if (*queued)
        return;
    *queued = true;
    QMetaObject::invokeMethod(
        this,
        [this, queued, step] {
            *queued = false;
            (this->*step)();
        },
        Qt::QueuedConnection);
}

void QHttpSocketExchange::pump()
{
    if (m_done || !m_ready || !m_socket)
        return;
    touch();
    QVarLengthArray<char, 1> buffer;
    // Bounded per event-loop turn: a socket that takes everything at once
    // (loopback) would otherwise keep the loop busy for the whole file.
    QElapsedTimer turn;
    turn.start();
    qint64 thisTurn = 0;
    while (m_read < m_total && queuedInSocket() < WriteWindow) {
        if (thisTurn >= MaxPerTurn || turn.elapsed() >= 5) {
            continueLater(&m_pumpQueued, &QHttpSocketExchange::pump);
            break;
        }
        qint64 n = qMin(ReadChunk, m_total - m_read);
        if (m_h2) {
            // The server's flow-control windows: its WINDOW_UPDATE calls pump() again.
            n = qMin(n, m_h2->sendWindow());
            if (n <= 0)
                break;
        }
        if (buffer.size() < n)
            buffer.resize(n);
        const qint64 got = readBody(m_read, buffer.data(), n);
        if (got <= 0) {
            fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                  QStringLiteral("reading the local file failed after %1 of %2 "
                                                 "bytes: %3")
                                      .arg(m_read)
                                      .arg(m_total)
                                      .arg(m_request.body->errorString())));
            return;
        }
        const bool written = m_h2
            ? writeAll(m_h2->data(QByteArrayView(buffer.data(), got), m_read + got == m_total))
            : writeAll(buffer.data(), got);
        if (!written)
            return;
        m_read += got;
        thisTurn += got;
    }
    const qint64 sent = qBound<qint64>(0, m_read - queuedInSocket(), m_total);
    if (sent != m_lastReported && onProgress && !m_request.sink) {
        m_lastReported = sent;
        onProgress(sent, m_total);
    }
}

void QHttpSocketExchange::onReadyRead()
{
    if (m_done || !m_socket)
        return;
    touch();
    // A download reads in larger pieces: fewer system calls per byte.
    if (m_readBuffer.size() < (m_request.sink ? DownloadReadChunk : 64 * 1024))
        m_readBuffer.resize(m_request.sink ? DownloadReadChunk : 64 * 1024);
    char *buffer = m_readBuffer.data();
    // A download on loopback may never leave the socket empty: bounded per
    // turn of the event loop, as the upload's pump() is.
    QElapsedTimer turn;
    turn.start();
    qint64 thisTurn = 0;
    while (!m_done && m_socket && m_socket->isOpen()) {
        if (m_toSink && (thisTurn >= MaxPerTurn || turn.elapsed() >= 5)) {
            continueLater(&m_readQueued, &QHttpSocketExchange::onReadyRead);
            break;
        }
        // The TLS socket buffers; the plain one is unbuffered, and only a read
        // tells that the peer closed or reset it (Qt emits nothing then).
        if (m_tlsSocket && m_tlsSocket->bytesAvailable() <= 0)
            break;
        const qint64 n = m_socket->read(buffer, m_readBuffer.size());
        if (n < 0) {
            endOfStream(m_socket->error() == QAbstractSocket::RemoteHostClosedError
                            ? QStringLiteral("the connection was closed or reset by the server")
                            : m_socket->errorString());
            return;
        }
        if (n == 0)
            break;
        m_answered = true;
        thisTurn += n;
        if (m_h2) {
            if (!readHttp2(QByteArrayView(buffer, n)))
                return;
            continue;
        }
        const qsizetype used = m_parser.feed(QByteArrayView(buffer, n));
        if (m_done)
            return;
        if (m_pendingError.isError()) {
            fail(std::exchange(m_pendingError, QAttachmentError()));
            return;
        }
        if (m_parser.hasFailed() && m_parser.status() == 0) {
            // Not HTTP at all: the manager reports this as a connection that
            // ended without a valid HTTP response.
            fail(transportError(m_parser.errorString()));
            return;
        }
        if (m_parser.hasFailed()) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  host() + QStringLiteral(": ") + m_parser.errorString(),
                                  m_parser.headersComplete() ? m_parser.status() : 0));
            return;
        }
        if (m_parser.isDone()) {
            // Bytes after the answer: the connection is not in a known state.
            m_reusable = used == n && m_parser.allowsReuse()
                && !(m_tlsSocket && m_tlsSocket->bytesAvailable() > 0);
            responseDone();
            return;
        }
        // Enough of the answer to name the failure: the rest is not needed.
        if (!m_toSink && m_parser.headersComplete()
            && m_parser.bodyReceived() > m_request.maxKeptBody) {
            if (m_parser.status() >= 200 && m_parser.status() < 300) {
                fail(QAttachmentError(
                    QAttachmentError::ProtocolError,
                    QStringLiteral("response body exceeds %1 bytes").arg(m_request.maxKeptBody),
                    m_parser.status()));
            } else {
                responseDone();
            }
            return;
        }
    }
    if (m_toSink && !m_done && onProgress)
        onProgress(m_parser.bodyReceived(), m_expected);
    // A WINDOW_UPDATE may have opened the way for more of the body.
    if (m_h2 && !m_done)
        pump();
}

void QHttpSocketExchange::fallBack(const QHttpRequest &request)
{
    m_done = true;
    m_silence.stop();
    releaseSocket();
    releaseSlot();
    const auto fallback = onFallback;
    fallback(request);
}

void QHttpSocketExchange::responseDone()
{
    const int status = answerStatus();
    QHttpRequest redirected = m_request;
    if (m_request.sink && m_request.followRedirects && onFallback
        && QHttpWire::redirect(&redirected.request, status, answerHeader("Location"))) {
        // The manager's path follows it (and any further one); nothing
        // reached the sink.
        qCDebug(lcHttp).noquote() << "HTTP" << status << "redirect to"
                                  << QHttpWire::redactedUrl(redirected.request.url())
                                  << "handed to the manager";
        fallBack(redirected);
        return;
    }
    if (status >= 200 && status < 300 && m_toSink) {
        const qint64 received = m_parser.bodyReceived();
        if (m_expected >= 0 && received < m_expected) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  QStringLiteral("short body: the response ended after %1 of the "
                                                 "announced %2 bytes")
                                      .arg(received)
                                      .arg(m_expected),
                                  status));
            return;
        }
        qCDebug(lcHttp) << "streamed download done, status" << status << "body" << received
                        << (m_reused ? "on a reused connection" : "");
        if (onProgress)
            onProgress(received, received);
        finish(QAttachmentError());
        return;
    }
    if (status >= 200 && status < 300) {
        if (m_read < m_total || queuedInSocket() > 0) {
            // A success for a body that was not all sent cannot be trusted.
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  QStringLiteral("HTTP %1 answer from %2 before the whole "
                                                 "request body was sent")
                                      .arg(status)
                                      .arg(host()),
                                  status));
            return;
        }
        qCDebug(lcHttp) << "streamed upload done, status" << status
                        << (m_reused ? "on a reused connection" : "");
        if (onProgress)
            onProgress(m_total, m_total);
        finish(QAttachmentError());
        return;
    }
    if (status == 404 && m_request.notFoundIsSuccess) {
        finish(QAttachmentError());
        return;
    }
    fail(statusError());
}

QAttachmentError QHttpSocketExchange::statusError() const
{
    QHttpWire::StatusAnswer answer;
    answer.status = answerStatus();
    answer.reason = m_h2 ? QString() : QString::fromLatin1(m_parser.reason());
    answer.location = answerHeader("Location");
    answer.body = responseBody();
    answer.upload = m_request.body != nullptr;
    answer.requestUrl = m_request.request.url();
    return QHttpWire::answerError(m_errorParser, answer, answerHeader("Retry-After"));
}

QAttachmentError QHttpSocketExchange::transportError(const QString &cause) const
{
    const QString why = QHttpWire::redactSecrets(cause, m_request.request.url());
    const qint64 sent = m_socket ? qBound<qint64>(0, m_read - queuedInSocket(), m_total) : m_read;
    if (answerHeadersComplete()) {
        return QAttachmentError(QAttachmentError::NetworkError,
                                QStringLiteral("HTTP %1 response from %2 broken off after %3 "
                                               "bytes: %4")
                                    .arg(answerStatus())
                                    .arg(host())
                                    .arg(m_h2 ? m_h2->bodyReceived() : m_parser.bodyReceived())
                                    .arg(why),
                                answerStatus());
    }
    if (!m_ready)
        return QAttachmentError(QAttachmentError::NetworkError,
                                QStringLiteral("request to %1 failed: %2").arg(host(), why));
    if (sent < m_total)
        return QAttachmentError(QAttachmentError::NetworkError,
                                QStringLiteral("the connection to %1 ended after %2 of %3 bytes "
                                               "of the request body were sent, without a valid "
                                               "HTTP response: %4")
                                    .arg(host())
                                    .arg(sent)
                                    .arg(m_total)
                                    .arg(why));
    return QAttachmentError(
        QAttachmentError::NetworkError,
        QStringLiteral("%1 closed the connection without a valid HTTP response (%2)")
            .arg(host(), why));
}

void QHttpSocketExchange::onDisconnected()
{
    if (m_done)
        return;
    // What is still buffered belongs to the answer.
    onReadyRead();
    if (m_done)
        return;
    endOfStream(QStringLiteral("the connection was closed or reset by the server"));
}

void QHttpSocketExchange::endOfStream(const QString &cause)
{
    if (m_done)
        return;
    if (m_h2) {
        if (m_h2->isDone())
            responseDone();
        else
            fail(transportError(cause));
        return;
    }
    m_parser.endOfInput();
    if (m_parser.isDone()) {
        responseDone();
        return;
    }
    if (m_toSink) {
        // A download's body broken off; the next attempt resumes after what
        // reached the sink. Named as the manager's path names it.
        const qint64 received = m_parser.bodyReceived();
        if (m_expected >= 0 && received < m_expected) {
            fail(QAttachmentError(
                QAttachmentError::ProtocolError,
                QStringLiteral("short body from %1: the connection ended after %2 of the "
                               "announced %3 bytes (%4)")
                    .arg(host(), QString::number(received), QString::number(m_expected),
                         QHttpWire::redactSecrets(cause, m_request.request.url())),
                m_parser.status()));
            return;
        }
        fail(transportError(cause));
        return;
    }
    if (m_parser.headersComplete() && !m_parser.hasFailed()) {
        fail(transportError(cause));
        return;
    }
    if (m_parser.hasFailed() && m_parser.headersComplete()) {
        // The answer's status is known; its body was cut short.
        fail(QAttachmentError(QAttachmentError::ProtocolError,
                              host() + QStringLiteral(": ") + m_parser.errorString(),
                              m_parser.status()));
        return;
    }
    fail(transportError(cause));
}

void QHttpSocketExchange::onSocketError()
{
    if (m_done || !m_socket)
        return;
    const QAbstractSocket::SocketError error = m_socket->error();
    if (error == QAbstractSocket::RemoteHostClosedError) {
        onDisconnected();
        return;
    }
    if (m_sslErrors && !m_ready && onFallback) {
        // Nothing was sent: the manager repeats the request with its own
        // handling of certificate errors.
        qCDebug(lcHttp) << "TLS certificate errors, handing the request to the manager";
        fallBack(m_request);
        return;
    }
    // The answer may have arrived before a reset.
    onReadyRead();
    if (m_done)
        return;
    fail(transportError(m_socket->errorString()));
}

void QHttpSocketExchange::onTimeout()
{
    if (m_done)
        return;
    fail(QAttachmentError(QAttachmentError::Timeout,
                          QStringLiteral("no progress from %1 for %2 ms")
                              .arg(host())
                              .arg(m_request.transferTimeoutMs),
                          httpStatus()));
}

void QHttpSocketExchange::closeSocket()
{
    if (!m_socket)
        return;
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    m_tlsSocket = nullptr;
    QObject::disconnect(socket, nullptr, this, nullptr);
    socket->abort();
    socket->deleteLater();
}

void QHttpSocketExchange::releaseSocket()
{
    const bool keep
        = m_reusable && m_cache && m_socket && m_read == m_total && queuedInSocket() == 0;
    m_reusable = false;
    if (!keep) {
        closeSocket();
        return;
    }
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    m_tlsSocket = nullptr;
    QObject::disconnect(socket, nullptr, this, nullptr);
    if (!m_cache->put(m_origin, socket, m_request.request.sslConfiguration())) {
        socket->abort();
        socket->deleteLater();
    }
}

void QHttpSocketExchange::sendAgain()
{
    m_resent = true;
    closeSocket();
    m_read = 0;
    m_lastReported = -1;
    resetResponse();
    touch();
    connectSocket(nullptr);
}

void QHttpSocketExchange::fail(const QAttachmentError &error)
{
    m_reusable = false;
    if (m_reused && !m_resent && !m_answered && !m_done
        && error.code() == QAttachmentError::NetworkError) {
        // The server closed the kept-alive connection before it read the
        // request: once more, on a new connection.
        qCDebug(lcHttp) << "kept-alive connection to" << host()
                        << "ended before an answer; sending again on a new one";
        sendAgain();
        return;
    }
    qCDebug(lcHttp) << (m_request.sink ? "streamed download failed:" : "streamed upload failed:")
                    << error;
    finish(error);
}

void QHttpSocketExchange::finish(const QAttachmentError &error)
{
    if (m_done)
        return;
    m_done = true;
    m_silence.stop();
    releaseSocket();
    releaseSlot();
    // The callback may drop this object's callbacks (and itself) while it runs.
    const auto finished = onFinished;
    if (finished)
        finished(error);
}

void QHttpSocketExchange::abort()
{
    m_done = true;
    m_silence.stop();
    closeSocket();
    releaseSlot();
}
