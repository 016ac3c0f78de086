#include "qs3remotestorage.h"
#include "qs3remotestorage_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qnetworkremotestorage_p.h"
#include "qs3errors_p.h"
#include "qs3multipartupload_p.h"

#include <QtCore/qfile.h>

#include <algorithm>

namespace {

// Ask for new temporary credentials this long before they run out, so that a
// request signed now does not arrive with expired ones.
constexpr int CredentialsMarginSeconds = 120;

} // namespace

// --- credentials -----------------------------------------------------------

QS3Credentials QS3RemoteStoragePrivate::currentCredentials() const
{
    return provider ? providedCredentials.value() : staticCredentials;
}

void QS3RemoteStoragePrivate::withCredentials(const QS3RemoteStorage::CredentialsCallback &done)
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
    const QS3Credentials cached = providedCredentials.value();
    if (cached.isValid() && !cached.isExpired(CredentialsMarginSeconds)) {
        done(cached, {});
        return;
    }
    if (!providedCredentials.isFetching())
        qCDebug(lcS3) << "requesting credentials from the provider";
    providedCredentials.setTimeout(
        q->transferTimeout(),
        QStringLiteral("no answer from the credentials provider within %1 ms"));
    const QS3RemoteStorage::CredentialsProvider ask = provider;
    providedCredentials.wait(
        nullptr, done, [ask](QNetworkCredential<QS3Credentials>::Answer answer) {
            ask([answer](const QS3Credentials &credentials, const QAttachmentError &error) {
                if (!error.isError() && !credentials.isValid()) {
                    answer({},
                           QAttachmentError(QAttachmentError::Unauthorized,
                                            QStringLiteral("the credentials provider returned "
                                                           "no access key id or secret")));
                    return;
                }
                answer(credentials, error);
            });
        });
}

