#ifndef NGINXSERVER_H
#define NGINXSERVER_H

#include <QtCore/qprocess.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qurl.h>

// The configuration nginx runs with in the tests and the benchmarks: WebDAV
// (PUT, DELETE, any body size) on a root directory, everything nginx writes
// kept in one directory, and no address but 127.0.0.1.
struct NginxConfig
{
    // Holds root/ (what is served), tmp/, the logs, the pid file and nginx.conf.
    QString dir;
    // What follows each `listen 127.0.0.1:` line: a port and its parameters
    // ("8080", "8443 ssl http2").
    QStringList listen;
    // Tuned for measurements: no access log, a thousand connections, and
    // keep-alive connections that last as many requests as a run makes.
    bool forBenchmarks = false;
    // nginx's `http2_chunk_size`: the largest DATA frame it sends (when the
    // client accepts frames that large). Empty: nginx's default, 8k.
    QString http2ChunkSize;
    // TLS certificate and key files (PEM), for the ports listening with `ssl`.
    QString tlsCertificate;
    QString tlsKey;

    QString text() const;
    // Makes the directories nginx needs under `dir` and writes dir/nginx.conf.
    bool write(QString *errorString) const;
    // Sets `process` up to run nginx on that configuration in the foreground;
    // it is ended (SIGTERM) when the process that started it ends.
    void setUpProcess(QProcess &process) const;
};

// nginx with its WebDAV module (PUT, DELETE) serving a fresh temporary
// directory on 127.0.0.1 and a free port. Everything nginx writes (config,
// logs, pid, temp files) stays in that directory; the server stops with the
// object.
class NginxServer
{
public:
    struct Options
    {
        // A second port, http2Url(), that speaks HTTP/2 without TLS.
        bool http2 = false;
        // NginxConfig::http2ChunkSize.
        QString http2ChunkSize;
        // Tuned for measurements: no access log, a thousand connections, and
        // keep-alive connections that last as many requests as a run makes.
        bool forBenchmarks = false;
    };

    NginxServer();
    explicit NginxServer(const Options &options);
    ~NginxServer();

    // Starts nginx and waits until its port accepts connections.
    bool start(QString *errorString = nullptr);
    void stop();

    static bool isAvailable();

    QUrl url(const QString &path = {}) const; // http://127.0.0.1:PORT/path
    QUrl http2Url(const QString &path = {}) const; // with Options::http2
    quint16 port() const { return m_port; }
    // The directory served at url().
    QString rootPath() const;
    QString errorLog() const;

private:
    bool startOnce(quint16 port, quint16 http2Port, QString *errorString, bool *portClash);

    Options m_options;
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    quint16 m_http2Port = 0;
};

// In a test function: skips the test where nginx is not installed, and starts
// `server` (an NginxServer), failing the test when it does not start.
#define PSA_START_NGINX(server) \
    do { \
        if (!NginxServer::isAvailable()) \
            QSKIP("nginx is not installed"); \
        QString nginxError_; \
        QVERIFY2((server).start(&nginxError_), qPrintable(nginxError_)); \
    } while (false)

#endif // NGINXSERVER_H
