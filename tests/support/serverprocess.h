#ifndef SERVERPROCESS_H
#define SERVERPROCESS_H

#include <QtCore/qbytearray.h>
#include <QtCore/qprocess.h>

// A test server run as a child process that prints a line starting with a
// marker once it is ready, and shuts down when its standard input ends: the
// launch, the wait and the stop that s3rver and the Ceph cluster share.
// Everything the child prints (standard output and error) is kept.
class ServerProcess
{
public:
    enum class Start { Ready, NotStarted, Exited, TimedOut };

    ServerProcess() = default;
    ~ServerProcess() { stop(5000, 5000); }

    // Starts `program` and waits, at most `timeoutMs`, for `readyMarker` and
    // the rest of its line.
    Start start(const QString &program, const QStringList &arguments, const QByteArray &readyMarker,
                int timeoutMs);
    // The ready line after its marker, without the line end.
    QByteArray readyLine() const { return m_readyLine; }
    // Why the program did not start.
    QString errorString() const { return m_process.errorString(); }

    // Closes the child's standard input and waits `graceMs` for it to exit;
    // then asks it to terminate (SIGTERM) and waits `terminateMs`; then kills it.
    void stop(int graceMs, int terminateMs);

    QByteArray output() const { return m_output; }

private:
    QProcess m_process;
    QByteArray m_output;
    QByteArray m_readyLine;
};

#endif // SERVERPROCESS_H
