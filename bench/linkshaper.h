#ifndef LINKSHAPER_H
#define LINKSHAPER_H

#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>

namespace Bench {

// A forwarding TCP proxy on 127.0.0.1 that makes loopback look like a real
// link: every byte is delayed by a fixed one-way latency in each direction,
// and each direction is a shared link of a fixed bit rate (all connections
// queue behind each other, as on one access line). A new connection costs one
// round trip before its first byte reaches the server, as a TCP handshake does.
// It runs in a child process (this program started with --shape-link), so
// that its work and its buffers stay out of the measured process.
struct LinkProfile
{
    int oneWayDelayMs = 20;
    double mbitPerSecond = 100;
    int rttMs() const { return 2 * oneWayDelayMs; }
};

class LinkShaper
{
public:
    ~LinkShaper();
    // Starts the proxy in front of 127.0.0.1:targetPort; port() is where it listens.
    bool start(quint16 targetPort, const LinkProfile &profile, QString *errorString);
    void stop();
    quint16 port() const { return m_port; }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

// The --shape-link mode: argv is TARGETPORT DELAYMS MBIT. Prints the port it
// listens on as the first line of stdout and runs until killed or until its
// standard input is closed.
int linkShaperMain(int argc, char **argv);

} // namespace Bench

#endif // LINKSHAPER_H
