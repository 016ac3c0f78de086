#include "qhttpexchange_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentremotestorage.h"
#include "qhttpbodyslice_p.h"
#include "qhttpreplyerrors_p.h"
#include "qhttpwire_p.h"
#include "qnetworkremotestorage_p.h"

#include <QtCore/qiodevice.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>

namespace {

constexpr qint64 ReadBufferSize = 256 * 1024;
constexpr qint64 CopyChunkSize = 64 * 1024;
// HTTP/2 flow-control windows the client grants (see send()).
constexpr unsigned Http2StreamWindow = 2 * 1024 * 1024;
constexpr unsigned Http2SessionWindow = 16 * 1024 * 1024;
// The largest HTTP/2 frame the client accepts (see http2Configuration()).
constexpr unsigned Http2MaxFrameSize = 64 * 1024;
constexpr int MaxRedirects = 10;
// Qt 6.4 holds an HTTP/2 request's body in memory (measured: 300 MiB at the
// peak for a 256 MiB upload at 100 Mbit/s): larger bodies go over HTTP/1.1,
// which streams them from the file.
constexpr qint64 Http2BodyLimit = 1024 * 1024;

// The version of the resource the sink's bytes belong to (see
// QAttachmentRemoteStorage::download()).
QByteArray resumeValidator(const QIODevice *sink)
{
    return QHttpWire::usableValidator(
        sink->property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray());
}

QByteArray responseValidator(const QNetworkReply *reply)
{
    return QHttpWire::rangeValidator(reply->rawHeader("ETag"), reply->rawHeader("Last-Modified"));
}

// Whether the response says the server serves byte ranges of it.
bool acceptsByteRanges(const QNetworkReply *reply)
{
    const QList<QByteArray> units = reply->rawHeader("Accept-Ranges").split(',');
    for (const QByteArray &unit : units) {
        if (unit.trimmed().compare("bytes", Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace

QHttp2Configuration QHttpExchange::http2Configuration()
{
    QHttp2Configuration config = QNetworkRequest().http2Configuration();
    config.setStreamReceiveWindowSize(Http2StreamWindow);
    config.setSessionReceiveWindowSize(Http2SessionWindow);
    // Qt announces the protocol's smallest frame size (16 KiB) and forwards
    // every DATA frame from its network thread to the app's thread as one
    // queued event: a server configured to send larger frames (nginx:
    // http2_chunk_size) costs fewer of them per MiB. Servers that keep
    // sending small frames are not affected.
    config.setMaxFrameSize(Http2MaxFrameSize);
    return config;
}

void QHttpExchange::touch()
{
    silence.touch(request.transferTimeoutMs);
}

void QHttpExchange::resetResponse()
{
    responseStarted = false;
    bodyToSink = false;
    status = 0;
    announced = -1;
    received = 0;
    pending.clear();
    kept.clear();
    headers.clear();
}

QNetworkRequest QHttpExchange::prepared() const
{
    QNetworkRequest req = request.request;
    // Compressed transfer would hide the real length and break resuming.
    req.setRawHeader("Accept-Encoding", "identity");
    // Redirects are followed here, not by Qt: Qt 6.4 merges the redirect's
    // headers into those of the final answer ("Content-Length: 20, 15000")
    // and may report the redirect's metadata after the final URL is set.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    req.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    // Qt 6.4 ignores the reply's read buffer limit over HTTP/2 and grants the
    // server more data as soon as a frame arrives, whatever the app has read:
    // with its default windows (204 MiB per stream) a download written more
    // slowly than it arrives piles up in memory (measured: 1 GiB for a 1 GiB
    // file). Small receive windows keep a stream from running far ahead
    // within one answer; parts bound the rest (see the class comment). The
    // windows belong to the connection the first request opens: every
    // request gets them. A caller's own configuration wins.
    if (req.http2Configuration() == QNetworkRequest().http2Configuration())
        req.setHttp2Configuration(QHttpExchange::http2Configuration());
    return req;
}

QNetworkReply *QHttpExchange::dispatch(const QNetworkRequest &req, const QByteArray &method,
                                       QIODevice *device)
{
    QNetworkReply *r = nullptr;
    // A storage's pool of managers picks the one that takes the request.
    auto *pool = qobject_cast<QNetworkManagerPool *>(manager);
    int slot = 0;
    QNetworkAccessManager *target = pool ? pool->route(req, &slot) : manager;
    if (method == "GET" && !device)
        r = target->get(req);
    else if (method == "HEAD" && !device)
        r = target->head(req);
    else if (method == "DELETE" && !device)
        r = target->deleteResource(req);
    else if (method == "PUT")
        r = device ? target->put(req, device) : target->put(req, QByteArray());
    else if (method == "POST")
        r = device ? target->post(req, device) : target->post(req, QByteArray());
    else
        r = target->sendCustomRequest(req, method, device);
    if (pool)
        pool->track(r, slot);
    r->setReadBufferSize(ReadBufferSize);
    return r;
}

void QHttpExchange::attach(QNetworkReply *r)
{
    reply = r;
    QObject::connect(r, &QNetworkReply::metaDataChanged, this, [this] { onMetaDataChanged(); });
    QObject::connect(r, &QNetworkReply::readyRead, this, [this] { onReadyRead(); });
    QObject::connect(r, &QNetworkReply::finished, this, [this] { onReplyFinished(); });
    QObject::connect(r, &QNetworkReply::uploadProgress, this, [this](qint64 sent, qint64 total) {
        touch();
        bodySent = qMax(bodySent, sent);
        // QNAM reports (0, 0) once the body is out; that is not a step back.
        if (kind == QAttachmentTransfer::Upload && total > 0)
            report(bodySent, total);
    });
    QObject::connect(r, &QNetworkReply::downloadProgress, this,
                     [this](qint64, qint64) { touch(); });
    // The manager (and with it the reply) may go away under a running exchange.
    QObject::connect(r, &QObject::destroyed, this, [this] {
        silence.stop();
        reply = nullptr;
        finish(QAttachmentError(QAttachmentError::NetworkError,
                                QStringLiteral("the network access manager was "
                                               "destroyed during the request")));
    });
}

void QHttpExchange::send()
{
    resetResponse();
    QNetworkRequest req = prepared();
    if (request.sink && request.resumeFrom > 0 && resumeValidator(request.sink).isEmpty()) {
        // Nothing tells which version the bytes received so far belong to:
        // joining them to the current one could mix two files.
        qCDebug(lcHttp) << "no validator for the partial download, starting from 0";
        request.resumeFrom = 0;
        if (!request.sink->seek(0)) {
            fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                  QStringLiteral("cannot rewind the download target")));
            return;
        }
    }
    if (startsInParts(req)) {
        parts = Parts::Probing;
        partEnd = request.resumeFrom + request.http2PartSize - 1;
    }
    if (request.sink && (request.resumeFrom > 0 || partEnd >= 0)) {
        QByteArray range = "bytes=" + QByteArray::number(request.resumeFrom) + '-';
        if (partEnd >= 0)
            range += QByteArray::number(partEnd);
        req.setRawHeader("Range", range);
        // The first part from 0 joins nothing received before.
        const QByteArray validator = resumeValidator(request.sink);
        if (!validator.isEmpty() && (request.resumeFrom > 0 || parts == Parts::InParts))
            req.setRawHeader("If-Range", validator);
    }
    const QByteArray method = request.method.trimmed().toUpper();
    QIODevice *device = nullptr;
    qint64 bodyTotal = -1;
    if (request.body) {
        QIODevice *body = request.body;
        if (!body->isSequential()) {
            if (bodyStart < 0)
                bodyStart = body->pos();
            const qint64 remaining = qMax<qint64>(0, body->size() - bodyStart);
            bodyTotal = request.bodySize >= 0 ? qMin(request.bodySize, remaining) : remaining;
            if (request.bodySize > remaining) {
                fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                      QStringLiteral("request body has %1 bytes, %2 expected")
                                          .arg(remaining)
                                          .arg(request.bodySize)));
                return;
            }
            slice = new QHttpBodySlice(body, bodyStart, bodyTotal, this);
            slice->open(QIODevice::ReadOnly | QIODevice::Unbuffered);
            device = slice;
        } else {
            // A sequential device is only streamed by QNAM when its length is
            // announced; without one QNAM reads it whole first.
            bodyTotal = request.bodySize;
            device = body;
        }
        if (bodyTotal >= 0)
            req.setHeader(QNetworkRequest::ContentLengthHeader, bodyTotal);
        // Qt would label a POST body as a form otherwise.
        if (method == "POST" && !req.header(QNetworkRequest::ContentTypeHeader).isValid()
            && !req.hasRawHeader("Content-Type"))
            req.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/octet-stream"));
    } else if (method == "PUT" || method == "POST") {
        req.setHeader(QNetworkRequest::ContentLengthHeader, 0);
    }

    if (device && (bodyTotal < 0 || bodyTotal > Http2BodyLimit)
        && !req.attribute(QNetworkRequest::Http2AllowedAttribute).isValid()) {
        req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        req.setAttribute(QNetworkRequest::Http2DirectAttribute, false);
    }

    sendTotal = bodyTotal;
    bodySent = 0;
    QNetworkReply *r = dispatch(req, method, device);
    // Never the query: a presigned URL carries its signature there.
    qCDebug(lcHttp).noquote() << method << QHttpWire::redactedUrl(req.url()) << "body" << bodyTotal
                              << "range from" << (request.sink ? request.resumeFrom : 0);

    attach(r);

    if (kind == QAttachmentTransfer::Upload)
        report(0, bodyTotal);
    else if (kind == QAttachmentTransfer::Download)
        report(request.sink ? request.resumeFrom : 0, -1);
    touch();
}

void QHttpExchange::sendAgain()
{
    // An abort before the next pass has finished the transfer already.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!done)
                send();
        },
        Qt::QueuedConnection);
}

