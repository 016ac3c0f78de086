#include "qhttpconnectioncache_p.h"

#include "qattachmentlogging_p.h"

#include <QtCore/qurl.h>
#include <QtNetwork/qsslsocket.h>
#include <QtNetwork/qtcpsocket.h>

QHttpConnectionCache::QHttpConnectionCache(QObject *parent)
    : QObject(parent)
{
    m_sweep.setSingleShot(false);
    connect(&m_sweep, &QTimer::timeout, this, [this] { sweep(); });
}

QHttpConnectionCache::~QHttpConnectionCache()
{
    clear();
}

QHttpConnectionCache *QHttpConnectionCache::of(QObject *owner)
{
    if (!owner)
        return nullptr;
    static const char *const Name = "powersync-http-connection-cache";
    const QList<QObject *> children = owner->children();
    for (QObject *child : children) {
        if (child->objectName() == QLatin1String(Name))
            if (auto *cache = dynamic_cast<QHttpConnectionCache *>(child))
                return cache;
    }
    auto *cache = new QHttpConnectionCache(owner);
    cache->setObjectName(QLatin1String(Name));
    return cache;
}

QString QHttpConnectionCache::originOf(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const int port = url.port(scheme == QLatin1String("https") ? 443 : 80);
    return scheme + QLatin1String("://") + url.host(QUrl::FullyEncoded).toLower() + QLatin1Char(':')
        + QString::number(port);
}

void QHttpConnectionCache::setIdleTimeout(int msecs)
{
    m_idleTimeoutMs = qMax(0, msecs);
    if (m_sweep.isActive())
        m_sweep.start(qBound(10, m_idleTimeoutMs / 4, 1000));
}

QTcpSocket *QHttpConnectionCache::take(const QString &origin, const QSslConfiguration &tls,
                                       QObject *newParent)
{
    auto it = m_idle.find(origin);
    if (it == m_idle.end())
        return nullptr;
    const bool https = origin.startsWith(QLatin1String("https:"));
    QList<Idle> &list = it.value();
    // The most recently used first: it is the least likely to have been
    // closed by the server meanwhile.
    for (qsizetype i = list.size() - 1; i >= 0; --i) {
        if (https && !(list.at(i).tls == tls))
            continue;
        if (list.at(i).since.hasExpired(m_idleTimeoutMs))
            continue;
        QTcpSocket *socket = list.takeAt(i).socket;
        if (list.isEmpty())
            m_idle.erase(it);
        QObject::disconnect(socket, nullptr, this, nullptr);
        if (socket->state() != QAbstractSocket::ConnectedState || socket->bytesAvailable() > 0) {
            closeIdle(socket);
            return nullptr;
        }
        socket->setParent(newParent);
        ++m_reused;
        return socket;
    }
    return nullptr;
}

bool QHttpConnectionCache::put(const QString &origin, QTcpSocket *socket,
                               const QSslConfiguration &tls)
{
    if (!socket || m_maxPerOrigin <= 0 || m_maxIdle <= 0 || m_idleTimeoutMs <= 0)
        return false;
    if (socket->state() != QAbstractSocket::ConnectedState || socket->bytesAvailable() > 0
        || socket->bytesToWrite() > 0)
        return false;
    auto *tlsSocket = qobject_cast<QSslSocket *>(socket);
    if (tlsSocket && (!tlsSocket->isEncrypted() || tlsSocket->encryptedBytesToWrite() > 0))
        return false;
    QList<Idle> &list = m_idle[origin];
    while (list.size() >= m_maxPerOrigin)
        closeIdle(list.takeFirst().socket);
    while (idleCount() >= m_maxIdle) {
        // The oldest of all goes.
        QString oldestOrigin;
        qint64 oldest = -1;
        for (auto i = m_idle.cbegin(); i != m_idle.cend(); ++i) {
            if (!i.value().isEmpty() && i.value().first().since.elapsed() > oldest) {
                oldest = i.value().first().since.elapsed();
                oldestOrigin = i.key();
            }
        }
        closeIdle(m_idle[oldestOrigin].takeFirst().socket);
    }
    socket->setParent(this);
    // Nothing is expected on an idle connection: data or a close ends it.
    // The plain socket may be unbuffered: only a read tells a close.
    connect(socket, &QIODevice::readyRead, this, [this, socket] { drop(socket); });
    connect(socket, &QAbstractSocket::disconnected, this, [this, socket] { drop(socket); });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket] { drop(socket); });
    Idle idle;
    idle.socket = socket;
    idle.tls = tls;
    idle.since.start();
    m_idle[origin].append(idle);
    if (!m_sweep.isActive())
        m_sweep.start(qBound(10, m_idleTimeoutMs / 4, 1000));
    return true;
}

