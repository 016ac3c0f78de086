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
    Q_PROPERTY(int maxConnectionsPerHost READ maxConnectionsPerHost WRITE setMaxConnectionsPerHost
                   NOTIFY maxConnectionsPerHostChanged)
    Q_PROPERTY(int maxHttp2Streams READ maxHttp2Streams WRITE setMaxHttp2Streams NOTIFY
                   maxHttp2StreamsChanged)
    Q_PROPERTY(int suggestedConcurrentTransfers READ suggestedConcurrentTransfers NOTIFY
                   suggestedConcurrentTransfersChanged)
    Q_PROPERTY(qint64 streamingUploadThreshold READ streamingUploadThreshold WRITE
                   setStreamingUploadThreshold NOTIFY streamingUploadThresholdChanged)
    Q_PROPERTY(qint64 http2DownloadPartSize READ http2DownloadPartSize WRITE
                   setHttp2DownloadPartSize NOTIFY http2DownloadPartSizeChanged)
    Q_PROPERTY(bool streamingDownloads READ streamingDownloads WRITE setStreamingDownloads NOTIFY
                   streamingDownloadsChanged)

public:
    static constexpr int DefaultMaxConnectionsPerHost = 36;
    static constexpr int DefaultMaxHttp2Streams = 32;
    static constexpr qint64 DefaultHttp2DownloadPartSize = 4 * 1024 * 1024;

    ~QNetworkRemoteStorage() override;

    // Milliseconds without any progress after which a request fails with
    // QAttachmentError::Timeout; default 60000, 0 (or less) disables. It also
    // bounds how long the app may take to hand over a token, credentials or a
    // presigned request.
    int transferTimeout() const;
    void setTransferTimeout(int msecs);

    // Not owned; by default the storage uses one of its own. Requests already
    // running keep the manager they started on. Beyond six HTTP/1.1
    // connections per host (maxConnectionsPerHost) the storage adds managers
    // of its own configured like this one (proxy, cookie jar, redirect policy,
    // transfer timeout, Strict-Transport-Security; their authentication, TLS
    // and finished signals are emitted by this one); a subclass of
    // QNetworkAccessManager, or a manager with a cache, takes every request.
    QNetworkAccessManager *networkAccessManager() const;
    void setNetworkAccessManager(QNetworkAccessManager *manager);

    // Requests to http:// URLs speak HTTP/2 at once, without asking
    // (cleartext HTTP/2 with prior knowledge), for servers known to support
    // it; default false. Uploads of streamingUploadThreshold bytes or more
    // then go over HTTP/2 on a connection of their own that the storage
    // writes (Qt 6.4's manager would read them into memory), the smaller
    // ones through the manager. https:// URLs negotiate HTTP/2 with the
    // server either way.
    bool http2PriorKnowledge() const;
    void setHttp2PriorKnowledge(bool enabled);

    // HTTP/1.1 connections per host the storage's requests may use at once;
    // default 36, at least 1. Qt opens at most six per QNetworkAccessManager,
    // so the storage spreads requests over ceil(n / 6) managers. Requests
    // that may use HTTP/2 to a server that answered over HTTP/2 stay on one
    // manager: one connection carries them all.
    int maxConnectionsPerHost() const;
    void setMaxConnectionsPerHost(int connections);

    // Transfers the queue keeps in flight once a response came over HTTP/2
    // (streams on one connection); default 32, at least 1.
    int maxHttp2Streams() const;
    void setMaxHttp2Streams(int streams);

    // How many transfers in flight this storage carries well: the HTTP/1.1
    // connections it opens per host, or maxHttp2Streams once a response came
    // over HTTP/2 (the larger of the two). A queue keeps this many in flight
    // when its maxConcurrentTransfers is lower.
    int suggestedConcurrentTransfers() const;

    // Uploads of at least this many bytes (default 8 MiB) are sent over
    // HTTP/1.1 (HTTP/2 with http2PriorKnowledge on http:// URLs) on a socket
    // of the storage's thread rather than through the
    // QNetworkAccessManager, which is several times faster for large files.
    // Requests that need the manager (a proxy, cookies, ...) still go through
    // it. A negative value sends every upload through the manager.
    qint64 streamingUploadThreshold() const;
    void setStreamingUploadThreshold(qint64 bytes);

    // Over HTTP/2, a download with more than this many bytes left (default
    // 4 MiB) comes as a series of Range requests of this size, a few asked
    // for ahead, when the server serves ranges of a version it names: Qt 6.4
    // would otherwise hold whatever the server sends faster than the file
    // is written. 0 (or less) fetches every download in one answer.
    qint64 http2DownloadPartSize() const;
    void setHttp2DownloadPartSize(qint64 bytes);

    // Downloads from http:// URLs (without HTTP/2 prior knowledge) are read
    // over HTTP/1.1 on a socket of the storage's thread (default true): Qt
    // 6.4 reads such an answer's headers one byte per system call. Resumed
    // downloads, redirects and requests that need the manager (a proxy,
    // cookies, ...) still go through it. false: every download through the
    // QNetworkAccessManager.
    bool streamingDownloads() const;
    void setStreamingDownloads(bool enabled);

Q_SIGNALS:
    void transferTimeoutChanged();
    void http2PriorKnowledgeChanged();
    void maxConnectionsPerHostChanged();
    void maxHttp2StreamsChanged();
    void suggestedConcurrentTransfersChanged();
    void streamingUploadThresholdChanged();
    void http2DownloadPartSizeChanged();
    void streamingDownloadsChanged();

protected:
    explicit QNetworkRemoteStorage(QObject *parent = nullptr);

private:
    friend class QNetworkRemoteStoragePrivate;
    std::unique_ptr<QNetworkRemoteStoragePrivate> d_network;
};

#endif // QNETWORKREMOTESTORAGE_H
