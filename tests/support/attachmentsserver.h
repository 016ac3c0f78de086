#ifndef ATTACHMENTSSERVER_H
#define ATTACHMENTSSERVER_H

#include <QtCore/qbytearray.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>

#include <memory>

// Runs the project's powersync-attachments-server on 127.0.0.1 and a free port
// for the length of a test, serving a directory the test chose.
class AttachmentsServer
{
public:
    AttachmentsServer();
    ~AttachmentsServer();
    AttachmentsServer(const AttachmentsServer &) = delete;
    AttachmentsServer &operator=(const AttachmentsServer &) = delete;

    // The server executable: $PSA_SERVER_EXECUTABLE, the one of this build, or
    // the one under $PSA_BINARY_DIR. Empty when none exists.
    static QString program();

    // Options for the next start().
    void setToken(const QByteArray &token) { m_token = token; }
    // Whether the server logs each request (to its stderr, kept in
    // standardError()); off by default.
    void setAccessLog(bool enabled) { m_accessLog = enabled; }
    void setEnvironment(const QProcessEnvironment &environment) { m_environment = environment; }
    // This process's environment, with AddressSanitizer told to keep at most
    // 1 MiB of freed memory in quarantine (256 MiB by default), which would
    // read as memory held by the server.
    static QProcessEnvironment smallQuarantineEnvironment();

    // Starts serving `root` and waits until the server has printed its port.
    bool start(const QString &root, const QStringList &extraArguments = {}, int timeoutMs = 10000);
    // SIGTERM, then waits for the exit; true when the server exited cleanly
    // (status 0). Killed when it does not stop within `timeoutMs`.
    bool stop(int timeoutMs = 5000);

    bool isRunning() const;
    qint64 processId() const;
    quint16 port() const { return m_port; }
    // http://127.0.0.1:PORT/
    QUrl url() const { return m_url; }
    QUrl url(const QString &path) const;
    QString root() const { return m_root; }
    // What went wrong in start(), with the server's stderr.
    QString errorString() const { return m_error; }
    QByteArray standardError();

private:
    std::unique_ptr<QProcess> m_process;
    QProcessEnvironment m_environment;
    QByteArray m_token;
    QByteArray m_stderr;
    QString m_root;
    QString m_error;
    QUrl m_url;
    quint16 m_port = 0;
    bool m_accessLog = false;
};

#endif // ATTACHMENTSSERVER_H
