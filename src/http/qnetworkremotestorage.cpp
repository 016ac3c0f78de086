#include "qnetworkremotestorage.h"
#include "qnetworkremotestorage_p.h"

#include "qattachmentlogging_p.h"

#include <QtNetwork/qabstractnetworkcache.h>
#include <QtNetwork/qauthenticator.h>
#include <QtNetwork/qhstspolicy.h>
#include <QtNetwork/qnetworkcookie.h>
#include <QtNetwork/qnetworkcookiejar.h>
#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtNetwork/qsslerror.h>
#include <QtNetwork/qsslpresharedkeyauthenticator.h>

#include <memory>
#include <typeinfo>

namespace {

constexpr int QtConnectionsPerManager = 6;

// Asks the source's proxy factory, whichever it is at the time.
class ForwardingProxyFactory : public QNetworkProxyFactory
{
public:
    explicit ForwardingProxyFactory(QNetworkAccessManager *source)
        : m_source(source)
    { }

    QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery &query) override
    {
        if (m_source && m_source->proxyFactory())
            return m_source->proxyFactory()->queryProxy(query);
        if (m_source && m_source->proxy().type() != QNetworkProxy::DefaultProxy)
            return {m_source->proxy()};
        return QNetworkProxyFactory::proxyForQuery(query);
    }

    QPointer<QNetworkAccessManager> m_source;
};

// Keeps the cookies in the source's jar, whichever it is at the time.
class ForwardingCookieJar : public QNetworkCookieJar
{
public:
    explicit ForwardingCookieJar(QNetworkAccessManager *source)
        : m_source(source)
    { }

    QList<QNetworkCookie> cookiesForUrl(const QUrl &url) const override
    {
        return m_source ? m_source->cookieJar()->cookiesForUrl(url) : QList<QNetworkCookie>();
    }
    bool setCookiesFromUrl(const QList<QNetworkCookie> &cookies, const QUrl &url) override
    {
        return m_source && m_source->cookieJar()->setCookiesFromUrl(cookies, url);
    }

private:
    QPointer<QNetworkAccessManager> m_source;
};

} // namespace

QNetworkManagerPool::QNetworkManagerPool(Source source, QObject *parent)
    : QNetworkAccessManager(parent)
    , m_source(std::move(source))
    , m_inFlight {0}
{ }

QNetworkManagerPool::~QNetworkManagerPool()
{
    // The extras (and their replies) go while this pool's members still exist.
    qDeleteAll(findChildren<QNetworkAccessManager *>(Qt::FindDirectChildrenOnly));
}

void QNetworkManagerPool::setConnectionsPerHost(int connections)
{
    const int count
        = qMax(1, (connections + QtConnectionsPerManager - 1) / QtConnectionsPerManager);
    if (count == m_managerCount)
        return;
    m_managerCount = count;
    // Requests in flight keep their manager; new ones see the new count.
    while (m_extras.size() > m_managerCount - 1) {
        m_inFlight.removeLast();
        retire(m_extras.takeLast());
    }
    // Counts of requests in flight start over (a heuristic: they only balance).
    ++m_generation;
    m_inFlight.fill(0);
}

bool QNetworkManagerPool::canSpread(const QNetworkAccessManager *source)
{
    return source && typeid(*source) == typeid(QNetworkAccessManager) && !source->cache();
}

QString QNetworkManagerPool::originOf(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const int port = url.port(scheme == QLatin1String("https") ? 443 : 80);
    return scheme + QLatin1String("://") + url.host().toLower() + QLatin1Char(':')
        + QString::number(port);
}

void QNetworkManagerPool::retire(QNetworkAccessManager *extra)
{
    // Requests in flight on it finish there; it goes once their replies are gone.
    const auto replies = extra->findChildren<QNetworkReply *>();
    if (replies.isEmpty()) {
        extra->deleteLater();
        return;
    }
    for (QNetworkReply *reply : replies) {
        connect(reply, &QObject::destroyed, extra, [extra] {
            QMetaObject::invokeMethod(
                extra,
                [extra] {
                    if (extra->findChildren<QNetworkReply *>().isEmpty())
                        extra->deleteLater();
                },
                Qt::QueuedConnection);
        });
    }
}

void QNetworkManagerPool::resetExtras(QNetworkAccessManager *source)
{
    for (QNetworkAccessManager *extra : std::as_const(m_extras)) {
        disconnect(extra, nullptr, nullptr, nullptr);
        retire(extra);
    }
    m_extras.clear();
    m_inFlight = {0};
    ++m_generation;
    m_current = source;
}

