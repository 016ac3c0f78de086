#include "qhttptransfer_p.h"

#include "qattachmentlogging_p.h"
#include "qhttpconnectioncache_p.h"
#include "qhttpsocketexchange_p.h"
#include "qnetworkcredential_p.h"
#include "qnetworkremotestorage_p.h"

#include <QtCore/qiodevice.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

class QHttpTransfer::Private
{
public:
    explicit Private(QHttpTransfer *q)
        : q(q)
    { }

    void prepare(bool afterUnauthorized);
    void run(const Request &request);
    void onExchangeFinished(const QAttachmentError &error);
    void dropExchange();
    bool streamed(const Request &request);
    bool streamsUpload(const Request &request) const;
    bool overHttp2(const Request &request) const;
    bool streamsDownload(const Request &request) const;
    void runExchange(const Request &request);

    QHttpTransfer *q;
    // The storage's manager may go (with the storage) while the request is prepared.
    QPointer<QNetworkAccessManager> manager;
    ErrorParser errorParser;
    Prepare prepareRequest;
    // The prepared request: one waiter (this transfer), a generation and a timeout.
    QNetworkCredential<Request> prepared;
    bool retryOnUnauthorized = false;
    bool http2PriorKnowledge = false;
    bool retried = false;
    bool notFoundIsSuccess = false;
    QAttachmentError failWith; // set: the next prepared request is not sent
    QIODevice *device = nullptr;
    qint64 devicePos = 0;
    qint64 retriedAt = -1; // where a download's sink was at the last retry
    qint64 http2PartSize = -1;
    QHttpExchange *exchange = nullptr;
    QHttpSocketExchange *stream = nullptr;
    qint64 streamThreshold = QHttpTransfer::DefaultStreamThreshold;
    bool streamSmallCleartext = true;
    bool streamCleartextDownloads = true;
};

void QHttpTransfer::Private::prepare(bool afterUnauthorized)
{
    if (q->isCompleting())
        return;
    if (!prepareRequest) {
        q->finishWithError(QAttachmentError(QAttachmentError::InvalidInput,
                                            QStringLiteral("the storage is not configured")));
        return;
    }
    prepared.abandon();
    prepared.wait(
        q,
        [this](const Request &request, const QAttachmentError &error) {
            if (q->isCompleting())
                return;
            if (error.isError())
                q->finishWithError(error);
            else if (failWith.isError())
                q->finishWithError(failWith);
            else
                run(request);
        },
        [this, afterUnauthorized](QNetworkCredential<Request>::Answer answer) {
            // The answer may come after the transfer is gone: `answer` checks.
            prepareRequest(afterUnauthorized, std::move(answer));
        });
}

void QHttpTransfer::Private::dropExchange()
{
    if (stream) {
        stream->onProgress = nullptr;
        stream->onFinished = nullptr;
        stream->onFallback = nullptr;
        stream->abort();
        stream->deleteLater();
        stream = nullptr;
    }
    if (!exchange)
        return;
    exchange->onProgress = nullptr;
    exchange->onFinished = nullptr;
    exchange->abort();
    // It may be inside one of its callbacks.
    exchange->deleteLater();
    exchange = nullptr;
}

void QHttpTransfer::Private::run(const Request &request)
{
    if (!manager) {
        q->finishWithError(QAttachmentError(QAttachmentError::NetworkError,
                                            QStringLiteral("the network access manager was "
                                                           "destroyed before the request")));
        return;
    }
    dropExchange();
    notFoundIsSuccess = request.notFoundIsSuccess;
    if (streamed(request))
        return;
    runExchange(request);
}

bool QHttpTransfer::Private::streamsUpload(const Request &request) const
{
    if (q->kind() != Upload || streamThreshold < 0 || !request.body)
        return false;
    const bool cleartext
        = request.request.url().scheme().compare(QLatin1String("http"), Qt::CaseInsensitive) == 0;
    const qint64 size = request.bodySize >= 0
        ? request.bodySize
        : (request.body->isSequential() ? -1 : request.body->size() - request.body->pos());
    // A cleartext server spoken to with prior knowledge may understand nothing
    // but HTTP/2 on that port (nginx's `listen ... http2;` answers HTTP/1.1
    // with an HTTP/2 GOAWAY). Small uploads go to it through the manager,
    // many on one connection; large ones over HTTP/2 on a connection of
    // their own (QHttp2RequestCodec), streamed from the file.
    if (cleartext && http2PriorKnowledge)
        return size >= streamThreshold;
    if (size < streamThreshold) {
        // Smaller uploads too over cleartext HTTP/1.1, on kept-alive
        // connections: Qt 6.4 sends a request's head and body in separate
        // writes without TCP_NODELAY, and the body then waits for the
        // server's delayed acknowledgement. Over TLS Qt may speak HTTP/2
        // (ALPN), which multiplexes small uploads better: the manager keeps them.
        if (!streamSmallCleartext || !cleartext)
            return false;
    }
    return true;
}

