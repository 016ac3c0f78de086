#include "qs3remotestorage.h"
#include "qs3remotestorage_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qfile.h>
#include <QtNetwork/qnetworkaccessmanager.h>

#include <algorithm>

namespace {

constexpr qint64 MinPartSize = 5 * 1024 * 1024;
constexpr int MaxParts = 10000;
constexpr int PartRetries = 2;
// Ask for new temporary credentials this long before they run out, so that a
// request signed now does not arrive with expired ones.
constexpr int CredentialsMarginSeconds = 120;

} // namespace

// --- credentials -----------------------------------------------------------

QS3Credentials QS3RemoteStoragePrivate::currentCredentials() const
{
    return provider ? providedCredentials : staticCredentials;
}

void QS3RemoteStoragePrivate::withCredentials(QObject *context,
                                              const QS3RemoteStorage::CredentialsCallback &done)
{
    if (!provider) {
        if (!staticCredentials.isValid()) {
            done({},
                 QAttachmentError(QAttachmentError::Unauthorized,
                                  QStringLiteral("no S3 credentials configured (access key "
                                                 "id and secret access key)")));
            return;
        }
        done(staticCredentials, {});
        return;
    }
    if (providedCredentials.isValid() && !providedCredentials.isExpired(CredentialsMarginSeconds)) {
        done(providedCredentials, {});
        return;
    }
    waiting.append({QPointer<QObject>(context), done});
    if (fetchingCredentials)
        return;
    fetchingCredentials = true;
    const quint64 generation = ++providerGeneration;
    qCDebug(lcS3) << "requesting credentials from the provider";
    QPointer<QS3RemoteStorage> guard(q);
    auto answered = std::make_shared<bool>(false);
    if (transferTimeout > 0)
        credentialsTimer.start(transferTimeout);
    provider([this, guard, generation, answered](const QS3Credentials &credentials,
                                                 const QAttachmentError &error) {
        if (!guard || *answered || generation != providerGeneration)
            return;
        *answered = true;
        QAttachmentError failure = error;
        if (!failure.isError() && !credentials.isValid())
            failure = QAttachmentError(QAttachmentError::Unauthorized,
                                       QStringLiteral("the credentials provider returned no "
                                                      "access key id or secret"));
        if (!failure.isError())
            providedCredentials = credentials;
        answerWaiting(credentials, failure);
    });
}

void QS3RemoteStoragePrivate::answerWaiting(const QS3Credentials &credentials,
                                            const QAttachmentError &error)
{
    credentialsTimer.stop();
    fetchingCredentials = false;
    const auto callbacks = std::exchange(waiting, {});
    for (const auto &[ctx, callback] : callbacks) {
        if (ctx)
            callback(error.isError() ? QS3Credentials() : credentials, error);
    }
}

QS3Signer QS3RemoteStoragePrivate::signer(const QS3Credentials &credentials) const
{
    return QS3Signer(credentials.accessKeyId().toUtf8(), credentials.secretAccessKey().toUtf8(),
                     region.toUtf8(), "s3", credentials.sessionToken().toUtf8());
}

QNetworkAccessManager *QS3RemoteStoragePrivate::manager()
{
    if (manager_)
        return manager_;
    if (!ownManager) {
        ownManager = new QNetworkAccessManager(q);
        ownManager->setAutoDeleteReplies(false);
    }
    return ownManager;
}

QUrl QS3RemoteStoragePrivate::baseUrl() const
{
    QUrl url = endpoint;
    if (url.isEmpty()) {
        url = QUrl(QStringLiteral("https://s3.%1.amazonaws.com")
                       .arg(region.isEmpty() ? QStringLiteral("us-east-1") : region));
    }
    // The default port must not appear in the signed Host header.
    const int defaultPort = url.scheme() == QLatin1String("https") ? 443 : 80;
    if (url.port() == defaultPort)
        url.setPort(-1);
    return url;
}

// --- storage ---------------------------------------------------------------