void QNetworkManagerPool::configure(QNetworkAccessManager *extra, QNetworkAccessManager *source)
{
    if (source->proxyFactory()) {
        if (!dynamic_cast<ForwardingProxyFactory *>(extra->proxyFactory()))
            extra->setProxyFactory(new ForwardingProxyFactory(source));
    } else if (dynamic_cast<ForwardingProxyFactory *>(extra->proxyFactory())
               || extra->proxy() != source->proxy()) {
        extra->setProxy(source->proxy()); // drops the forwarding factory
    }
    if (extra->redirectPolicy() != source->redirectPolicy())
        extra->setRedirectPolicy(source->redirectPolicy());
    if (extra->transferTimeout() != source->transferTimeout())
        extra->setTransferTimeout(source->transferTimeout());
    if (extra->autoDeleteReplies() != source->autoDeleteReplies())
        extra->setAutoDeleteReplies(source->autoDeleteReplies());
    if (extra->isStrictTransportSecurityEnabled() != source->isStrictTransportSecurityEnabled())
        extra->setStrictTransportSecurityEnabled(source->isStrictTransportSecurityEnabled());
    if (source->isStrictTransportSecurityEnabled())
        extra->addStrictTransportSecurityHosts(source->strictTransportSecurityHosts());
}

QNetworkAccessManager *QNetworkManagerPool::pick(QNetworkAccessManager *source,
                                                 const QNetworkRequest &request, int *index)
{
    *index = 0;
    if (m_current != source)
        resetExtras(source);
    if (m_managerCount <= 1 || !canSpread(source))
        return source;
    if (request.attribute(QNetworkRequest::Http2DirectAttribute).toBool())
        return source;
    const bool http2Allowed
        = request.attribute(QNetworkRequest::Http2AllowedAttribute, true).toBool();
    if (http2Allowed && m_http2Origins.contains(originOf(request.url())))
        return source;
    // The manager with the fewest requests in flight; the source first on a tie.
    // A manager not created yet has nothing in flight.
    const auto loadOf = [this](int i) { return i < m_inFlight.size() ? m_inFlight.at(i) : 0; };
    int best = 0;
    for (int i = 1; i < m_managerCount; ++i) {
        if (loadOf(i) < loadOf(best))
            best = i;
    }
    if (best == 0)
        return source;
    while (m_extras.size() < best) {
        auto *extra = new QNetworkAccessManager(this);
        extra->setCookieJar(new ForwardingCookieJar(source));
        connect(extra, &QNetworkAccessManager::authenticationRequired, source,
                &QNetworkAccessManager::authenticationRequired);
#ifndef QT_NO_NETWORKPROXY
        connect(extra, &QNetworkAccessManager::proxyAuthenticationRequired, source,
                &QNetworkAccessManager::proxyAuthenticationRequired);
#endif
#if QT_CONFIG(ssl)
        connect(extra, &QNetworkAccessManager::encrypted, source,
                &QNetworkAccessManager::encrypted);
        connect(extra, &QNetworkAccessManager::sslErrors, source,
                &QNetworkAccessManager::sslErrors);
        connect(extra, &QNetworkAccessManager::preSharedKeyAuthenticationRequired, source,
                &QNetworkAccessManager::preSharedKeyAuthenticationRequired);
#endif
        connect(extra, &QNetworkAccessManager::finished, source, &QNetworkAccessManager::finished);
        m_extras.append(extra);
        m_inFlight.append(0);
    }
    *index = best;
    QNetworkAccessManager *extra = m_extras.at(best - 1);
    configure(extra, source);
    return extra;
}

QNetworkAccessManager *QNetworkManagerPool::route(const QNetworkRequest &request, int *slot)
{
    *slot = 0;
    QNetworkAccessManager *source = m_source ? m_source() : nullptr;
    if (!source)
        return this;
    return pick(source, request, slot);
}

void QNetworkManagerPool::track(QNetworkReply *reply, int slot)
{
    if (!reply || slot < 0 || slot >= m_inFlight.size())
        return;
    ++m_inFlight[slot];
    auto released = std::make_shared<bool>(false);
    const auto release = [this, slot, released, generation = m_generation] {
        if (std::exchange(*released, true))
            return;
        if (generation == m_generation && slot < m_inFlight.size())
            --m_inFlight[slot];
    };
    connect(reply, &QNetworkReply::finished, this, release);
    connect(reply, &QObject::destroyed, this, release);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, reply] {
        if (!reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool())
            return;
        m_http2Origins.insert(originOf(reply->url()));
        if (!std::exchange(m_http2Seen, true)) {
            qCDebug(lcHttp) << "HTTP/2 used by" << reply->url().host();
            Q_EMIT http2Used();
        }
    });
}