// Downloads from `http://` without prior knowledge of HTTP/2: Qt reads such
// an answer's headers one byte per system call (see QHttpSocketExchange).
// Over TLS the manager's buffered socket and HTTP/2 serve as well.
bool QHttpTransfer::Private::streamsDownload(const Request &request) const
{
    if (q->kind() != Download || !streamCleartextDownloads || !request.sink || request.body)
        return false;
    const bool cleartext
        = request.request.url().scheme().compare(QLatin1String("http"), Qt::CaseInsensitive) == 0;
    return cleartext && !http2PriorKnowledge && request.resumeFrom == 0;
}

bool QHttpTransfer::Private::overHttp2(const Request &request) const
{
    return http2PriorKnowledge
        && request.request.url().scheme().compare(QLatin1String("http"), Qt::CaseInsensitive) == 0;
}

// An upload or a download goes over a socket of this thread when nothing the
// manager does for it is needed (see QHttpSocketExchange).
bool QHttpTransfer::Private::streamed(const Request &request)
{
    if (!streamsUpload(request) && !streamsDownload(request))
        return false;
    // A pool's managers all follow its source: the source is what is judged.
    QNetworkAccessManager *judged = manager;
    if (auto *pool = qobject_cast<QNetworkManagerPool *>(manager.data()))
        judged = pool->sourceManager();
    const bool http2 = overHttp2(request);
    const QString why = QHttpSocketExchange::whyNotStream(request, judged, http2);
    if (!why.isEmpty()) {
        qCDebug(lcHttp).noquote() << "through the network access manager:" << why;
        return false;
    }
    stream = new QHttpSocketExchange(q);
    stream->setErrorParser(errorParser);
    stream->setHttp2(http2);
    // Kept-alive connections are shared by the transfers of one manager (a
    // storage's pool).
    if (!http2)
        stream->setConnectionCache(QHttpConnectionCache::of(manager));
    // As many connections per origin as the manager (or the pool's managers)
    // would open.
    auto *pool = qobject_cast<QNetworkManagerPool *>(manager.data());
    stream->setConnectionLimit(6 * (pool ? pool->managerCount() : 1));
    stream->onProgress = [this](qint64 done, qint64 total) { q->setProgress(done, total); };
    stream->onFinished = [this](const QAttachmentError &error) { onExchangeFinished(error); };
    stream->onFallback = [this](const Request &request) {
        // Certificate errors (the manager repeats the request and handles them
        // its way), or a redirect to follow. The stream is inside its
        // callback: delete it later.
        stream->onProgress = nullptr;
        stream->onFinished = nullptr;
        stream->onFallback = nullptr;
        stream->deleteLater();
        stream = nullptr;
        if (device && device->pos() != devicePos && !device->seek(devicePos)) {
            q->finishWithError(QAttachmentError(QAttachmentError::LocalStorageError,
                                                QStringLiteral("cannot rewind the local file")));
            return;
        }
        runExchange(request);
    };
    stream->start(request);
    return true;
}

void QHttpTransfer::Private::runExchange(const Request &given)
{
    Request request = given;
    if (http2PartSize >= 0)
        request.http2PartSize = http2PartSize;
    exchange = new QHttpExchange(q->kind(), manager, q);
    exchange->setErrorParser(errorParser);
    exchange->onProgress = [this](qint64 done, qint64 total) { q->setProgress(done, total); };
    exchange->onFinished = [this](const QAttachmentError &error) { onExchangeFinished(error); };
    if (overHttp2(request)) {
        Request direct = request;
        direct.request.setAttribute(QNetworkRequest::Http2DirectAttribute, true);
        // Large bodies too: such a server may speak nothing else on that port
        // (QHttpExchange::send() keeps bodies over 1 MiB off HTTP/2 only
        // where the request leaves the choice open). A caller's own
        // Http2AllowedAttribute stays.
        if (!direct.request.attribute(QNetworkRequest::Http2AllowedAttribute).isValid())
            direct.request.setAttribute(QNetworkRequest::Http2AllowedAttribute, true);
        exchange->start(direct);
        return;
    }
    exchange->start(request);
}