QS3RemoteStorage::QS3RemoteStorage(QObject *parent)
    : QAttachmentRemoteStorage(parent)
    , d(std::make_unique<QS3RemoteStoragePrivate>(this))
{
    d->credentialsTimer.setSingleShot(true);
    connect(&d->credentialsTimer, &QTimer::timeout, this, [this] {
        // A late answer is dropped; the next request asks the provider again.
        ++d->providerGeneration;
        d->answerWaiting({},
                         QAttachmentError(QAttachmentError::Timeout,
                                          QStringLiteral("no answer from the credentials provider "
                                                         "within %1 ms")
                                              .arg(d->credentialsTimer.interval())));
    });
}

QS3RemoteStorage::~QS3RemoteStorage()
{
    // Transfers must not outlive the manager their replies belong to silently.
    const auto live = std::exchange(d->live, {});
    for (const auto &transfer : live) {
        if (transfer && !transfer->isFinished())
            transfer->abort();
    }
}

#define PSA_S3_SETTER(member, value, signal) \
    do { \
        if (d->member == value) \
            return; \
        d->member = value; \
        Q_EMIT signal(); \
        Q_EMIT configurationChanged(); \
    } while (false)

QUrl QS3RemoteStorage::endpoint() const
{
    return d->endpoint;
}

void QS3RemoteStorage::setEndpoint(const QUrl &endpoint)
{
    const bool pathStyleBefore = pathStyle();
    if (d->endpoint == endpoint)
        return;
    d->endpoint = endpoint;
    Q_EMIT endpointChanged();
    if (pathStyle() != pathStyleBefore)
        Q_EMIT pathStyleChanged();
    Q_EMIT configurationChanged();
}

QString QS3RemoteStorage::region() const
{
    return d->region;
}

void QS3RemoteStorage::setRegion(const QString &region)
{
    PSA_S3_SETTER(region, region, regionChanged);
}

QString QS3RemoteStorage::bucket() const
{
    return d->bucket;
}

void QS3RemoteStorage::setBucket(const QString &bucket)
{
    PSA_S3_SETTER(bucket, bucket, bucketChanged);
}

QString QS3RemoteStorage::keyPrefix() const
{
    return d->keyPrefix;
}

void QS3RemoteStorage::setKeyPrefix(const QString &prefix)
{
    PSA_S3_SETTER(keyPrefix, prefix, keyPrefixChanged);
}

bool QS3RemoteStorage::pathStyle() const
{
    return d->pathStyle.value_or(!d->endpoint.isEmpty());
}

void QS3RemoteStorage::setPathStyle(bool pathStyle)
{
    const bool before = this->pathStyle();
    d->pathStyle = pathStyle;
    if (before != pathStyle) {
        Q_EMIT pathStyleChanged();
        Q_EMIT configurationChanged();
    }
}

void QS3RemoteStorage::resetPathStyle()
{
    const bool before = pathStyle();
    d->pathStyle.reset();
    if (before != pathStyle()) {
        Q_EMIT pathStyleChanged();
        Q_EMIT configurationChanged();
    }
}

QString QS3RemoteStorage::accessKeyId() const
{
    return d->staticCredentials.accessKeyId();
}

void QS3RemoteStorage::setAccessKeyId(const QString &id)
{
    if (d->staticCredentials.accessKeyId() == id)
        return;
    d->staticCredentials.setAccessKeyId(id);
    Q_EMIT accessKeyIdChanged();
    Q_EMIT configurationChanged();
}

QString QS3RemoteStorage::secretAccessKey() const
{
    return d->staticCredentials.secretAccessKey();
}

void QS3RemoteStorage::setSecretAccessKey(const QString &secret)
{
    if (d->staticCredentials.secretAccessKey() == secret)
        return;
    d->staticCredentials.setSecretAccessKey(secret);
    Q_EMIT secretAccessKeyChanged();
    Q_EMIT configurationChanged();
}

QString QS3RemoteStorage::sessionToken() const
{
    return d->staticCredentials.sessionToken();
}

void QS3RemoteStorage::setSessionToken(const QString &token)
{
    if (d->staticCredentials.sessionToken() == token)
        return;
    d->staticCredentials.setSessionToken(token);
    Q_EMIT sessionTokenChanged();
    Q_EMIT configurationChanged();
}