QNetworkReply *QNetworkManagerPool::createRequest(Operation op, const QNetworkRequest &request,
                                                  QIODevice *outgoingData)
{
    int slot = 0;
    QNetworkAccessManager *target = route(request, &slot);
    if (target == this)
        return QNetworkAccessManager::createRequest(op, request, outgoingData);
    QNetworkReply *reply = nullptr;
    switch (op) {
    case HeadOperation:
        reply = target->head(request);
        break;
    case GetOperation:
        reply = target->get(request);
        break;
    case PutOperation:
        reply = target->put(request, outgoingData);
        break;
    case PostOperation:
        reply = target->post(request, outgoingData);
        break;
    case DeleteOperation:
        reply = target->deleteResource(request);
        break;
    case CustomOperation:
        reply = target->sendCustomRequest(
            request, request.attribute(QNetworkRequest::CustomVerbAttribute).toByteArray(),
            outgoingData);
        break;
    default:
        return QNetworkAccessManager::createRequest(op, request, outgoingData);
    }
    track(reply, slot);
    return reply;
}

QNetworkAccessManager *QNetworkRemoteStoragePrivate::manager() const
{
    if (externalManager)
        return externalManager;
    if (!ownManager)
        ownManager = new QNetworkAccessManager(q);
    return ownManager;
}

QNetworkManagerPool *QNetworkRemoteStoragePrivate::pool() const
{
    // One pool per manager, owned by it: when the app's manager goes, its
    // pool and the requests on it go too (they fail as they did on it).
    QNetworkAccessManager *source = manager();
    if (!managerPool || managerPool->parent() != source) {
        managerPool = new QNetworkManagerPool(
            [guard = QPointer<QNetworkAccessManager>(source)] { return guard.data(); }, source);
        managerPool->setConnectionsPerHost(maxConnectionsPerHost);
        QObject::connect(managerPool, &QNetworkManagerPool::http2Used, q,
                         [d = const_cast<QNetworkRemoteStoragePrivate *>(this)] {
                             d->updateSuggestedConcurrency();
                         });
    }
    return managerPool;
}

int QNetworkRemoteStoragePrivate::computeSuggestedConcurrency() const
{
    int http1 = QtConnectionsPerManager;
    if (QNetworkManagerPool::canSpread(manager()))
        http1 = qMax(QtConnectionsPerManager, maxConnectionsPerHost);
    if (managerPool && managerPool->http2Seen())
        return qMax(http1, maxHttp2Streams);
    return http1;
}

void QNetworkRemoteStoragePrivate::updateSuggestedConcurrency()
{
    const int value = computeSuggestedConcurrency();
    if (value == suggestedConcurrency)
        return;
    suggestedConcurrency = value;
    Q_EMIT q->suggestedConcurrentTransfersChanged();
}

QHttpTransfer *QNetworkRemoteStoragePrivate::newTransfer(QAttachmentTransfer::Kind kind,
                                                         bool prepareTimeout) const
{
    auto *transfer = new QHttpTransfer(kind, pool());
    if (prepareTimeout)
        transfer->setPrepareTimeout(transferTimeout);
    transfer->setHttp2PriorKnowledge(http2PriorKnowledge);
    transfer->setStreamThreshold(streamingUploadThreshold);
    transfer->setStreamCleartextDownloads(streamingDownloads);
    transfer->setHttp2PartSize(http2DownloadPartSize);
    return transfer;
}

QHttpTransfer *QNetworkRemoteStoragePrivate::failedTransfer(QAttachmentTransfer::Kind kind,
                                                            const QAttachmentError &error) const
{
    auto *transfer = new QHttpTransfer(kind, pool());
    transfer->fail(error);
    return transfer;
}

void QNetworkRemoteStoragePrivate::applyHeaders(QNetworkRequest &request,
                                                const QVariantMap &headers)
{
    for (auto it = headers.cbegin(); it != headers.cend(); ++it)
        request.setRawHeader(it.key().toUtf8(), it.value().toString().toUtf8());
}