void QHttpTransfer::Private::onExchangeFinished(const QAttachmentError &error)
{
    // A download keeps what it wrote: an answer's body reaches the sink only
    // once it is known to be the resource's (a 2xx), and the version it
    // belongs to stays with the sink, so the next request resumes after it.
    // Credentials that expire during a long download (a download in parts
    // asks again for every part) are then fetched once per expiry, as long
    // as each attempt got further than the one before.
    const bool downloadGotFurther
        = q->kind() == Download && device && !device->isSequential() && device->pos() > retriedAt;
    if (error.code() == QAttachmentError::Unauthorized && retryOnUnauthorized
        && (!retried || downloadGotFurther)) {
        retried = true;
        if (q->kind() == Download && device && !device->isSequential()) {
            retriedAt = device->pos();
            qCDebug(lcHttp) << "unauthorized, asking for fresh credentials; resuming at"
                            << retriedAt;
            prepare(true);
            return;
        }
        // A stream has been read by the first attempt and cannot be sent
        // again: fresh credentials are still fetched, for the next attempt.
        if (device && device->isSequential() && q->kind() == Upload) {
            failWith = error;
            prepare(true);
            return;
        }
        if (device && device->pos() != devicePos && !device->seek(devicePos)) {
            q->finishWithError(QAttachmentError(QAttachmentError::LocalStorageError,
                                                QStringLiteral("cannot rewind the local file")));
            return;
        }
        qCDebug(lcHttp) << "unauthorized, asking for fresh credentials once";
        prepare(true);
        return;
    }
    if (error.isError()
        && !(notFoundIsSuccess && errorParser && error.code() == QAttachmentError::NotFound)) {
        q->finishWithError(error);
        return;
    }
    if (error.isError() && q->kind() == Delete)
        q->setProgress(1, 1);
    q->finishSuccess();
}

QHttpTransfer::QHttpTransfer(Kind kind, QNetworkAccessManager *manager, QObject *parent)
    : QAttachmentTransfer(kind, parent)
    , d(std::make_unique<Private>(this))
{
    d->manager = manager;
    d->prepared.setTimeout(0, QString());
}

QHttpTransfer::~QHttpTransfer()
{
    d->prepared.abandon();
    if (d->exchange) {
        d->exchange->onProgress = nullptr;
        d->exchange->onFinished = nullptr;
        d->exchange->abort();
    }
    if (d->stream) {
        d->stream->onProgress = nullptr;
        d->stream->onFinished = nullptr;
        d->stream->onFallback = nullptr;
        d->stream->abort();
    }
}

void QHttpTransfer::setStreamThreshold(qint64 bytes)
{
    d->streamThreshold = bytes;
}

void QHttpTransfer::setStreamSmallCleartextUploads(bool enabled)
{
    d->streamSmallCleartext = enabled;
}

void QHttpTransfer::setStreamCleartextDownloads(bool enabled)
{
    d->streamCleartextDownloads = enabled;
}

void QHttpTransfer::setHttp2PartSize(qint64 bytes)
{
    d->http2PartSize = bytes;
}

bool QHttpTransfer::reusedConnection() const
{
    return d->stream && d->stream->reusedConnection();
}

int QHttpTransfer::requestWrites() const
{
    return d->stream ? d->stream->socketWrites() : 0;
}

void QHttpTransfer::setErrorParser(ErrorParser parser)
{
    d->errorParser = std::move(parser);
}

void QHttpTransfer::setPrepare(Prepare prepare)
{
    d->prepareRequest = std::move(prepare);
}

void QHttpTransfer::setRetryOnUnauthorized(bool retry)
{
    d->retryOnUnauthorized = retry;
}

void QHttpTransfer::setPrepareTimeout(int msecs)
{
    // An app callback that never answers would hold a transfer slot for good.
    d->prepared.setTimeout(
        msecs, QStringLiteral("no request from the token provider or resolver within %1 ms"));
}

void QHttpTransfer::setHttp2PriorKnowledge(bool enabled)
{
    d->http2PriorKnowledge = enabled;
}

void QHttpTransfer::setDevice(QIODevice *device)
{
    d->device = device;
    d->devicePos = device ? device->pos() : 0;
}

void QHttpTransfer::start(const Request &request)
{
    if (d->exchange || d->stream || isCompleting()) {
        qCWarning(lcHttp, "QHttpTransfer::start: the exchange was already started");
        return;
    }
    d->run(request);
}

void QHttpTransfer::start()
{
    QMetaObject::invokeMethod(
        this, [this] { d->prepare(false); }, Qt::QueuedConnection);
}

void QHttpTransfer::fail(const QAttachmentError &error)
{
    d->prepared.abandon();
    d->dropExchange();
    finishWithError(error);
}

int QHttpTransfer::httpStatus() const
{
    if (d->stream)
        return d->stream->httpStatus();
    return d->exchange ? d->exchange->httpStatus() : 0;
}

QByteArray QHttpTransfer::responseBody() const
{
    if (d->stream)
        return d->stream->responseBody();
    return d->exchange ? d->exchange->responseBody() : QByteArray();
}

QByteArray QHttpTransfer::responseHeader(const QByteArray &name) const
{
    if (d->stream)
        return d->stream->responseHeader(name);
    return d->exchange ? d->exchange->responseHeader(name) : QByteArray();
}

bool QHttpTransfer::isStreamed() const
{
    return d->stream != nullptr;
}

void QHttpTransfer::abortTransfer()
{
    d->prepared.abandon();
    if (d->stream) {
        d->stream->onProgress = nullptr;
        d->stream->onFinished = nullptr;
        d->stream->onFallback = nullptr;
        d->stream->abort();
    }
    if (d->exchange) {
        d->exchange->onProgress = nullptr;
        d->exchange->onFinished = nullptr;
        d->exchange->abort();
    }
}