void QS3RemoteStorage::setCredentials(const QS3Credentials &credentials)
{
    const QS3Credentials before = d->staticCredentials;
    if (before == credentials)
        return;
    d->staticCredentials = credentials;
    if (before.accessKeyId() != credentials.accessKeyId())
        Q_EMIT accessKeyIdChanged();
    if (before.secretAccessKey() != credentials.secretAccessKey())
        Q_EMIT secretAccessKeyChanged();
    if (before.sessionToken() != credentials.sessionToken())
        Q_EMIT sessionTokenChanged();
    Q_EMIT configurationChanged();
}

void QS3RemoteStorage::setCredentialsProvider(CredentialsProvider provider)
{
    d->provider = std::move(provider);
    d->providedCredentials = {};
    d->fetchingCredentials = false;
    d->credentialsTimer.stop();
    ++d->providerGeneration; // answers to an earlier provider are dropped
    // Requests waiting for the old provider ask the new one (or use the static credentials).
    const auto waiting = std::exchange(d->waiting, {});
    for (const auto &[ctx, callback] : waiting) {
        if (ctx)
            d->withCredentials(ctx, callback);
    }
    Q_EMIT configurationChanged();
}

void QS3RemoteStorage::invalidateCredentials()
{
    d->providedCredentials = {};
}

qint64 QS3RemoteStorage::multipartThreshold() const
{
    return d->multipartThreshold;
}

void QS3RemoteStorage::setMultipartThreshold(qint64 bytes)
{
    PSA_S3_SETTER(multipartThreshold, bytes, multipartThresholdChanged);
}

qint64 QS3RemoteStorage::partSize() const
{
    return d->partSize;
}

void QS3RemoteStorage::setPartSize(qint64 bytes)
{
    PSA_S3_SETTER(partSize, bytes, partSizeChanged);
}

int QS3RemoteStorage::maxParallelParts() const
{
    return d->maxParallelParts;
}

void QS3RemoteStorage::setMaxParallelParts(int count)
{
    PSA_S3_SETTER(maxParallelParts, std::max(1, count), maxParallelPartsChanged);
}

int QS3RemoteStorage::transferTimeout() const
{
    return d->transferTimeout;
}

void QS3RemoteStorage::setTransferTimeout(int msecs)
{
    PSA_S3_SETTER(transferTimeout, msecs, transferTimeoutChanged);
}

#undef PSA_S3_SETTER

QNetworkAccessManager *QS3RemoteStorage::networkAccessManager() const
{
    return d->manager();
}

void QS3RemoteStorage::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    d->manager_ = manager;
}

QString QS3RemoteStorage::objectKey(const QAttachment &attachment) const
{
    return d->keyPrefix + attachment.filename();
}

QUrl QS3RemoteStorage::objectUrl(const QString &key) const
{
    QUrl url = d->baseUrl();
    QByteArray path = url.path(QUrl::FullyEncoded).toLatin1();
    while (path.endsWith('/'))
        path.chop(1);
    const QByteArray encodedKey = QS3Signer::uriEncode(key.toUtf8(), false);
    if (pathStyle()) {
        path += '/' + QS3Signer::uriEncode(d->bucket.toUtf8()) + '/' + encodedKey;
    } else {
        url.setHost(d->bucket + QLatin1Char('.') + url.host());
        path += '/' + encodedKey;
    }
    url.setPath(QString::fromLatin1(path), QUrl::StrictMode);
    url.setQuery(QString());
    return url;
}

QUrl QS3RemoteStorage::presignedUrl(const QString &key, const QByteArray &method,
                                    int expiresSeconds) const
{
    const QS3Credentials credentials = d->currentCredentials();
    if (!credentials.isValid())
        return {};
    return d->signer(credentials).presign(objectUrl(key), method.toUpper(), expiresSeconds);
}

QAttachmentTransfer *QS3RemoteStorage::upload(const QAttachment &attachment, QIODevice *source)
{
    auto *transfer = new QS3Transfer(QAttachmentTransfer::Upload, this, objectKey(attachment));
    d->live.append(transfer);
    transfer->startUpload(source, attachment.mediaType());
    return transfer;
}