// A redirect that is not followed stays the answer, and fails as such.
// Downloads the whole resource again, into the start of the sink.
void QHttpExchange::restartFromZero()
{
    restartedFromZero = true;
    request.resumeFrom = 0;
    // The parts of another version must not be joined to these: the rest
    // comes in one answer.
    refuseParts();
    resourceSize = -1;
    detachReply();
    if (!request.sink->seek(0)) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("cannot rewind the download target")));
        return;
    }
    sendAgain();
}

bool QHttpExchange::followRedirect()
{
    if (!request.followRedirects || kind == QAttachmentTransfer::Upload
        || redirects >= MaxRedirects)
        return false;
    if (!QHttpWire::redirect(&request.request, status, reply->rawHeader("Location")))
        return false;
    qCDebug(lcHttp).noquote() << "following the redirect to"
                              << QHttpWire::redactedUrl(request.request.url());
    ++redirects;
    detachReply();
    sendAgain();
    return true;
}

void QHttpExchange::detachReply()
{
    silence.stop();
    if (!reply)
        return;
    QNetworkReply *r = reply;
    reply = nullptr;
    QObject::disconnect(r, nullptr, this, nullptr);
    if (slice) {
        slice->release(r);
        slice = nullptr;
    }
    // Headers stay readable after the exchange ends.
    if (headers.isEmpty())
        headers = r->rawHeaderPairs();
    // Often called from inside one of the reply's signals, where aborting at
    // once confuses QNAM: stop it on the next event loop pass instead.
    if (!r->isFinished())
        QMetaObject::invokeMethod(r, &QNetworkReply::abort, Qt::QueuedConnection);
    r->deleteLater();
}

