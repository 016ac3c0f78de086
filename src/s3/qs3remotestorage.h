#ifndef QS3REMOTESTORAGE_H
#define QS3REMOTESTORAGE_H

#include "qnetworkremotestorage.h"
#include "qs3credentials.h"

#include <QtCore/qurl.h>

#include <functional>
#include <memory>

class QS3RemoteStoragePrivate;

// Remote storage in an S3-compatible object store (AWS S3, MinIO, Cloudflare
// R2, Supabase Storage, Google Cloud Storage with HMAC keys, ...), signed with
// AWS Signature Version 4.
//
// Each attachment is the object `keyPrefix + filename` in `bucket`. Uploads
// stream the file: a single PUT up to `multipartThreshold`, above it a
// multipart upload whose parts are sent several at a time. Downloads stream
// into the local file and resume with a Range request. Payloads are sent
// unsigned (x-amz-content-sha256: UNSIGNED-PAYLOAD), so nothing is read twice.
//
// S3 error responses become QAttachmentError: SlowDown and 503 are
// RateLimited (retried), AccessDenied, SignatureDoesNotMatch,
// InvalidAccessKeyId and expired tokens are Unauthorized (not retried blindly),
// NoSuchKey is NotFound.
class POWERSYNC_ATTACHMENTS_EXPORT QS3RemoteStorage : public QNetworkRemoteStorage
{
    Q_OBJECT
    Q_PROPERTY(QUrl endpoint READ endpoint WRITE setEndpoint NOTIFY endpointChanged FINAL)
    Q_PROPERTY(QString region READ region WRITE setRegion NOTIFY regionChanged FINAL)
    Q_PROPERTY(QString bucket READ bucket WRITE setBucket NOTIFY bucketChanged FINAL)
    Q_PROPERTY(QString keyPrefix READ keyPrefix WRITE setKeyPrefix NOTIFY keyPrefixChanged FINAL)
    Q_PROPERTY(bool pathStyle READ pathStyle WRITE setPathStyle RESET resetPathStyle NOTIFY
                   pathStyleChanged FINAL)
    Q_PROPERTY(
        QString accessKeyId READ accessKeyId WRITE setAccessKeyId NOTIFY accessKeyIdChanged FINAL)
    Q_PROPERTY(QString secretAccessKey READ secretAccessKey WRITE setSecretAccessKey NOTIFY
                   secretAccessKeyChanged FINAL)
    Q_PROPERTY(QString sessionToken READ sessionToken WRITE setSessionToken NOTIFY
                   sessionTokenChanged FINAL)
    Q_PROPERTY(qint64 multipartThreshold READ multipartThreshold WRITE setMultipartThreshold NOTIFY
                   multipartThresholdChanged FINAL)
    Q_PROPERTY(qint64 partSize READ partSize WRITE setPartSize NOTIFY partSizeChanged FINAL)
    Q_PROPERTY(int maxParallelParts READ maxParallelParts WRITE setMaxParallelParts NOTIFY
                   maxParallelPartsChanged FINAL)

public:
    // Called by the storage when it needs credentials: first use, shortly
    // before the current ones expire, and after the server rejected them.
    // Call `done` once, now or later (from the storage's thread), with new
    // credentials or with the error that prevented getting them.
    using CredentialsCallback
        = std::function<void(const QS3Credentials &credentials, const QAttachmentError &error)>;
    using CredentialsProvider = std::function<void(CredentialsCallback done)>;

    explicit QS3RemoteStorage(QObject *parent = nullptr);
    ~QS3RemoteStorage() override;

    // Base URL of the service, e.g. http://127.0.0.1:9000 for MinIO or
    // https://<account>.r2.cloudflarestorage.com; may contain a path (Supabase:
    // https://<project>.supabase.co/storage/v1/s3). Empty: AWS S3 in `region`.
    QUrl endpoint() const;
    void setEndpoint(const QUrl &endpoint);
    // Signing region (default us-east-1; R2 uses "auto").
    QString region() const;
    void setRegion(const QString &region);
    QString bucket() const;
    void setBucket(const QString &bucket);
    // Prepended to each attachment's filename, e.g. "attachments/".
    QString keyPrefix() const;
    void setKeyPrefix(const QString &prefix);
    // Bucket in the path (https://host/bucket/key) instead of the host name
    // (https://bucket.host/key). Defaults to true with a custom endpoint and to
    // false for AWS.
    bool pathStyle() const;
    void setPathStyle(bool pathStyle);
    void resetPathStyle();

    // Static credentials, used while no credentials provider is set.
    QString accessKeyId() const;
    void setAccessKeyId(const QString &id);
    QString secretAccessKey() const;
    void setSecretAccessKey(const QString &secret);
    QString sessionToken() const;
    void setSessionToken(const QString &token);
    void setCredentials(const QS3Credentials &credentials);
    // Refreshable credentials; replaces the static ones. Null to go back.
    void setCredentialsProvider(CredentialsProvider provider);
    // Forgets credentials obtained from the provider; the next request asks again.
    void invalidateCredentials();

    // Files larger than this are uploaded in parts (default 64 MiB).
    qint64 multipartThreshold() const;
    void setMultipartThreshold(qint64 bytes);
    // Size of each part (default 16 MiB; S3 needs at least 5 MiB and at most
    // 10,000 parts, so it is raised where needed).
    qint64 partSize() const;
    void setPartSize(qint64 bytes);
    // Parts of one upload in flight at once (default 4).
    int maxParallelParts() const;
    void setMaxParallelParts(int count);
    // The object key of an attachment: keyPrefix + filename.
    QString objectKey(const QAttachment &attachment) const;
    // The URL of the object `key` (unsigned).
    QUrl objectUrl(const QString &key) const;
    // A URL that allows `method` (GET, PUT, DELETE, HEAD) on the object `key`
    // without credentials for `expiresSeconds` (at most 7 days), signed with
    // the static credentials or the provider's current ones. Empty when no
    // credentials are at hand.
    QUrl presignedUrl(const QString &key, const QByteArray &method, int expiresSeconds) const;

    QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override;
    QAttachmentTransfer *remove(const QAttachment &attachment) override;

Q_SIGNALS:
    void endpointChanged();
    void regionChanged();
    void bucketChanged();
    void keyPrefixChanged();
    void pathStyleChanged();
    void accessKeyIdChanged();
    void secretAccessKeyChanged();
    void sessionTokenChanged();
    void multipartThresholdChanged();
    void partSizeChanged();
    void maxParallelPartsChanged();

private:
    friend class QS3RemoteStoragePrivate;
    std::unique_ptr<QS3RemoteStoragePrivate> d;
};

#endif // QS3REMOTESTORAGE_H
