#ifndef QNETWORKREMOTESTORAGE_H
#define QNETWORKREMOTESTORAGE_H

#include "qattachmentremotestorage.h"

#include <memory>

class QNetworkAccessManager;
class QNetworkRemoteStoragePrivate;

// What the storages that speak HTTP share (QHttpRemoteStorage,
// QPresignedRemoteStorage, QS3RemoteStorage): the QNetworkAccessManager their
// requests go through, and how long a request may go without progress.
class POWERSYNC_ATTACHMENTS_EXPORT QNetworkRemoteStorage : public QAttachmentRemoteStorage
{
    Q_OBJECT
    Q_PROPERTY(int transferTimeout READ transferTimeout WRITE setTransferTimeout NOTIFY
                   transferTimeoutChanged)
    Q_PROPERTY(bool http2PriorKnowledge READ http2PriorKnowledge WRITE setHttp2PriorKnowledge NOTIFY
                   http2PriorKnowledgeChanged)
    Q_PROPERTY(qint64 streamingUploadThreshold READ streamingUploadThreshold WRITE
                   setStreamingUploadThreshold NOTIFY streamingUploadThresholdChanged)

public:
    ~QNetworkRemoteStorage() override;

    // Milliseconds without any progress after which a request fails with
    // QAttachmentError::Timeout; default 60000, 0 (or less) disables. It also
    // bounds how long the app may take to hand over a token, credentials or a
    // presigned request.
    int transferTimeout() const;
    void setTransferTimeout(int msecs);

    // Not owned; by default the storage uses one of its own. Requests already
    // running keep the manager they started on.
    QNetworkAccessManager *networkAccessManager() const;
    void setNetworkAccessManager(QNetworkAccessManager *manager);

    // Uploads and deletes to http:// URLs speak HTTP/2 at once, without
    // asking (cleartext HTTP/2 with prior knowledge), for servers known to
    // support it; default false. Downloads and uploads of more than 1 MiB
    // keep using HTTP/1.1 (Qt 6.4 would hold them in memory over HTTP/2), and
    // https:// URLs negotiate HTTP/2 with the server either way.
    bool http2PriorKnowledge() const;
    void setHttp2PriorKnowledge(bool enabled);

    // Uploads of at least this many bytes (default 8 MiB) are sent over
    // HTTP/1.1 on a socket of the storage's thread rather than through the
    // QNetworkAccessManager, which is several times faster for large files.
    // Requests that need the manager (a proxy, cookies, ...) still go through
    // it. A negative value sends every upload through the manager.
    qint64 streamingUploadThreshold() const;
    void setStreamingUploadThreshold(qint64 bytes);

Q_SIGNALS:
    void transferTimeoutChanged();
    void http2PriorKnowledgeChanged();
    void streamingUploadThresholdChanged();

protected:
    explicit QNetworkRemoteStorage(QObject *parent = nullptr);

private:
    friend class QNetworkRemoteStoragePrivate;
    std::unique_ptr<QNetworkRemoteStoragePrivate> d_network;
};

#endif // QNETWORKREMOTESTORAGE_H