void QHttpExchange::fail(const QAttachmentError &error)
{
    QAttachmentError named = error;
    // A response the server got wrong says which server (never the path or query).
    const QString host = QHttpWire::hostOf(request.request.url());
    if (error.code() == QAttachmentError::ProtocolError && !host.isEmpty()
        && !error.message().contains(host)) {
        named = QAttachmentError(error.code(), host + QStringLiteral(": ") + error.message(),
                                 error.httpStatus());
        named.setRetryAfterMs(error.retryAfterMs());
    }
    qCDebug(lcHttp) << "exchange failed:" << named;
    detachReply();
    finish(named);
}

void QHttpExchange::onMetaDataChanged()
{
    touch();
    if (responseStarted || !reply)
        return;
    const QVariant statusValue = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!statusValue.isValid())
        return;
    const int code = statusValue.toInt();
    if (code < 200)
        return; // interim answer; the final one follows
    responseStarted = true;
    status = code;
    headers = reply->rawHeaderPairs();
    const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
    announced = length.isValid() ? length.toLongLong() : -1;
    if (!length.isValid() && reply->hasRawHeader("Content-Length")) {
        // Qt would read such a body up to the end of the connection, taking
        // whatever arrives for the resource.
        fail(QAttachmentError(
            QAttachmentError::ProtocolError,
            QStringLiteral("malformed Content-Length \"%1\" in the HTTP %2 "
                           "response")
                .arg(QString::fromLatin1(reply->rawHeader("Content-Length").left(40)))
                .arg(code),
            code));
        return;
    }
    // The Content-Length of a HEAD answer is that of the body it leaves out.
    if (request.method.trimmed().toUpper() == "HEAD")
        announced = 0;

    if (status == 416 && parts == Parts::Probing && request.resumeFrom == 0) {
        // An empty resource has no part to give: it comes in one answer.
        qCDebug(lcHttp) << "no part to give, downloading in one answer";
        refuseParts();
        detachReply();
        sendAgain();
        return;
    }
    if (status == 416 && request.sink && request.resumeFrom > 0 && !restartedFromZero) {
        // What is stored already does not fit the resource (it changed, or the
        // partial file is not partial): fetch it whole.
        qCDebug(lcHttp) << "range not satisfiable, downloading from the start";
        restartFromZero();
        return;
    }
    if (followRedirect())
        return;

    if (status < 200 || status >= 300 || !request.sink)
        return;

    const bool http2 = reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool();
    if (announced < 0 && !http2
        && !reply->rawHeader("Transfer-Encoding").toLower().contains("chunked")) {
        // An HTTP/1 body that only ends with the connection cannot be told
        // apart from one cut short (Qt also ends here when it could not parse
        // the header block).
        fail(QAttachmentError(QAttachmentError::ProtocolError,
                              QStringLiteral("HTTP %1 response has neither a Content-Length nor "
                                             "chunked encoding; a cut-off body would go unnoticed")
                                  .arg(code),
                              code));
        return;
    }

    if (status == 206 && (request.resumeFrom > 0 || parts == Parts::InParts) && !restartedFromZero
        && responseValidator(reply) != resumeValidator(request.sink)) {
        // A server that ignores If-Range sends the rest of another version.
        qCDebug(lcHttp) << "the resource changed since the partial download, starting from 0";
        restartFromZero();
        return;
    }

    bodyToSink = true;
    offset = 0;
    if (status == 206) {
        // The part must start where the download resumes (at 0 when no range
        // was asked for: a part is not the whole file), reach the end (or,
        // for one of a series of parts, stay within what was asked and keep
        // the resource's length) and agree with the Content-Length.
        const QByteArray header = reply->rawHeader("Content-Range");
        const QHttpWire::ContentRange range = QHttpWire::parseContentRange(header);
        bool fits = range.reachesEnd();
        QString asked = QStringLiteral("the bytes from %1 on").arg(request.resumeFrom);
        if (partEnd >= 0) {
            fits = range.valid && range.last <= partEnd && range.complete >= 0
                && (resourceSize < 0 || range.complete == resourceSize);
            asked = QStringLiteral("bytes %1-%2 of %3")
                        .arg(request.resumeFrom)
                        .arg(partEnd)
                        .arg(resourceSize);
        }
        if (range.first != request.resumeFrom || !fits
            || (announced >= 0 && announced != range.length())) {
            fail(QAttachmentError(
                QAttachmentError::ProtocolError,
                QStringLiteral("%1 answered the request for %2 with Content-Range \"%3\" and "
                               "Content-Length %4")
                    .arg(QHttpWire::hostOf(reply->url()), asked,
                         QString::fromLatin1(header.left(100)), QString::number(announced)),
                status));
            return;
        }
        offset = request.resumeFrom;
        resourceSize = range.complete;
        // A body without a length (chunked, or HTTP/2 without one) is still
        // held to the range it claims: no byte beyond it, none missing.
        if (announced < 0)
            announced = range.length();
    } else {
        if (partEnd >= 0) {
            // The server ignores ranges after all, or the resource changed:
            // the whole of it comes in this answer.
            qCDebug(lcHttp) << "a part was answered with the whole resource";
            refuseParts();
        }
        resourceSize = announced;
        if (request.resumeFrom > 0 && !request.sink->seek(0)) {
            // The whole resource is coming again.
            fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                  QStringLiteral("cannot rewind the download target")));
            return;
        }
    }
    // Kept with the bytes, for the next attempt to resume against.
    request.sink->setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty,
                              responseValidator(reply));
    if (parts == Parts::Probing ? afterFirstPart(http2) : startParts(http2))
        return;
    report(offset, resourceTotal());
    prefetchParts();
}