quint64 QHttpConnectionCache::acquire(const QString &origin, int limit, std::function<void()> grant)
{
    const quint64 ticket = ++m_nextTicket;
    if (m_waiting.value(origin).isEmpty() && m_active.value(origin) < qMax(1, limit)) {
        ++m_active[origin];
        grant();
        return ticket;
    }
    m_waiting[origin].append(Waiter {ticket, qMax(1, limit), std::move(grant)});
    return ticket;
}

void QHttpConnectionCache::cancel(quint64 ticket)
{
    for (auto it = m_waiting.begin(); it != m_waiting.end(); ++it) {
        QList<Waiter> &list = it.value();
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (list.at(i).ticket != ticket)
                continue;
            list.removeAt(i);
            if (list.isEmpty())
                m_waiting.erase(it);
            return;
        }
    }
}

void QHttpConnectionCache::release(const QString &origin)
{
    auto active = m_active.find(origin);
    if (active == m_active.end())
        return;
    if (--active.value() <= 0)
        m_active.erase(active);
    auto it = m_waiting.find(origin);
    if (it == m_waiting.end() || it.value().isEmpty())
        return;
    if (m_active.value(origin) >= it.value().first().limit)
        return;
    Waiter next = it.value().takeFirst();
    if (it.value().isEmpty())
        m_waiting.erase(it);
    ++m_active[origin];
    // The grant may start a request that ends and releases at once.
    next.grant();
}

int QHttpConnectionCache::waitingCount() const
{
    int n = 0;
    for (const QList<Waiter> &list : m_waiting)
        n += int(list.size());
    return n;
}

void QHttpConnectionCache::drop(QTcpSocket *socket)
{
    for (auto it = m_idle.begin(); it != m_idle.end(); ++it) {
        QList<Idle> &list = it.value();
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (list.at(i).socket != socket)
                continue;
            list.removeAt(i);
            if (list.isEmpty())
                m_idle.erase(it);
            qCDebug(lcHttp) << "idle connection closed by the peer or sent data: dropped";
            closeIdle(socket);
            return;
        }
    }
}

void QHttpConnectionCache::sweep()
{
    for (auto it = m_idle.begin(); it != m_idle.end();) {
        QList<Idle> &list = it.value();
        for (qsizetype i = list.size() - 1; i >= 0; --i) {
            if (list.at(i).since.hasExpired(m_idleTimeoutMs))
                closeIdle(list.takeAt(i).socket);
        }
        if (list.isEmpty())
            it = m_idle.erase(it);
        else
            ++it;
    }
    if (m_idle.isEmpty())
        m_sweep.stop();
}

void QHttpConnectionCache::closeIdle(QTcpSocket *socket)
{
    QObject::disconnect(socket, nullptr, this, nullptr);
    socket->abort();
    socket->deleteLater();
}

int QHttpConnectionCache::idleCount(const QString &origin) const
{
    return int(m_idle.value(origin).size());
}

int QHttpConnectionCache::idleCount() const
{
    int n = 0;
    for (const QList<Idle> &list : m_idle)
        n += int(list.size());
    return n;
}

QList<QTcpSocket *> QHttpConnectionCache::idleSockets(const QString &origin) const
{
    QList<QTcpSocket *> sockets;
    for (const Idle &idle : m_idle.value(origin))
        sockets.append(idle.socket);
    return sockets;
}

void QHttpConnectionCache::clear()
{
    const auto idle = std::exchange(m_idle, {});
    for (const QList<Idle> &list : idle) {
        for (const Idle &entry : list)
            closeIdle(entry.socket);
    }
    m_sweep.stop();
}
