#ifndef QS3REMOTESTORAGE_P_H
#define QS3REMOTESTORAGE_P_H

#include "qhttptransfer_p.h"
#include "qs3errors_p.h"
#include "qs3remotestorage.h"
#include "qs3signer_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>

#include <optional>

class QBuffer;
class QFile;

class QS3RemoteStoragePrivate
{
public:
    explicit QS3RemoteStoragePrivate(QS3RemoteStorage *q)
        : q(q)
    { }

    // Hands `done` credentials: the static ones, the provider's cached ones, or
    // fresh ones from the provider. `done` is dropped if `context` dies first.
    void withCredentials(QObject *context, const QS3RemoteStorage::CredentialsCallback &done);
    QS3Credentials currentCredentials() const;
    QS3Signer signer(const QS3Credentials &credentials) const;
    QNetworkAccessManager *manager();
    QUrl baseUrl() const;

    QS3RemoteStorage *q;
    QUrl endpoint;
    QString region = QStringLiteral("us-east-1");
    QString bucket;
    QString keyPrefix;
    std::optional<bool> pathStyle;
    QS3Credentials staticCredentials;
    QS3RemoteStorage::CredentialsProvider provider;
    QS3Credentials providedCredentials;
    bool fetchingCredentials = false;
    quint64 providerGeneration = 0;
    QList<std::pair<QPointer<QObject>, QS3RemoteStorage::CredentialsCallback>> waiting;
    // A provider that does not answer within transferTimeout fails the waiting requests.
    QTimer credentialsTimer;
    void answerWaiting(const QS3Credentials &credentials, const QAttachmentError &error);
    qint64 multipartThreshold = 64 * 1024 * 1024;
    qint64 partSize = 16 * 1024 * 1024;
    int maxParallelParts = 4;
    int transferTimeout = 60000;
    QPointer<QNetworkAccessManager> manager_;
    QNetworkAccessManager *ownManager = nullptr;
    QList<QPointer<QAttachmentTransfer>> live;
};

// One upload, download or delete against S3, made of one or more HTTP
// exchanges (several for a multipart upload).
class QS3Transfer : public QAttachmentTransfer
{
    Q_OBJECT

public:
    QS3Transfer(Kind kind, QS3RemoteStorage *storage, const QString &key,
                QObject *parent = nullptr);
    ~QS3Transfer() override;

    void startUpload(QIODevice *source, const QString &contentType);
    void startDownload(QIODevice *sink);
    void startRemove();

protected:
    void abortTransfer() override;

private:
    struct Exchange
    {
        Kind kind = Download;
        QByteArray method;
        QList<QS3Signer::Pair> query; // decoded
        QIODevice *body = nullptr;
        qint64 bodyOffset = 0;
        qint64 bodySize = -1;
        QIODevice *sink = nullptr;
        qint64 resumeFrom = 0;
        bool notFoundIsSuccess = false;
        QByteArray contentType;
        int attemptsLeft = 0; // extra tries for retryable failures (multipart parts)
    };
    using Done = std::function<void(QHttpTransfer *)>;

    void run(const Exchange &exchange, Done done, bool refreshedCredentials = false);
    QUrl urlFor(const QList<QS3Signer::Pair> &query) const;
    void fail(const QAttachmentError &error);
    void stopExchanges();

    // Multipart upload.
    void startMultipart();
    void startNextParts();
    void partDone(int index, QHttpTransfer *exchange);
    void completeMultipart();
    void abortMultipart();
    void reportPartProgress();

    QPointer<QS3RemoteStorage> m_storage;
    QString m_key;
    QSet<QHttpTransfer *> m_exchanges;
    QHash<QHttpTransfer *, qint64> m_exchangeSent; // upload bytes sent so far, per exchange

    QIODevice *m_source = nullptr;
    QString m_sourcePath; // the source's file, to read parts through files of their own
    QByteArray m_contentType;
    qint64 m_size = -1;

    struct Part
    {
        qint64 offset = 0;
        qint64 size = 0;
        QByteArray etag;
        QFile *file = nullptr;
        qint64 sent = 0;
        bool running = false;
        bool done = false;
    };
    QString m_uploadId;
    QList<Part> m_parts;
    int m_nextPart = 0;
    QBuffer *m_completeBody = nullptr;
};

#endif // QS3REMOTESTORAGE_P_H