bool QHttpExchange::startParts(bool http2)
{
    if (parts != Parts::Undecided || (!http2 && !request.partsOverHttp1)
        || request.http2PartSize <= 0 || resourceSize < 0
        || resourceSize - offset <= request.http2PartSize
        || request.method.trimmed().toUpper() != "GET")
        return false;
    if (status != 206 && !acceptsByteRanges(reply))
        return false;
    if (resumeValidator(request.sink).isEmpty())
        return false; // parts of different versions could not be told apart
    qCDebug(lcHttp) << "downloading" << resourceSize - offset << "bytes in parts of"
                    << request.http2PartSize;
    parts = Parts::InParts;
    // Nothing of this answer has been read: the first part starts where it
    // did. It is asked for before this answer is dropped, so that its
    // request leaves while data still flows (see prefetchParts()).
    requestPart(offset);
    takeNextPart();
    return true;
}

// To a server known to speak HTTP/2 the first request already asks for a
// part: nothing of a whole answer is then sent only to be dropped.
bool QHttpExchange::startsInParts(const QNetworkRequest &req) const
{
    if (!request.sink || kind != QAttachmentTransfer::Download || parts != Parts::Undecided
        || partEnd >= 0 || request.http2PartSize <= 0
        || request.method.trimmed().toUpper() != "GET")
        return false;
    if (request.partsFromTheStart)
        return true;
    if (!req.attribute(QNetworkRequest::Http2AllowedAttribute, true).toBool())
        return false;
    if (req.attribute(QNetworkRequest::Http2DirectAttribute).toBool())
        return true;
    auto *pool = qobject_cast<QNetworkManagerPool *>(manager);
    return pool && pool->http2Known(req.url());
}

