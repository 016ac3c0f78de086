#ifndef NGINXSERVER_H
#define NGINXSERVER_H

#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qurl.h>

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

#endif // NGINXSERVER_H
