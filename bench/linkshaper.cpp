#include "linkshaper.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace Bench {

LinkShaper::~LinkShaper()
{
    stop();
}

bool LinkShaper::start(quint16 targetPort, const LinkProfile &profile, QString *errorString)
{
    m_process.setProgram(QCoreApplication::applicationFilePath());
    m_process.setArguments({QStringLiteral("--shape-link"), QString::number(targetPort),
                            QString::number(profile.oneWayDelayMs),
                            QString::number(profile.mbitPerSecond)});
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // A benchmark that crashes must not leave the proxy running.
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    m_process.start();
    if (!m_process.waitForStarted(5000)) {
        *errorString = QStringLiteral("cannot start the link shaper: ") + m_process.errorString();
        return false;
    }
    QElapsedTimer clock;
    clock.start();
    while (!m_process.canReadLine() && clock.elapsed() < 10000
           && m_process.state() == QProcess::Running)
        m_process.waitForReadyRead(100);
    bool ok = false;
    const int port = m_process.readLine().trimmed().toInt(&ok);
    if (!ok || port <= 0 || port > 65535) {
        *errorString = QStringLiteral("the link shaper did not start");
        stop();
        return false;
    }
    m_port = quint16(port);
    return true;
}

void LinkShaper::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.closeWriteChannel(); // the shaper ends when its standard input closes
    if (!m_process.waitForFinished(3000)) {
        m_process.kill();
        m_process.waitForFinished(2000);
    }
}

namespace {

// Read from a socket in pieces of this size, so that connections sharing the
// link take turns at a fine grain, as packets do.
constexpr qint64 ChunkBytes = 16 * 1024;
// The link's queue (a router's buffer): data is not taken from the senders
// while more than this much time's worth waits to be put on the wire.
constexpr qint64 QueueLimitNs = 20'000'000;

struct Connection
{
    quint64 id = 0;
    QTcpSocket *client = nullptr;
    QTcpSocket *server = nullptr;
    qint64 acceptedNs = 0;
    bool waiting[2] = {false, false};
    bool eofScheduled[2] = {false, false};
    bool eofDelivered[2] = {false, false};
};

class Shaper : public QObject
{
public:
    Shaper(quint16 targetPort, qint64 delayNs, double bytesPerNs)
        : m_targetPort(targetPort)
        , m_delayNs(delayNs)
    {
        m_clock.start();
        for (int d = 0; d < 2; ++d) {
            m_links[d].bytesPerNs = bytesPerNs;
            m_links[d].pumpTimer.setSingleShot(true);
            m_links[d].pumpTimer.setTimerType(Qt::PreciseTimer);
            m_links[d].deliverTimer.setSingleShot(true);
            m_links[d].deliverTimer.setTimerType(Qt::PreciseTimer);
            QObject::connect(&m_links[d].pumpTimer, &QTimer::timeout, this, [this, d] { pump(d); });
            QObject::connect(&m_links[d].deliverTimer, &QTimer::timeout, this,
                             [this, d] { deliver(d); });
        }
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }

private:
    enum { Up = 0, Down = 1 };

    struct Entry
    {
        quint64 connection;
        QByteArray data;
        bool eof;
    };
    struct Link
    {
        double bytesPerNs = 0;
        qint64 freeAtNs = 0; // when the last byte taken so far is on the wire
        std::map<std::pair<qint64, quint64>, Entry> schedule; // (release time, sequence)
        std::deque<quint64> waiting; // connections with data to take, in turn
        QTimer pumpTimer;
        QTimer deliverTimer;
        qint64 deliverAtNs = -1;
    };