// The answer to a first request that asked for a part (a 206 that fits):
// the rest follows in parts when more is left and a version names them; over
// HTTP/1.1 (the reply's read buffer bounds memory there) in one answer after
// this part; without a version the whole comes again in one answer. True:
// this answer was dropped.
bool QHttpExchange::afterFirstPart(bool http2)
{
    parts = Parts::Undecided;
    if (resourceSize >= 0 && request.resumeFrom + announced >= resourceSize)
        return false; // all of it is in this answer
    if (resumeValidator(request.sink).isEmpty()) {
        // Parts, or a resumed rest, could be of another version.
        qCDebug(lcHttp) << "the first part names no version: the whole in one answer";
        refuseParts();
        detachReply();
        sendAgain();
        return true;
    }
    if (!http2 && !request.partsOverHttp1) {
        qCDebug(lcHttp) << "the first part came over HTTP/1.1: the rest in one answer";
        parts = Parts::RestAfterPart;
        return false;
    }
    qCDebug(lcHttp) << "downloading" << resourceSize - request.resumeFrom << "bytes in parts of"
                    << request.http2PartSize;
    parts = Parts::InParts;
    return false;
}

void QHttpExchange::requestPart(qint64 from)
{
    Part part;
    part.from = from;
    part.last = qMin(from + request.http2PartSize, resourceSize) - 1;
    QNetworkRequest req = prepared();
    req.setRawHeader(
        "Range", "bytes=" + QByteArray::number(part.from) + '-' + QByteArray::number(part.last));
    req.setRawHeader("If-Range", resumeValidator(request.sink));
    qCDebug(lcHttp).noquote() << "GET" << QHttpWire::redactedUrl(req.url()) << "part" << part.from
                              << "to" << part.last;
    part.reply = dispatch(req, "GET", nullptr);
    ahead.append(part);
}