QAttachmentTransfer *QS3RemoteStorage::download(const QAttachment &attachment, QIODevice *sink)
{
    auto *transfer = new QS3Transfer(QAttachmentTransfer::Download, this, objectKey(attachment));
    d->live.append(transfer);
    transfer->startDownload(sink);
    return transfer;
}

QAttachmentTransfer *QS3RemoteStorage::remove(const QAttachment &attachment)
{
    auto *transfer = new QS3Transfer(QAttachmentTransfer::Delete, this, objectKey(attachment));
    d->live.append(transfer);
    transfer->startRemove();
    return transfer;
}

// --- transfer --------------------------------------------------------------

QS3Transfer::QS3Transfer(Kind kind, QS3RemoteStorage *storage, const QString &key, QObject *parent)
    : QAttachmentTransfer(kind, parent)
    , m_storage(storage)
    , m_key(key)
{
    // Forget finished transfers so the storage's list stays short.
    connect(this, &QAttachmentTransfer::finished, this, [this] {
        if (m_storage)
            m_storage->d->live.removeAll(QPointer<QAttachmentTransfer>(this));
    });
}

QS3Transfer::~QS3Transfer()
{
    if (m_storage)
        m_storage->d->live.removeAll(QPointer<QAttachmentTransfer>(this));
    stopExchanges();
}

void QS3Transfer::stopExchanges()
{
    // Deleted later, not now: QNetworkAccessManager may still have the start
    // of a just-created request queued, which touches the request body.
    const auto exchanges = std::exchange(m_exchanges, {});
    m_exchangeSent.clear();
    for (QHttpTransfer *exchange : exchanges) {
        disconnect(exchange, nullptr, this, nullptr);
        exchange->abort();
        exchange->setParent(nullptr);
        exchange->deleteLater();
    }
    for (Part &part : m_parts) {
        if (part.file)
            part.file->deleteLater();
        part.file = nullptr;
        part.running = false;
    }
}

void QS3Transfer::fail(const QAttachmentError &error)
{
    if (isCompleting())
        return;
    qCDebug(lcS3) << "transfer of" << m_key << "failed:" << error;
    stopExchanges();
    if (!m_uploadId.isEmpty())
        abortMultipart();
    finishWithError(error);
}

void QS3Transfer::abortTransfer()
{
    stopExchanges();
    if (!m_uploadId.isEmpty())
        abortMultipart();
}

QUrl QS3Transfer::urlFor(const QList<QS3Signer::Pair> &query) const
{
    QUrl url = m_storage->objectUrl(m_key);
    QByteArray encoded;
    for (const auto &[name, value] : query) {
        if (!encoded.isEmpty())
            encoded += '&';
        encoded += QS3Signer::uriEncode(name);
        if (!value.isNull())
            encoded += '=' + QS3Signer::uriEncode(value);
    }
    if (!encoded.isEmpty())
        url.setQuery(QString::fromLatin1(encoded), QUrl::StrictMode);
    return url;
}