QNetworkRemoteStorage::QNetworkRemoteStorage(QObject *parent)
    : QAttachmentRemoteStorage(parent)
    , d_network(std::make_unique<QNetworkRemoteStoragePrivate>())
{
    d_network->q = this;
    d_network->suggestedConcurrency = d_network->computeSuggestedConcurrency();
}

QNetworkRemoteStorage::~QNetworkRemoteStorage() = default;

int QNetworkRemoteStorage::transferTimeout() const
{
    return d_network->transferTimeout;
}

void QNetworkRemoteStorage::setTransferTimeout(int msecs)
{
    msecs = qMax(0, msecs);
    if (d_network->transferTimeout == msecs)
        return;
    d_network->transferTimeout = msecs;
    Q_EMIT transferTimeoutChanged();
    Q_EMIT configurationChanged();
}

QNetworkAccessManager *QNetworkRemoteStorage::networkAccessManager() const
{
    return d_network->manager();
}

void QNetworkRemoteStorage::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    if (d_network->externalManager == manager)
        return;
    d_network->externalManager = manager;
    d_network->updateSuggestedConcurrency();
    Q_EMIT configurationChanged();
}

bool QNetworkRemoteStorage::http2PriorKnowledge() const
{
    return d_network->http2PriorKnowledge;
}

void QNetworkRemoteStorage::setHttp2PriorKnowledge(bool enabled)
{
    if (d_network->http2PriorKnowledge == enabled)
        return;
    d_network->http2PriorKnowledge = enabled;
    Q_EMIT http2PriorKnowledgeChanged();
    Q_EMIT configurationChanged();
}

int QNetworkRemoteStorage::maxConnectionsPerHost() const
{
    return d_network->maxConnectionsPerHost;
}

void QNetworkRemoteStorage::setMaxConnectionsPerHost(int connections)
{
    connections = qMax(1, connections);
    if (d_network->maxConnectionsPerHost == connections)
        return;
    d_network->maxConnectionsPerHost = connections;
    if (d_network->managerPool)
        d_network->managerPool->setConnectionsPerHost(connections);
    Q_EMIT maxConnectionsPerHostChanged();
    d_network->updateSuggestedConcurrency();
    Q_EMIT configurationChanged();
}

int QNetworkRemoteStorage::maxHttp2Streams() const
{
    return d_network->maxHttp2Streams;
}

void QNetworkRemoteStorage::setMaxHttp2Streams(int streams)
{
    streams = qMax(1, streams);
    if (d_network->maxHttp2Streams == streams)
        return;
    d_network->maxHttp2Streams = streams;
    Q_EMIT maxHttp2StreamsChanged();
    d_network->updateSuggestedConcurrency();
    Q_EMIT configurationChanged();
}

int QNetworkRemoteStorage::suggestedConcurrentTransfers() const
{
    // The app's manager may gain a cache at any time: computed when read.
    return d_network->computeSuggestedConcurrency();
}
qint64 QNetworkRemoteStorage::streamingUploadThreshold() const
{
    return d_network->streamingUploadThreshold;
}

void QNetworkRemoteStorage::setStreamingUploadThreshold(qint64 bytes)
{
    bytes = qMax<qint64>(-1, bytes);
    if (d_network->streamingUploadThreshold == bytes)
        return;
    d_network->streamingUploadThreshold = bytes;
    Q_EMIT streamingUploadThresholdChanged();
    Q_EMIT configurationChanged();
}

bool QNetworkRemoteStorage::streamingDownloads() const
{
    return d_network->streamingDownloads;
}

void QNetworkRemoteStorage::setStreamingDownloads(bool enabled)
{
    if (d_network->streamingDownloads == enabled)
        return;
    d_network->streamingDownloads = enabled;
    Q_EMIT streamingDownloadsChanged();
    Q_EMIT configurationChanged();
}

static_assert(QNetworkRemoteStorage::DefaultHttp2DownloadPartSize
              == QHttpRequest::DefaultHttp2PartSize);

qint64 QNetworkRemoteStorage::http2DownloadPartSize() const
{
    return d_network->http2DownloadPartSize;
}

void QNetworkRemoteStorage::setHttp2DownloadPartSize(qint64 bytes)
{
    bytes = qMax<qint64>(0, bytes);
    if (d_network->http2DownloadPartSize == bytes)
        return;
    d_network->http2DownloadPartSize = bytes;
    Q_EMIT http2DownloadPartSizeChanged();
    Q_EMIT configurationChanged();
}