// Qt sends requests without TCP_NODELAY: a request written while the server
// has nothing to send waits for the acknowledgement of the client's last
// window update, which the idle server delays (40 ms on Linux, more than a
// part takes on a fast link). Qt's network thread also runs ahead of the
// app's thread: when the app sees a part begin, the network may have
// brought all of it. The next parts (http2PartsAhead of them) are therefore
// asked for as soon as a part begins, so that a request leaves while the
// server still sends; this also hides the round trip on a slow link. Qt
// then holds at most that many parts of the download, and the current one.
void QHttpExchange::prefetchParts()
{
    if (parts != Parts::InParts || partEnd < 0 || resourceSize < 0)
        return;
    while (ahead.size() < request.http2PartsAhead) {
        const qint64 from = ahead.isEmpty() ? partEnd + 1 : ahead.constLast().last + 1;
        if (from >= resourceSize)
            return;
        requestPart(from);
    }
}

// After a part that arrived whole: goes on with the next one, if any is left.
bool QHttpExchange::nextPart()
{
    if (parts != Parts::InParts || resourceSize < 0 || offset + received >= resourceSize)
        return false;
    // A server may send less than was asked for: the parts asked for then no
    // longer fit, and the next one starts where this one ended.
    if (ahead.isEmpty() || ahead.constFirst().from != offset + received) {
        dropAhead();
        requestPart(offset + received);
    }
    takeNextPart();
    return true;
}

// The answer before is dropped at once; the next part is taken up on the
// next pass of the event loop, since this may run inside a handler of the
// answer before, which must find no reply once this returns.
void QHttpExchange::takeNextPart()
{
    detachReply();
    QMetaObject::invokeMethod(
        this, [this] { attachNextPart(); }, Qt::QueuedConnection);
}

void QHttpExchange::attachNextPart()
{
    if (done || reply || ahead.isEmpty())
        return;
    const Part next = ahead.takeFirst();
    if (!next.reply) {
        // The manager went away with the request.
        finish(QAttachmentError(QAttachmentError::NetworkError,
                                QStringLiteral("the network access manager was "
                                               "destroyed during the request")));
        return;
    }
    resetResponse();
    request.resumeFrom = next.from;
    partEnd = next.last;
    attach(next.reply);
    touch();
    // Its headers, data or end may have arrived before it was attached.
    if (next.reply->isFinished())
        onReplyFinished();
    else
        onReadyRead();
}

// From here on the download comes in one answer (or in one after the
// current part, see RestAfterPart).
void QHttpExchange::refuseParts()
{
    parts = Parts::Refused;
    partEnd = -1;
    dropAhead();
}

