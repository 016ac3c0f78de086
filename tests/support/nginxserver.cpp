#include "nginxserver.h"

#include "testsupport.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qstandardpaths.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qtest.h>

#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

NginxServer::NginxServer() = default;

NginxServer::NginxServer(const Options &options)
    : m_options(options)
{ }

NginxServer::~NginxServer()
{
    stop();
}

bool NginxServer::isAvailable()
{
    return !QStandardPaths::findExecutable(QStringLiteral("nginx"),
                                           {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")})
                .isEmpty()
        || !QStandardPaths::findExecutable(QStringLiteral("nginx")).isEmpty();
}

QUrl NginxServer::url(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/%2").arg(m_port).arg(path));
}

QUrl NginxServer::http2Url(const QString &path) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/%2").arg(m_http2Port).arg(path));
}

QString NginxServer::rootPath() const
{
    return m_dir.path() + QStringLiteral("/root");
}

QString NginxServer::errorLog() const
{
    QFile file(m_dir.path() + QStringLiteral("/error.log"));
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

bool NginxServer::start(QString *errorString)
{
    if (!m_dir.isValid()) {
        if (errorString)
            *errorString = QStringLiteral("no temporary directory");
        return false;
    }
    // Another process may take the port between probing and nginx binding it.
    for (int attempt = 0; attempt < 5; ++attempt) {
        bool clash = false;
        const quint16 port = TestSupport::freePort();
        quint16 http2Port = 0;
        if (m_options.http2) {
            for (int tries = 0; tries < 10 && (http2Port == 0 || http2Port == port); ++tries)
                http2Port = TestSupport::freePort();
        }
        if (startOnce(port, http2Port, errorString, &clash))
            return true;
        if (!clash)
            return false;
    }
    return false;
}

QString NginxConfig::text() const
{
    QString conf;
    // The master runs as whoever starts the test; as root its workers would
    // switch to an unprivileged user that cannot write the private temp dir.
    if (::geteuid() == 0)
        conf += QStringLiteral("user root;\n");
    conf += QStringLiteral("worker_processes 1;\n"
                           "error_log %1/error.log warn;\n")
                .arg(dir);
    conf += forBenchmarks ? QStringLiteral("events { worker_connections 1024; }\n")
                          : QStringLiteral("events { worker_connections 256; }\n");
    conf += QStringLiteral("http {\n");
    conf += forBenchmarks ? QStringLiteral("    access_log off;\n    keepalive_requests 1000000;\n")
                          : QStringLiteral("    access_log %1/access.log;\n").arg(dir);
    conf += QStringLiteral("    client_body_temp_path %1/tmp/body;\n"
                           "    proxy_temp_path %1/tmp/proxy;\n"
                           "    fastcgi_temp_path %1/tmp/fastcgi;\n"
                           "    uwsgi_temp_path %1/tmp/uwsgi;\n"
                           "    scgi_temp_path %1/tmp/scgi;\n"
                           "    sendfile on;\n")
                .arg(dir);
    if (!http2ChunkSize.isEmpty())
        conf += QStringLiteral("    http2_chunk_size %1;\n").arg(http2ChunkSize);
    if (!tlsCertificate.isEmpty())
        conf += QStringLiteral("    ssl_certificate %1;\n"
                               "    ssl_certificate_key %2;\n"
                               "    ssl_protocols TLSv1.2 TLSv1.3;\n"
                               "    ssl_session_cache shared:SSL:1m;\n")
                    .arg(tlsCertificate, tlsKey);
    conf += QStringLiteral("    server {\n");
    for (const QString &port : listen)
        conf += QStringLiteral("        listen 127.0.0.1:%1;\n").arg(port);
    conf += QStringLiteral("        root %1/root;\n"
                           "        location / {\n"
                           "            dav_methods PUT DELETE;\n"
                           "            create_full_put_path on;\n"
                           "            client_max_body_size 0;\n"
                           "            dav_access user:rw group:r all:r;\n"
                           "        }\n"
                           "    }\n"
                           "}\n")
                .arg(dir);
    return conf;
}

bool NginxConfig::write(QString *errorString) const
{
    const QDir d(dir);
    for (const char *sub :
         {"root", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"}) {
        if (!d.mkpath(QString::fromLatin1(sub))) {
            if (errorString)
                *errorString = QStringLiteral("cannot make the nginx directories");
            return false;
        }
    }
    QFile file(dir + QStringLiteral("/nginx.conf"));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(text().toUtf8()) < 0
        || !file.flush()) {
        if (errorString)
            *errorString = QStringLiteral("cannot write the nginx config");
        return false;
    }
    return true;
}

void NginxConfig::setUpProcess(QProcess &process) const
{
    QString program = QStandardPaths::findExecutable(QStringLiteral("nginx"));
    if (program.isEmpty())
        program = QStandardPaths::findExecutable(QStringLiteral("nginx"),
                                                 {QStringLiteral("/usr/sbin")});
    process.setProgram(program);
    process.setArguments({QStringLiteral("-p"), dir, QStringLiteral("-c"),
                          dir + QStringLiteral("/nginx.conf"), QStringLiteral("-e"),
                          dir + QStringLiteral("/error.log"), QStringLiteral("-g"),
                          QStringLiteral("daemon off; pid %1/nginx.pid;").arg(dir)});
    process.setProcessChannelMode(QProcess::MergedChannels);
    // A test that crashes must not leave nginx running.
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
}

bool NginxServer::startOnce(quint16 port, quint16 http2Port, QString *errorString, bool *portClash)
{
    const QString d = m_dir.path();
    NginxConfig config;
    config.dir = d;
    config.forBenchmarks = m_options.forBenchmarks;
    config.http2ChunkSize = m_options.http2ChunkSize;
    config.listen << QString::number(port);
    if (http2Port)
        config.listen << QStringLiteral("%1 http2").arg(http2Port);
    if (!config.write(errorString))
        return false;
    QFile::remove(d + QStringLiteral("/error.log"));
    config.setUpProcess(m_process);
    m_process.start();
    if (!m_process.waitForStarted(5000)) {
        if (errorString)
            *errorString = QStringLiteral("cannot run nginx: ") + m_process.errorString();
        return false;
    }

    // Ready once the port accepts a connection; a failed start ends the process.
    bool accepted = false;
    (void)QTest::qWaitFor(
        [&] {
            if (m_process.state() != QProcess::Running)
                return true;
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, port);
            (void)QTest::qWaitFor(
                [&] {
                    return probe.state() != QAbstractSocket::ConnectingState
                        && probe.state() != QAbstractSocket::HostLookupState;
                },
                500);
            accepted = probe.state() == QAbstractSocket::ConnectedState;
            return accepted;
        },
        10000);
    if (accepted) {
        m_port = port;
        m_http2Port = http2Port;
        return true;
    }
    const QString log = errorLog() + QString::fromUtf8(m_process.readAll());
    *portClash = log.contains(QStringLiteral("Address already in use"));
    stop();
    if (errorString)
        *errorString = QStringLiteral("nginx did not start: ") + log;
    return false;
}

void NginxServer::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    // SIGTERM: fast shutdown of master and workers.
    m_process.terminate();
    if (!m_process.waitForFinished(5000)) {
        m_process.kill();
        m_process.waitForFinished(2000);
    }
}