void QS3Transfer::run(const Exchange &exchange, Done done, bool refreshedCredentials)
{
    if (!m_storage) {
        fail(QAttachmentError(QAttachmentError::Cancelled,
                              QStringLiteral("the S3 storage is gone")));
        return;
    }
    QPointer<QS3Transfer> self(this);
    m_storage->d->withCredentials(
        this,
        [self, exchange, done, refreshedCredentials](const QS3Credentials &credentials,
                                                     const QAttachmentError &error) {
            if (!self || self->isCompleting() || !self->m_storage)
                return;
            QS3Transfer *t = self;
            if (error.isError()) {
                t->fail(error);
                return;
            }
            QS3RemoteStoragePrivate *sd = t->m_storage->d.get();

            QNetworkRequest request(t->urlFor(exchange.query));
            if (!exchange.contentType.isEmpty())
                request.setHeader(QNetworkRequest::ContentTypeHeader, exchange.contentType);
            sd->signer(credentials).sign(request, exchange.method, QS3Signer::unsignedPayload());

            if (exchange.body && !exchange.body->isSequential()
                && !exchange.body->seek(exchange.bodyOffset)) {
                t->fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                         QStringLiteral("cannot read the file to upload")));
                return;
            }
            if (exchange.sink && exchange.sink->pos() != exchange.resumeFrom
                && !exchange.sink->seek(exchange.resumeFrom)) {
                t->fail(QAttachmentError(QAttachmentError::LocalStorageError,
                                         QStringLiteral("cannot position the download target")));
                return;
            }

            QHttpTransfer::Request r;
            r.request = request;
            r.method = exchange.method;
            r.body = exchange.body;
            r.bodySize = exchange.bodySize;
            r.sink = exchange.sink;
            r.resumeFrom = exchange.resumeFrom;
            r.notFoundIsSuccess = exchange.notFoundIsSuccess;
            r.transferTimeoutMs = sd->transferTimeout;

            auto *http = new QHttpTransfer(exchange.kind, sd->manager(), t);
            const QString what
                = QStringLiteral("\"%1\" in bucket \"%2\"").arg(t->m_key, sd->bucket);
            http->setErrorParser([what](int status, const QByteArray &body) {
                return qS3Error(status, body, what);
            });
            t->m_exchanges.insert(http);
            QObject::connect(http, &QAttachmentTransfer::finished, t,
                             [t, http, exchange, done, refreshedCredentials, credentials] {
                                 t->m_exchanges.remove(http);
                                 // A finished part counts through Part::done, a
                                 // repeated one from zero again.
                                 t->m_exchangeSent.remove(http);
                                 http->deleteLater();
                                 const QAttachmentError err = http->error();
                                 if (err.code() == QAttachmentError::Unauthorized && t->m_storage
                                     && t->m_storage->d->provider && !refreshedCredentials) {
                                     // Temporary credentials may have been revoked or
                                     // expired early: ask once for new ones.
                                     if (t->m_storage->d->providedCredentials == credentials)
                                         t->m_storage->invalidateCredentials();
                                     // A stream that has been read cannot be sent
                                     // again; the next upload gets the new ones.
                                     if (!exchange.body || !exchange.body->isSequential()) {
                                         t->run(exchange, done, true);
                                         return;
                                     }
                                 }
                                 if (err.isError() && err.isRetryable()
                                     && err.code() != QAttachmentError::Cancelled
                                     && exchange.attemptsLeft > 0) {
                                     Exchange again = exchange;
                                     --again.attemptsLeft;
                                     qCDebug(lcS3) << "retrying" << exchange.method << t->m_key
                                                   << "after" << err;
                                     t->run(again, done, refreshedCredentials);
                                     return;
                                 }
                                 done(http);
                             });
            if (exchange.kind != Delete) {
                QObject::connect(http, &QAttachmentTransfer::progress, t,
                                 [t, http](qint64 doneBytes, qint64 total) {
                                     if (http->kind() == Upload) {
                                         // Qt reports an upload's progress as 0 again once
                                         // the body is out; keep the high-water mark.
                                         qint64 &sent = t->m_exchangeSent[http];
                                         sent = std::max(sent, doneBytes);
                                         doneBytes = sent;
                                     }
                                     if (!t->m_parts.isEmpty()) // a multipart upload
                                         t->reportPartProgress();
                                     else
                                         t->setProgress(doneBytes, total);
                                 });
            }
            http->start(r);
        });
}

void QS3Transfer::startUpload(QIODevice *source, const QString &contentType)
{
    m_source = source;
    m_contentType = contentType.isEmpty() ? QByteArrayLiteral("application/octet-stream")
                                          : contentType.toUtf8();
    const QString mediaTypeProblem
        = QAttachmentNames::problemWithMediaType(QString::fromUtf8(m_contentType));
    if (!mediaTypeProblem.isEmpty()) {
        fail(QAttachmentError(QAttachmentError::InvalidInput,
                              QStringLiteral("\"%1\": %2").arg(m_key, mediaTypeProblem)));
        return;
    }
    if (!source || !source->isReadable()) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("the file to upload is not open for reading")));
        return;
    }
    if (!source->isSequential()) {
        m_size = source->size() - source->pos();
        if (auto *file = qobject_cast<QFile *>(source))
            m_sourcePath = file->fileName();
    }
    // An empty file has no part to send: S3 cannot complete such an upload.
    if (m_size > 0 && m_size > m_storage->multipartThreshold()) {
        startMultipart();
        return;
    }
    Exchange put;
    put.kind = Upload;
    put.method = "PUT";
    put.body = source;
    put.bodyOffset = source->isSequential() ? 0 : source->pos();
    put.bodySize = m_size;
    put.contentType = m_contentType;
    run(put, [this](QHttpTransfer *http) {
        if (http->error().isError()) {
            fail(http->error());
            return;
        }
        if (m_size >= 0)
            setProgress(m_size, m_size);
        finishSuccess();
    });
}