void QHttpExchange::dropAhead()
{
    const QList<Part> dropped = std::exchange(ahead, {});
    for (const Part &part : dropped) {
        if (!part.reply)
            continue;
        if (!part.reply->isFinished())
            QMetaObject::invokeMethod(part.reply, &QNetworkReply::abort, Qt::QueuedConnection);
        part.reply->deleteLater();
    }
}

qint64 QHttpExchange::resourceTotal() const
{
    if (resourceSize >= 0)
        return resourceSize;
    return announced >= 0 ? offset + announced : -1;
}

void QHttpExchange::keep(const QByteArray &data)
{
    const qint64 room = request.maxKeptBody - kept.size();
    if (room > 0)
        kept.append(data.left(room));
}

void QHttpExchange::onReadyRead(bool all)
{
    touch();
    if (!reply)
        return;
    if (!responseStarted)
        onMetaDataChanged();
    if (!reply)
        return;
    // Over HTTP/2 Qt 6.4 signals every DATA frame (8 KiB from nginx): writing
    // and reporting each one kept the app's thread behind the network, and
    // what Qt had received meanwhile piled up in memory. Everything available
    // is read at once (Qt forwards more only once its buffer was emptied);
    // a body for the sink is written in pieces of CopyChunkSize, and a
    // smaller rest once the events queued so far have been handled: a burst
    // of frames is written at once, a trickle still as it comes.
    while (reply && reply->bytesAvailable() > 0) {
        const QByteArray chunk = reply->read(qMax(reply->bytesAvailable(), CopyChunkSize));
        if (chunk.isEmpty())
            break;
        received += chunk.size();
        if (announced >= 0 && received > announced) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  QStringLiteral("response body is longer than the announced "
                                                 "%1 bytes")
                                      .arg(announced),
                                  status));
            return;
        }
        if (!bodyToSink) {
            if (responseStarted && status >= 200 && status < 300
                && kept.size() + chunk.size() > request.maxKeptBody) {
                fail(QAttachmentError(
                    QAttachmentError::ProtocolError,
                    QStringLiteral("response body exceeds %1 bytes").arg(request.maxKeptBody),
                    status));
                return;
            }
            keep(chunk);
            continue;
        }
        pending.append(chunk);
    }
    if (!reply || !bodyToSink || pending.isEmpty())
        return;
    if (!all && pending.size() < CopyChunkSize && (announced < 0 || received < announced)) {
        if (!flushQueued) {
            flushQueued = true;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    flushQueued = false;
                    onReadyRead(true);
                },
                Qt::QueuedConnection);
        }
        return;
    }
    const qint64 written = request.sink->write(pending);
    if (written != pending.size()) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("writing the downloaded data failed: %1")
                                  .arg(request.sink->errorString())));
        return;
    }
    pending.clear();
    report(offset + received, resourceTotal());
}

QAttachmentError QHttpExchange::statusError()
{
    QHttpWire::StatusAnswer answer;
    answer.status = status;
    answer.reason = reply ? reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()
                          : QString();
    answer.location = reply ? reply->rawHeader("Location") : QByteArray();
    answer.body = kept;
    answer.upload = kind == QAttachmentTransfer::Upload;
    answer.requestUrl = request.request.url();
    return QHttpWire::answerError(errorParser, answer,
                                  reply ? reply->rawHeader("Retry-After") : QByteArray());
}

