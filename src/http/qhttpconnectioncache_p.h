#ifndef QHTTPCONNECTIONCACHE_P_H
#define QHTTPCONNECTIONCACHE_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qsslconfiguration.h>

#include <functional>

class QTcpSocket;
class QUrl;

// Idle HTTP/1.1 connections kept for the next request to the same origin
// (QHttpSocketExchange): a new connection per request would cost a handshake
// (three more round trips with TLS) each time.
//
// Bounded: at most maxIdlePerOrigin idle connections per origin and
// maxIdle in all (the oldest goes first), each closed after idleTimeout
// without use. An idle connection that the peer closes, or on which anything
// arrives (no request is outstanding on it), is closed at once. Connections
// are only taken back after a response that was read whole and allows reuse
// (QHttpResponseParser::allowsReuse()); the caller decides that.
//
// One cache belongs to one object (of(): the storage's manager) and lives in
// its thread; the connections it holds are its children.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttpConnectionCache : public QObject
{
public:
    static constexpr int DefaultMaxIdlePerOrigin = 32;
    static constexpr int DefaultMaxIdle = 64;
    static constexpr int DefaultIdleTimeoutMs = 10000;

    explicit QHttpConnectionCache(QObject *parent = nullptr);
    ~QHttpConnectionCache() override;

    // The cache of `owner`, created as its child on first use.
    static QHttpConnectionCache *of(QObject *owner);
    // "scheme://host:port" of `url`, lower-case.
    static QString originOf(const QUrl &url);

    void setMaxIdlePerOrigin(int count) { m_maxPerOrigin = qMax(0, count); }
    void setMaxIdle(int count) { m_maxIdle = qMax(0, count); }
    void setIdleTimeout(int msecs);
    int maxIdlePerOrigin() const { return m_maxPerOrigin; }
    int maxIdle() const { return m_maxIdle; }

    // An idle connection to `origin` opened with `tls` (compared with the
    // configuration it was opened with; ignored for plain HTTP), or null. The
    // caller owns it (it is reparented to `newParent`).
    QTcpSocket *take(const QString &origin, const QSslConfiguration &tls, QObject *newParent);
    // Keeps `socket` (connected, nothing pending in either direction, no
    // signal connected to anyone but its own children) for the next request;
    // false when it is not taken (the caller closes it).
    bool put(const QString &origin, QTcpSocket *socket, const QSslConfiguration &tls);

    // Connections in use: acquire() calls `grant` (at once or from a later
    // release()) once fewer than `limit` connections to `origin` are in use,
    // and counts it; release() ends that use. Returns a ticket for cancel()
    // while waiting.
    quint64 acquire(const QString &origin, int limit, std::function<void()> grant);
    void cancel(quint64 ticket);
    void release(const QString &origin);
    int activeCount(const QString &origin) const { return m_active.value(origin); }
    int waitingCount() const;

    int idleCount(const QString &origin) const;
    int idleCount() const;
    // For tests: the idle connections to `origin`, oldest first.
    QList<QTcpSocket *> idleSockets(const QString &origin) const;
    // Connections handed out again by take().
    int reuseCount() const { return m_reused; }
    void clear();

private:
    struct Idle
    {
        QTcpSocket *socket = nullptr;
        QSslConfiguration tls;
        QElapsedTimer since;
    };

    void drop(QTcpSocket *socket);
    void sweep();
    void closeIdle(QTcpSocket *socket);

    struct Waiter
    {
        quint64 ticket = 0;
        int limit = 0;
        std::function<void()> grant;
    };

    QHash<QString, QList<Idle>> m_idle; // oldest first
    QHash<QString, int> m_active;
    QHash<QString, QList<Waiter>> m_waiting; // first come, first served
    quint64 m_nextTicket = 0;
    QTimer m_sweep;
    int m_maxPerOrigin = DefaultMaxIdlePerOrigin;
    int m_maxIdle = DefaultMaxIdle;
    int m_idleTimeoutMs = DefaultIdleTimeoutMs;
    int m_reused = 0;
};

#endif // QHTTPCONNECTIONCACHE_P_H