QS3Signer QS3RemoteStoragePrivate::signer(const QS3Credentials &credentials) const
{
    return QS3Signer(credentials.accessKeyId().toUtf8(), credentials.secretAccessKey().toUtf8(),
                     region.toUtf8(), "s3", credentials.sessionToken().toUtf8());
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

QUrl QS3RemoteStoragePrivate::urlFor(const QString &key, const QList<QS3Signer::Pair> &query) const
{
    QUrl url = q->objectUrl(key);
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

// --- requests --------------------------------------------------------------

QHttpTransfer *QS3RemoteStoragePrivate::transfer(const QS3Request &s3, QObject *parent)
{
    // The provider's own wait is bounded by transferTimeout (see withCredentials).
    QHttpTransfer *http = QNetworkRemoteStoragePrivate::get(q)->newTransfer(s3.kind, false);
    http->setParent(parent);
    const QString what = QStringLiteral("\"%1\" in bucket \"%2\"").arg(s3.key, bucket);
    const QUrl url = q->objectUrl(s3.key);
    http->setErrorParser([what, url](int status, const QByteArray &body) {
        return qS3Error(status, body, what, url);
    });
    // Temporary credentials may have been revoked or expired early: ask once for new ones.
    http->setRetryOnUnauthorized(bool(provider));
    http->setDevice(s3.body ? s3.body : s3.sink);
    QPointer<QS3RemoteStorage> storage(q);
    // The credentials the last attempt was signed with.
    auto used = std::make_shared<QS3Credentials>();
    http->setPrepare([storage, s3, used](bool afterUnauthorized, QHttpTransfer::Ready ready) {
        if (!storage) {
            ready({},
                  QAttachmentError(QAttachmentError::Cancelled,
                                   QStringLiteral("the S3 storage is gone")));
            return;
        }
        QS3RemoteStoragePrivate *d = storage->d.get();
        if (afterUnauthorized && d->provider && d->providedCredentials.value() == *used)
            d->providedCredentials.clear();
        d->withCredentials([storage, s3, used, ready](const QS3Credentials &credentials,
                                                      const QAttachmentError &error) {
            if (error.isError() || !storage) {
                ready({},
                      error.isError() ? error
                                      : QAttachmentError(QAttachmentError::Cancelled,
                                                         QStringLiteral("the S3 storage is gone")));
                return;
            }
            *used = credentials;
            QS3RemoteStoragePrivate *d = storage->d.get();
            QNetworkRequest request(d->urlFor(s3.key, s3.query));
            if (!s3.contentType.isEmpty())
                request.setHeader(QNetworkRequest::ContentTypeHeader, s3.contentType);
            d->signer(credentials).sign(request, s3.method, QS3Signer::unsignedPayload());
            if (s3.body && !s3.body->isSequential() && !s3.body->seek(s3.bodyOffset)) {
                ready({},
                      QAttachmentError(QAttachmentError::LocalStorageError,
                                       QStringLiteral("cannot read the file to upload")));
                return;
            }
            QHttpTransfer::Request r;
            r.request = request;
            r.method = s3.method;
            r.body = s3.body;
            r.bodySize = s3.bodySize;
            r.sink = s3.sink;
            // What the sink holds is the object's (see QHttpTransfer): a
            // retry resumes after it.
            r.resumeFrom = s3.sink ? s3.sink->pos() : 0;
            r.notFoundIsSuccess = s3.notFoundIsSuccess;
            r.transferTimeoutMs = storage->transferTimeout();
            ready(r, {});
        });
    });
    http->start();
    return http;
}

void QS3RemoteStoragePrivate::track(QAttachmentTransfer *transfer)
{
    live.removeIf([](const QPointer<QAttachmentTransfer> &t) { return !t || t->isFinished(); });
    live.append(transfer);
}

// --- storage ---------------------------------------------------------------

QS3RemoteStorage::QS3RemoteStorage(QObject *parent)
    : QNetworkRemoteStorage(parent)
    , d(std::make_unique<QS3RemoteStoragePrivate>(this))
{ }

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
    d->providedCredentials.clear();
    // Answers to an earlier provider are dropped; requests waiting for it ask
    // the new one (or use the static credentials).
    const auto waiting = d->providedCredentials.abandon();
    for (const auto &waiter : waiting) {
        if (!waiter.guarded || waiter.context)
            d->withCredentials(waiter.answer);
    }
    Q_EMIT configurationChanged();
}

void QS3RemoteStorage::invalidateCredentials()
{
    d->providedCredentials.clear();
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

#undef PSA_S3_SETTER

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
    QNetworkRemoteStoragePrivate *network = QNetworkRemoteStoragePrivate::get(this);
    const QString key = objectKey(attachment);
    const QByteArray contentType = attachment.mediaType().isEmpty()
        ? QByteArrayLiteral("application/octet-stream")
        : attachment.mediaType().toUtf8();
    const QString mediaTypeProblem
        = QAttachmentNames::problemWithMediaType(QString::fromUtf8(contentType));
    if (!mediaTypeProblem.isEmpty()) {
        return network->failedTransfer(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::InvalidInput,
                             QStringLiteral("\"%1\": %2").arg(key, mediaTypeProblem)));
    }
    if (!source || !source->isReadable()) {
        return network->failedTransfer(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::LocalStorageError,
                             QStringLiteral("the file to upload is not open for reading")));
    }
    const qint64 size = source->isSequential() ? -1 : source->size() - source->pos();
    // An empty file has no part to send: S3 cannot complete such an upload.
    if (size > 0 && size > d->multipartThreshold) {
        auto *multipart = new QS3MultipartUpload(this, key, source, size, contentType);
        d->track(multipart);
        multipart->start();
        return multipart;
    }
    QS3Request put;
    put.kind = QAttachmentTransfer::Upload;
    put.method = "PUT";
    put.key = key;
    put.body = source;
    put.bodyOffset = source->isSequential() ? 0 : source->pos();
    put.bodySize = size;
    put.contentType = contentType;
    QHttpTransfer *transfer = d->transfer(put);
    d->track(transfer);
    return transfer;
}

QAttachmentTransfer *QS3RemoteStorage::download(const QAttachment &attachment, QIODevice *sink)
{
    if (!sink || !sink->isWritable()) {
        return QNetworkRemoteStoragePrivate::get(this)->failedTransfer(
            QAttachmentTransfer::Download,
            QAttachmentError(QAttachmentError::LocalStorageError,
                             QStringLiteral("the download target is not open for writing")));
    }
    QS3Request get;
    get.kind = QAttachmentTransfer::Download;
    get.method = "GET";
    get.key = objectKey(attachment);
    get.sink = sink;
    QHttpTransfer *transfer = d->transfer(get);
    d->track(transfer);
    return transfer;
}

QAttachmentTransfer *QS3RemoteStorage::remove(const QAttachment &attachment)
{
    QS3Request del;
    del.kind = QAttachmentTransfer::Delete;
    del.method = "DELETE";
    del.key = objectKey(attachment);
    del.notFoundIsSuccess = true;
    QHttpTransfer *transfer = d->transfer(del);
    d->track(transfer);
    return transfer;
}