void QHttpExchange::onReplyFinished()
{
    if (!reply)
        return;
    silence.stop();
    if (!responseStarted)
        onMetaDataChanged();
    if (!reply)
        return;
    onReadyRead(true);
    if (!reply)
        return;

    const QNetworkReply::NetworkError netError = reply->error();
    if (QHttpReplyErrors::isTransportError(netError) || !responseStarted) {
        QHttpReplyErrors::Progress progress;
        progress.responseStarted = responseStarted;
        progress.status = status;
        progress.announced = announced;
        progress.received = received;
        progress.sendTotal = sendTotal;
        progress.bodySent = bodySent;
        fail(QHttpReplyErrors::transportError(reply, progress));
        return;
    }

    if (status == 404 && request.notFoundIsSuccess) {
        headers = reply->rawHeaderPairs();
        report(1, 1);
        detachReply();
        finish(QAttachmentError());
        return;
    }
    if (status < 200 || status >= 300) {
        fail(statusError());
        return;
    }
    if (announced >= 0 && received < announced) {
        fail(QAttachmentError(QAttachmentError::ProtocolError,
                              QStringLiteral("short body: the response ended after %1 of the "
                                             "announced %2 bytes")
                                  .arg(received)
                                  .arg(announced),
                              status));
        return;
    }
    if (parts == Parts::RestAfterPart && resourceSize >= 0 && offset + received < resourceSize) {
        parts = Parts::Refused;
        request.resumeFrom = offset + received;
        partEnd = -1;
        detachReply();
        sendAgain();
        return;
    }
    if (nextPart())
        return;
    headers = reply->rawHeaderPairs();
    if (kind == QAttachmentTransfer::Upload && sendTotal >= 0)
        report(sendTotal, sendTotal);
    else if (kind == QAttachmentTransfer::Download)
        report(offset + received, offset + received);
    else if (kind == QAttachmentTransfer::Delete)
        report(1, 1);
    qCDebug(lcHttp) << "exchange done, status" << status << "body" << received;
    detachReply();
    finish(QAttachmentError());
}

void QHttpExchange::onTimeout()
{
    if (!reply)
        return;
    // What arrived before the silence is kept, for a resume.
    onReadyRead(true);
    if (!reply)
        return;
    fail(QAttachmentError(QAttachmentError::Timeout,
                          QStringLiteral("no progress from %1 for %2 ms")
                              .arg(QHttpWire::hostOf(request.request.url()))
                              .arg(request.transferTimeoutMs),
                          status));
}

void QHttpExchange::report(qint64 doneBytes, qint64 totalBytes)
{
    if (!done && onProgress)
        onProgress(doneBytes, totalBytes);
}

void QHttpExchange::finish(const QAttachmentError &error)
{
    if (done)
        return;
    done = true;
    silence.stop();
    dropAhead();
    if (onFinished)
        onFinished(error);
}

QHttpExchange::QHttpExchange(QAttachmentTransfer::Kind kind, QNetworkAccessManager *manager,
                             QObject *parent)
    : QObject(parent)
    , kind(kind)
    , manager(manager)
    , silence(this, [this] { onTimeout(); })
{ }

QHttpExchange::~QHttpExchange()
{
    detachReply();
    dropAhead();
}

void QHttpExchange::start(const QHttpRequest &request)
{
    this->request = request;
    if (!manager) {
        fail(QAttachmentError(QAttachmentError::InvalidInput,
                              QStringLiteral("no network access manager")));
        return;
    }
    if (!request.request.url().isValid()) {
        fail(QAttachmentError(QAttachmentError::InvalidInput,
                              QStringLiteral("invalid URL \"%1\"")
                                  .arg(QHttpWire::redactedUrl(request.request.url()))));
        return;
    }
    // A CR or LF in a header would end it early and let what follows be read
    // as more headers or a second request: nothing of it is sent.
    const QString problem
        = QHttpWire::problemWithRequest(request.request, request.method.trimmed().toUpper());
    if (!problem.isEmpty()) {
        fail(QAttachmentError(QAttachmentError::InvalidInput,
                              QStringLiteral("refusing to send the request to %1: %2")
                                  .arg(QHttpWire::hostOf(request.request.url()), problem)));
        return;
    }
    send();
}

void QHttpExchange::abort()
{
    done = true;
    detachReply();
    dropAhead();
}

QByteArray QHttpExchange::responseHeader(const QByteArray &name) const
{
    for (const auto &pair : headers) {
        if (pair.first.compare(name, Qt::CaseInsensitive) == 0)
            return pair.second;
    }
    return {};
}
