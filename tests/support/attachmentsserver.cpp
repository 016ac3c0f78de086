#include "attachmentsserver.h"

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>

static const char ServerName[] = "powersync-attachments-server";

AttachmentsServer::AttachmentsServer()
    : m_environment(QProcessEnvironment::systemEnvironment())
{ }

AttachmentsServer::~AttachmentsServer()
{
    stop();
}

QProcessEnvironment AttachmentsServer::smallQuarantineEnvironment()
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("ASAN_OPTIONS"),
                       environment.value(QStringLiteral("ASAN_OPTIONS"))
                           + QStringLiteral(":quarantine_size_mb=1"));
    return environment;
}

QString AttachmentsServer::program()
{
    QStringList candidates;
    const QString fromEnvironment = qEnvironmentVariable("PSA_SERVER_EXECUTABLE");
    if (!fromEnvironment.isEmpty())
        candidates.append(fromEnvironment);
#ifdef PSA_SERVER_EXECUTABLE
    candidates.append(QStringLiteral(PSA_SERVER_EXECUTABLE));
#endif
    const QString binaryDir = qEnvironmentVariable("PSA_BINARY_DIR");
    if (!binaryDir.isEmpty())
        candidates.append(binaryDir + QStringLiteral("/src/server/") + QLatin1String(ServerName));
    for (const QString &candidate : std::as_const(candidates)) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.absoluteFilePath();
    }
    return {};
}

bool AttachmentsServer::start(const QString &root, const QStringList &extraArguments, int timeoutMs)
{
    stop();
    m_error.clear();
    m_stderr.clear();
    m_root = root;
    const QString executable = program();
    if (executable.isEmpty()) {
        m_error = QStringLiteral("%1 not found (set PSA_SERVER_EXECUTABLE)")
                      .arg(QLatin1String(ServerName));
        return false;
    }

    QStringList arguments {QStringLiteral("--root"), root,
                           QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                           QStringLiteral("--port"), QStringLiteral("0")};
    if (!m_token.isEmpty())
        arguments << QStringLiteral("--token") << QString::fromUtf8(m_token);
    if (!m_accessLog)
        arguments << QStringLiteral("--quiet");
    arguments << extraArguments;

    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(m_environment);
    m_process->setProgram(executable);
    m_process->setArguments(arguments);
    m_process->start();
    if (!m_process->waitForStarted(timeoutMs)) {
        m_error = m_process->errorString();
        m_process.reset();
        return false;
    }

    // The server picks its own free port (--port 0), so nothing can take it
    // between choosing and binding; it reports it on its first line.
    static const QRegularExpression listening(
        QStringLiteral("listening on (http://127\\.0\\.0\\.1:(\\d+)/)"));
    QByteArray output;
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        output += m_process->readAllStandardOutput();
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(output));
        if (match.hasMatch()) {
            m_port = quint16(match.captured(2).toUInt());
            m_url = QUrl(match.captured(1));
            return true;
        }
        if (m_process->state() == QProcess::NotRunning)
            break;
        m_process->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
    }
    m_process->kill();
    m_process->waitForFinished(timeoutMs);
    m_error = QStringLiteral("the server did not start: %1")
                  .arg(QString::fromLocal8Bit(standardError()).trimmed());
    m_process.reset();
    return false;
}

bool AttachmentsServer::stop(int timeoutMs)
{
    if (!m_process)
        return false;
    m_process->terminate();
    bool clean = m_process->waitForFinished(timeoutMs)
        && m_process->exitStatus() == QProcess::NormalExit && m_process->exitCode() == 0;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(timeoutMs);
        clean = false;
    }
    m_stderr += m_process->readAllStandardError();
    m_process.reset();
    m_port = 0;
    m_url.clear();
    return clean;
}

bool AttachmentsServer::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

qint64 AttachmentsServer::processId() const
{
    return m_process ? m_process->processId() : 0;
}

QUrl AttachmentsServer::url(const QString &path) const
{
    QUrl result = m_url;
    result.setPath(QLatin1Char('/') + path);
    return result;
}

QByteArray AttachmentsServer::standardError()
{
    if (m_process)
        m_stderr += m_process->readAllStandardError();
    return m_stderr;
}