void QS3Transfer::startDownload(QIODevice *sink)
{
    if (!sink || !sink->isWritable()) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("the download target is not open for writing")));
        return;
    }
    Exchange get;
    get.kind = Download;
    get.method = "GET";
    get.sink = sink;
    get.resumeFrom = sink->pos();
    run(get, [this](QHttpTransfer *http) {
        if (http->error().isError())
            fail(http->error());
        else
            finishSuccess();
    });
}

void QS3Transfer::startRemove()
{
    Exchange del;
    del.kind = Delete;
    del.method = "DELETE";
    del.notFoundIsSuccess = true;
    run(del, [this](QHttpTransfer *http) {
        if (http->error().isError() && http->error().code() != QAttachmentError::NotFound) {
            fail(http->error());
            return;
        }
        setProgress(1, 1);
        finishSuccess();
    });
}

// --- multipart upload --------------------------------------------------------

void QS3Transfer::startMultipart()
{
    qint64 partSize = std::max(MinPartSize, m_storage->partSize());
    if ((m_size + partSize - 1) / partSize > MaxParts)
        partSize = (m_size + MaxParts - 1) / MaxParts;
    const qint64 base = m_source->pos();
    for (qint64 offset = 0; offset < m_size; offset += partSize) {
        Part part;
        part.offset = base + offset;
        part.size = std::min(partSize, m_size - offset);
        m_parts.append(part);
    }
    qCDebug(lcS3) << "multipart upload of" << m_key << m_size << "bytes in" << m_parts.size()
                  << "parts";
    setProgress(0, m_size);

    Exchange create;
    create.kind = Upload;
    create.method = "POST";
    create.query = {{"uploads", QByteArray()}};
    create.contentType = m_contentType;
    create.attemptsLeft = PartRetries;
    run(create, [this](QHttpTransfer *http) {
        if (http->error().isError()) {
            fail(http->error());
            return;
        }
        const QString id = qS3XmlElementText(http->responseBody(), u"UploadId").trimmed();
        if (id.isEmpty()) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  QStringLiteral("S3 started no multipart upload for \"%1\": "
                                                 "the answer has no UploadId")
                                      .arg(m_key),
                                  http->httpStatus()));
            return;
        }
        m_uploadId = id;
        startNextParts();
    });
}

void QS3Transfer::startNextParts()
{
    int running = 0;
    for (const Part &part : std::as_const(m_parts))
        running += part.running ? 1 : 0;
    const int limit = m_storage ? m_storage->maxParallelParts() : 1;
    while (running < limit && m_nextPart < m_parts.size() && !isCompleting()) {
        const int index = m_nextPart++;
        Part &part = m_parts[index];
        QIODevice *body = m_source;
        qint64 offset = part.offset;
        if (!m_sourcePath.isEmpty()) {
            // A file of its own per part: parallel parts do not fight over
            // one read position.
            auto *file = new QFile(m_sourcePath);
            if (!file->open(QIODevice::ReadOnly)) {
                const QString reason = file->errorString();
                delete file;
                fail(QAttachmentError(
                    QAttachmentError::LocalStorageError,
                    QStringLiteral("cannot open %1: %2").arg(m_sourcePath, reason)));
                return;
            }
            part.file = file;
            body = file;
        }
        part.running = true;
        ++running;
        Exchange put;
        put.kind = Upload;
        put.method = "PUT";
        put.query
            = {{"partNumber", QByteArray::number(index + 1)}, {"uploadId", m_uploadId.toUtf8()}};
        put.body = body;
        put.bodyOffset = offset;
        put.bodySize = part.size;
        put.attemptsLeft = PartRetries;
        run(put, [this, index](QHttpTransfer *http) { partDone(index, http); });
        if (isCompleting())
            return;
    }
}

