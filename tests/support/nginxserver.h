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
    NginxServer();
    ~NginxServer();

    // Starts nginx and waits until its port accepts connections.
    bool start(QString *errorString = nullptr);
    void stop();

    static bool isAvailable();

    QUrl url() const; // http://127.0.0.1:PORT/
    quint16 port() const { return m_port; }
    // The directory served at url().
    QString rootPath() const;
    QString errorLog() const;

private:
    bool startOnce(quint16 port, QString *errorString, bool *portClash);

    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};

#endif // NGINXSERVER_H
