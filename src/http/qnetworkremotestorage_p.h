#ifndef QNETWORKREMOTESTORAGE_P_H
#define QNETWORKREMOTESTORAGE_P_H

#include "qhttptransfer_p.h"
#include "qnetworkremotestorage.h"

#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qvariant.h>
#include <QtNetwork/qnetworkaccessmanager.h>

#include <functional>

class QNetworkRequest;

// The QNetworkAccessManager the transfers of a storage use: it sends nothing
// itself but hands every request to one of several managers, so that more
// than Qt's six HTTP/1.1 connections per host carry requests at once.
//
// The first manager is the source (the app's, or the storage's own); the
// others are created here and kept configured like it before every request
// they take: proxy (an app proxy factory is asked through them), cookie jar
// (shared), redirect policy, transfer timeout, Strict-Transport-Security, and
// their authentication, TLS and finished signals are re-emitted by the
// source, so that the app's handlers see every reply. A source that is a
// subclass of QNetworkAccessManager or has a cache takes every request itself
// (its overrides and cache cannot be copied).
//
// A request that may use HTTP/2 to an origin (scheme, host, port) that has
// answered over HTTP/2 goes to the source: one connection multiplexes them.
// Otherwise the manager with the fewest requests in flight takes it.
//
// QHttpExchange sends through route() and track(); a request sent to the
// pool itself is forwarded the same way (its reply then names the pool as
// its manager).
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QNetworkManagerPool : public QNetworkAccessManager
{
    Q_OBJECT

public:
    using Source = std::function<QNetworkAccessManager *()>;
    explicit QNetworkManagerPool(Source source, QObject *parent = nullptr);
    ~QNetworkManagerPool() override;

    // HTTP/1.1 connections per host wanted; rounded up to managers of six.
    void setConnectionsPerHost(int connections);
    // Managers requests are spread over (1: the source alone).
    int managerCount() const { return m_managerCount; }
    // Whether the source's configuration can be copied to other managers.
    static bool canSpread(const QNetworkAccessManager *source);
    // Whether any response came over HTTP/2.
    bool http2Seen() const { return m_http2Seen; }
    // Whether a response from the origin (scheme, host, port) of `url` came over HTTP/2.
    bool http2Known(const QUrl &url) const { return m_http2Origins.contains(originOf(url)); }
    // The manager whose configuration every manager of the pool follows.
    QNetworkAccessManager *sourceManager() const { return m_source ? m_source() : nullptr; }

    // The manager that takes `request`; send it there (so that the reply is
    // that manager's), then hand the reply to track() with `slot`.
    QNetworkAccessManager *route(const QNetworkRequest &request, int *slot);
    void track(QNetworkReply *reply, int slot);

Q_SIGNALS:
    // The first response over HTTP/2.
    void http2Used();

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *outgoingData) override;

private:
    QNetworkAccessManager *pick(QNetworkAccessManager *source, const QNetworkRequest &request,
                                int *index);
    void resetExtras(QNetworkAccessManager *source);
    void retire(QNetworkAccessManager *extra);
    void configure(QNetworkAccessManager *extra, QNetworkAccessManager *source);
    static QString originOf(const QUrl &url);

    Source m_source;
    QPointer<QNetworkAccessManager> m_current; // the source the extras copy
    QList<QNetworkAccessManager *> m_extras; // owned
    QList<int> m_inFlight; // per manager: the source, then the extras
    quint64 m_generation = 0;
    int m_managerCount = 1;
    QSet<QString> m_http2Origins;
    bool m_http2Seen = false;
};

class QNetworkRemoteStoragePrivate
{
public:
    static QNetworkRemoteStoragePrivate *get(QNetworkRemoteStorage *storage)
    {
        return storage->d_network.get();
    }

    // The app's manager, or the storage's own.
    QNetworkAccessManager *manager() const;
    // What the transfers send through.
    QNetworkManagerPool *pool() const;

    // A transfer on this storage's manager whose exchanges stall out after
    // transferTimeout; `prepareTimeout` bounds the app's part (0: none).
    QHttpTransfer *newTransfer(QAttachmentTransfer::Kind kind, bool prepareTimeout) const;
    // A transfer that fails with `error`, asynchronously.
    QHttpTransfer *failedTransfer(QAttachmentTransfer::Kind kind,
                                  const QAttachmentError &error) const;

    // The headers policy: app-given headers (name → value, converted to a
    // string) go on the request as UTF-8; the exchange refuses to send a
    // request whose headers hold control characters.
    static void applyHeaders(QNetworkRequest &request, const QVariantMap &headers);

    int computeSuggestedConcurrency() const;
    void updateSuggestedConcurrency();

    QNetworkRemoteStorage *q = nullptr;
    int transferTimeout = 60000;
    bool http2PriorKnowledge = false;
    int maxConnectionsPerHost = QNetworkRemoteStorage::DefaultMaxConnectionsPerHost;
    int maxHttp2Streams = QNetworkRemoteStorage::DefaultMaxHttp2Streams;
    qint64 http2DownloadPartSize = QNetworkRemoteStorage::DefaultHttp2DownloadPartSize;
    int suggestedConcurrency = 0;
    qint64 streamingUploadThreshold = QHttpTransfer::DefaultStreamThreshold;
    bool streamingDownloads = true;
    QPointer<QNetworkAccessManager> externalManager;
    mutable QNetworkAccessManager *ownManager = nullptr;
    mutable QPointer<QNetworkManagerPool> managerPool;
};

#endif // QNETWORKREMOTESTORAGE_P_H
