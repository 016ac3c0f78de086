#ifndef QS3REMOTESTORAGE_P_H
#define QS3REMOTESTORAGE_P_H

#include "qhttptransfer_p.h"
#include "qnetworkcredential_p.h"
#include "qs3errors_p.h"
#include "qs3remotestorage.h"
#include "qs3signer_p.h"

#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>

#include <optional>

// One S3 request: the object, the sub-resource (query) and what goes with it.
struct QS3Request
{
    QAttachmentTransfer::Kind kind = QAttachmentTransfer::Download;
    QByteArray method;
    QString key;
    QList<QS3Signer::Pair> query; // decoded
    QIODevice *body = nullptr;
    qint64 bodyOffset = 0;
    qint64 bodySize = -1;
    QIODevice *sink = nullptr;
    bool notFoundIsSuccess = false;
    QByteArray contentType;
};

class QS3RemoteStoragePrivate
{
public:
    explicit QS3RemoteStoragePrivate(QS3RemoteStorage *q)
        : q(q)
    { }

    static QS3RemoteStoragePrivate *get(QS3RemoteStorage *storage) { return storage->d.get(); }

    // Hands `done` credentials: the static ones, the provider's cached ones, or
    // fresh ones from the provider.
    void withCredentials(const QS3RemoteStorage::CredentialsCallback &done);
    QS3Credentials currentCredentials() const;
    QS3Signer signer(const QS3Credentials &credentials) const;
    QUrl baseUrl() const;
    QUrl urlFor(const QString &key, const QList<QS3Signer::Pair> &query) const;

    // A transfer that signs `request` with the current credentials and, with
    // a credentials provider, signs and sends it once more with fresh ones
    // after a 401/403. Started: finished() follows.
    QHttpTransfer *transfer(const QS3Request &request, QObject *parent = nullptr);
    // Keeps `transfer` to abort it when the storage goes.
    void track(QAttachmentTransfer *transfer);

    QS3RemoteStorage *q;
    QUrl endpoint;
    QString region = QStringLiteral("us-east-1");
    QString bucket;
    QString keyPrefix;
    std::optional<bool> pathStyle;
    QS3Credentials staticCredentials;
    QS3RemoteStorage::CredentialsProvider provider;
    // The provider's credentials; a provider that does not answer within
    // transferTimeout fails the waiting requests.
    QNetworkCredential<QS3Credentials> providedCredentials;
    qint64 multipartThreshold = 64 * 1024 * 1024;
    qint64 partSize = 16 * 1024 * 1024;
    int maxParallelParts = 4;
    QList<QPointer<QAttachmentTransfer>> live;
};

#endif // QS3REMOTESTORAGE_P_H
