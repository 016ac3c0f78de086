#include "demoserver.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qstandardpaths.h>

static const char ServerName[] = "powersync-attachments-server";

DemoServer::DemoServer(QObject *parent)
    : QObject(parent)
{ }

DemoServer::~DemoServer()
{
    stop();
}

void DemoServer::setRootPath(const QString &path)
{
    if (m_root == path)
        return;
    m_root = path;
    emit rootPathChanged();
}

QString DemoServer::program() const
{
    // Next to the app once installed, in the build tree while developing, or
    // on PATH.
    const QString name = QString::fromLatin1(ServerName);
    const QString appDir = QCoreApplication::applicationDirPath();
    QStringList candidates {appDir + QLatin1Char('/') + name,
                            appDir + QStringLiteral("/../../src/server/") + name};
#ifdef PSA_SERVER_EXECUTABLE
    candidates.prepend(QStringLiteral(PSA_SERVER_EXECUTABLE));
#endif
    const QString fromEnvironment = qEnvironmentVariable("PSA_SERVER_EXECUTABLE");
    if (!fromEnvironment.isEmpty())
        candidates.prepend(fromEnvironment);
    for (const QString &candidate : std::as_const(candidates)) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.absoluteFilePath();
    }
    return QStandardPaths::findExecutable(name);
}

void DemoServer::start()
{
    if (m_process)
        return;
    const QString executable = program();
    if (executable.isEmpty()) {
        fail(tr("%1 not found").arg(QLatin1String(ServerName)));
        return;
    }
    if (m_root.isEmpty()) {
        fail(tr("no rootPath for the server"));
        return;
    }
    QDir().mkpath(m_root);
    m_output.clear();
    m_process = new QProcess(this);
    m_process->setProcessChannelMode(QProcess::SeparateChannels);
    m_process->setProgram(executable);
    m_process->setArguments({QStringLiteral("--root"), m_root, QStringLiteral("--port"),
                             QString::number(m_port), QStringLiteral("--bind"),
                             QStringLiteral("127.0.0.1"),
                             // Nobody reads a log line per request here.
                             QStringLiteral("--quiet")});
    connect(m_process, &QProcess::readyReadStandardOutput, this, &DemoServer::readOutput);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError) {
        if (m_process && m_process->state() == QProcess::NotRunning)
            fail(m_process->errorString());
    });
    connect(m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        if (!m_process)
            return;
        const QString stderrText = QString::fromLocal8Bit(m_process->readAllStandardError());
        m_process->deleteLater();
        m_process = nullptr;
        if (m_running)
            setRunning(false);
        if (status != QProcess::NormalExit || code != 0)
            fail(tr("the server exited (%1): %2").arg(code).arg(stderrText.trimmed()));
    });
    m_process->start();
}

void DemoServer::readOutput()
{
    if (!m_process)
        return;
    m_output += m_process->readAllStandardOutput();
    if (m_running)
        return;
    static const QRegularExpression listening(
        QStringLiteral("listening on (http://127\\.0\\.0\\.1:(\\d+))"));
    const QRegularExpressionMatch match = listening.match(QString::fromUtf8(m_output));
    if (!match.hasMatch())
        return;
    m_port = quint16(match.captured(2).toUInt());
    const QUrl url(match.captured(1) + QLatin1Char('/'));
    if (url != m_url) {
        m_url = url;
        emit urlChanged();
    }
    if (!m_error.isEmpty()) {
        m_error.clear();
        emit errorStringChanged();
    }
    setRunning(true);
}

void DemoServer::stop()
{
    if (!m_process)
        return;
    QProcess *process = std::exchange(m_process, nullptr);
    process->disconnect(this);
    process->terminate();
    // The example's own child: reap it so the port is free for a restart.
    if (!process->waitForFinished(3000))
        process->kill();
    process->waitForFinished(1000);
    delete process;
    setRunning(false);
}

void DemoServer::setRunning(bool running)
{
    if (m_running == running)
        return;
    m_running = running;
    emit runningChanged();
}

void DemoServer::fail(const QString &error)
{
    m_error = error;
    qWarning().noquote() << "server:" << error;
    emit errorStringChanged();
}