void QS3Transfer::partDone(int index, QHttpTransfer *http)
{
    Part &part = m_parts[index];
    part.running = false;
    if (part.file) {
        // The finished exchange may still hold the file until it is deleted.
        part.file->deleteLater();
        part.file = nullptr;
    }
    if (http->error().isError()) {
        fail(http->error());
        return;
    }
    part.etag = http->responseHeader("ETag").trimmed();
    if (part.etag.isEmpty()) {
        fail(QAttachmentError(
            QAttachmentError::ProtocolError,
            QStringLiteral("S3 sent no ETag for part %1 of \"%2\"").arg(index + 1).arg(m_key),
            http->httpStatus()));
        return;
    }
    part.done = true;
    part.sent = part.size;
    reportPartProgress();
    const bool allDone
        = std::all_of(m_parts.cbegin(), m_parts.cend(), [](const Part &p) { return p.done; });
    if (allDone)
        completeMultipart();
    else
        startNextParts();
}

void QS3Transfer::reportPartProgress()
{
    qint64 sent = 0;
    for (const Part &part : std::as_const(m_parts))
        sent += part.done ? part.size : 0;
    for (auto it = m_exchangeSent.cbegin(); it != m_exchangeSent.cend(); ++it)
        sent += it.value();
    setProgress(std::min(sent, m_size), m_size);
}

void QS3Transfer::completeMultipart()
{
    QByteArray xml = "<CompleteMultipartUpload>";
    for (int i = 0; i < m_parts.size(); ++i) {
        QByteArray etag = m_parts.at(i).etag;
        etag.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        xml += "<Part><PartNumber>" + QByteArray::number(i + 1) + "</PartNumber><ETag>" + etag
            + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    m_completeBody = new QBuffer(this);
    m_completeBody->setData(xml);
    m_completeBody->open(QIODevice::ReadOnly);

    Exchange complete;
    complete.kind = Upload;
    complete.method = "POST";
    complete.query = {{"uploadId", m_uploadId.toUtf8()}};
    complete.body = m_completeBody;
    complete.bodySize = xml.size();
    complete.contentType = "application/xml";
    complete.attemptsLeft = PartRetries;
    run(complete, [this](QHttpTransfer *http) {
        if (http->error().isError()) {
            fail(http->error());
            return;
        }
        // S3 answers 200 first and may still report a failure in the body.
        const QByteArray body = http->responseBody();
        if (QS3ErrorDocument::parse(body).code.size() > 0) {
            fail(qS3Error(http->httpStatus(), body, QStringLiteral("\"%1\"").arg(m_key)));
            return;
        }
        m_uploadId.clear(); // nothing to abort any more
        setProgress(m_size, m_size);
        finishSuccess();
    });
}

void QS3Transfer::abortMultipart()
{
    // Parts of an abandoned upload are billed until aborted. The request
    // belongs to the storage, not to this transfer, which may be deleted
    // right after it finishes.
    const QString uploadId = std::exchange(m_uploadId, {});
    if (!m_storage)
        return;
    QPointer<QS3RemoteStorage> storage = m_storage;
    const QUrl url = urlFor({{"uploadId", uploadId.toUtf8()}});
    const QString key = m_key;
    storage->d->withCredentials(
        storage,
        [storage, url, key](const QS3Credentials &credentials, const QAttachmentError &error) {
            if (!storage || error.isError())
                return;
            QNetworkRequest request(url);
            storage->d->signer(credentials).sign(request, "DELETE", QS3Signer::unsignedPayload());
            QHttpTransfer::Request r;
            r.request = request;
            r.method = "DELETE";
            r.notFoundIsSuccess = true;
            r.transferTimeoutMs = storage->d->transferTimeout;
            auto *http
                = new QHttpTransfer(QAttachmentTransfer::Delete, storage->d->manager(), storage);
            QObject::connect(http, &QAttachmentTransfer::finished, http, [http, key] {
                if (http->error().isError())
                    qCWarning(lcS3)
                        << "aborting the multipart upload of" << key << "failed:" << http->error();
                http->deleteLater();
            });
            http->start(r);
        });
}