    static QTcpSocket *source(Connection *c, int d) { return d == Up ? c->client : c->server; }
    static QTcpSocket *sink(Connection *c, int d) { return d == Up ? c->server : c->client; }

    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            auto *c = new Connection;
            c->id = ++m_nextId;
            c->client = client;
            c->server = new QTcpSocket(this);
            c->acceptedNs = m_clock.nsecsElapsed();
            m_connections.insert(c->id, c);
            for (QTcpSocket *socket : {c->client, c->server}) {
                socket->setReadBufferSize(4 * ChunkBytes);
                const int d = socket == c->client ? Up : Down;
                QObject::connect(socket, &QTcpSocket::readyRead, this,
                                 [this, id = c->id, d] { wantRead(id, d); });
                QObject::connect(socket, &QTcpSocket::disconnected, this,
                                 [this, id = c->id, d] { wantRead(id, d); });
                QObject::connect(socket, &QTcpSocket::errorOccurred, this,
                                 [this, id = c->id, d] { wantRead(id, d); });
            }
            QObject::connect(c->server, &QTcpSocket::connected, this, [socket = c->server] {
                socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            });
            c->client->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            c->server->connectToHost(QHostAddress::LocalHost, m_targetPort);
            if (c->client->bytesAvailable() > 0)
                wantRead(c->id, Up);
        }
    }

    void wantRead(quint64 id, int d)
    {
        Connection *c = m_connections.value(id);
        if (!c || c->waiting[d] || c->eofScheduled[d])
            return;
        c->waiting[d] = true;
        m_links[d].waiting.push_back(id);
        pump(d);
    }

    void schedule(int d, Connection *c, qint64 releaseNs, QByteArray data, bool eof)
    {
        Link &link = m_links[d];
        // Before the handshake's round trip is over nothing reaches the
        // server: the client's first bytes wait one round trip more.
        if (d == Up)
            releaseNs = std::max(releaseNs, c->acceptedNs + 3 * m_delayNs);
        link.schedule.emplace(std::make_pair(releaseNs, ++m_sequence),
                              Entry {c->id, std::move(data), eof});
        armDelivery(d);
    }

    void pump(int d)
    {
        Link &link = m_links[d];
        while (!link.waiting.empty()) {
            const qint64 now = m_clock.nsecsElapsed();
            const qint64 queued = link.freeAtNs - now;
            if (queued > QueueLimitNs) {
                const qint64 waitNs = queued - QueueLimitNs;
                link.pumpTimer.start(int(std::max<qint64>(1, (waitNs + 999'999) / 1'000'000)));
                return;
            }
            const quint64 id = link.waiting.front();
            link.waiting.pop_front();
            Connection *c = m_connections.value(id);
            if (!c)
                continue;
            c->waiting[d] = false;
            QTcpSocket *from = source(c, d);
            const qint64 n = std::min(ChunkBytes, from->bytesAvailable());
            if (n > 0) {
                QByteArray data = from->read(n);
                const qint64 start = std::max(now, link.freeAtNs);
                link.freeAtNs = start + qint64(double(data.size()) / link.bytesPerNs);
                schedule(d, c, link.freeAtNs + m_delayNs, std::move(data), false);
            }
            if (from->bytesAvailable() > 0) {
                c->waiting[d] = true;
                link.waiting.push_back(id);
            } else if (from->state() == QAbstractSocket::UnconnectedState) {
                // The sender closed: the close travels behind its last bytes.
                c->eofScheduled[d] = true;
                schedule(d, c, std::max(now, link.freeAtNs) + m_delayNs, {}, true);
            }
        }
    }

    void armDelivery(int d)
    {
        Link &link = m_links[d];
        if (link.schedule.empty())
            return;
        const qint64 next = link.schedule.begin()->first.first;
        if (link.deliverTimer.isActive() && link.deliverAtNs <= next)
            return;
        const qint64 now = m_clock.nsecsElapsed();
        link.deliverAtNs = next;
        link.deliverTimer.start(int(std::max<qint64>(0, (next - now + 999'999) / 1'000'000)));
    }

    void deliver(int d)
    {
        Link &link = m_links[d];
        link.deliverAtNs = -1;
        const qint64 now = m_clock.nsecsElapsed();
        while (!link.schedule.empty() && link.schedule.begin()->first.first <= now) {
            Entry entry = std::move(link.schedule.begin()->second);
            link.schedule.erase(link.schedule.begin());
            Connection *c = m_connections.value(entry.connection);
            if (!c)
                continue;
            QTcpSocket *to = sink(c, d);
            if (entry.eof) {
                c->eofDelivered[d] = true;
                to->disconnectFromHost();
                if (c->eofDelivered[Up] && c->eofDelivered[Down]) {
                    m_connections.remove(c->id);
                    c->client->deleteLater();
                    c->server->deleteLater();
                    delete c;
                } else {
                    // The other side sees the close: let it end its half too.
                    wantRead(c->id, d == Up ? Down : Up);
                }
            } else if (to->state() != QAbstractSocket::UnconnectedState) {
                to->write(entry.data);
            }
        }
        armDelivery(d);
    }

    QTcpServer m_server;
    QElapsedTimer m_clock;
    quint16 m_targetPort;
    qint64 m_delayNs;
    Link m_links[2];
    QHash<quint64, Connection *> m_connections;
    quint64 m_nextId = 0;
    quint64 m_sequence = 0;
};

} // namespace

int linkShaperMain(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 5) {
        std::fprintf(stderr, "--shape-link TARGETPORT DELAYMS MBIT\n");
        return 1;
    }
    const quint16 target = quint16(QByteArray(argv[2]).toUInt());
    const qint64 delayNs = QByteArray(argv[3]).toLongLong() * 1'000'000;
    const double mbit = QByteArray(argv[4]).toDouble();
    if (target == 0 || delayNs < 0 || mbit <= 0) {
        std::fprintf(stderr, "--shape-link: bad arguments\n");
        return 1;
    }
    Shaper shaper(target, delayNs, mbit * 1e6 / 8 / 1e9);
    if (!shaper.listen()) {
        std::fprintf(stderr, "--shape-link: cannot listen\n");
        return 1;
    }
    std::fprintf(stdout, "%u\n", unsigned(shaper.port()));
    std::fflush(stdout);
    // Ends when the benchmark closes our standard input (or dies).
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, &app, [&] {
        char buffer[256];
        if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0)
            app.quit();
    });
    return app.exec();
}

} // namespace Bench
