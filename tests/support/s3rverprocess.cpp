#include "s3rverprocess.h"

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qstandardpaths.h>

#ifndef PSA_S3RVER_DIR
#error "PSA_S3RVER_DIR must name tests/s3rver"
#endif

namespace {

QString s3rverDir()
{
    return QStringLiteral(PSA_S3RVER_DIR);
}

} // namespace

S3rverProcess::S3rverProcess(const QString &bucket)
    : m_bucket(bucket)
{ }

S3rverProcess::~S3rverProcess()
{
    stop();
}

bool S3rverProcess::isAvailable(QString *why)
{
    if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty()) {
        if (why)
            *why = QStringLiteral("node is not installed");
        return false;
    }
    const QString package = s3rverDir() + QStringLiteral("/node_modules/s3rver/package.json");
    if (!QFileInfo::exists(package)) {
        if (why)
            *why = QStringLiteral("s3rver is not installed; run `npm ci --prefix %1`")
                       .arg(s3rverDir());
        return false;
    }
    return true;
}

bool S3rverProcess::start(QString *errorString)
{
    auto fail = [&](const QString &message) {
        if (errorString)
            *errorString = message + QStringLiteral("\n") + QString::fromUtf8(m_output);
        stop();
        return false;
    };
    if (!m_dir.isValid())
        return fail(QStringLiteral("no temporary directory"));
    QString why;
    if (!isAvailable(&why))
        return fail(why);

    const QString node = QStandardPaths::findExecutable(QStringLiteral("node"));
    // Port 0: the server picks a free port itself and reports it, so no other
    // process can take it between choosing and binding.
    const QStringList arguments = {s3rverDir() + QStringLiteral("/start.js"),
                                   QStringLiteral("--address"),
                                   QStringLiteral("127.0.0.1"),
                                   QStringLiteral("--port"),
                                   QStringLiteral("0"),
                                   QStringLiteral("--directory"),
                                   m_dir.path(),
                                   QStringLiteral("--bucket"),
                                   m_bucket,
                                   QStringLiteral("--access-key"),
                                   accessKeyId(),
                                   QStringLiteral("--secret-key"),
                                   secretAccessKey()};
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(node, arguments);
    if (!m_process.waitForStarted(10000))
        return fail(QStringLiteral("node did not start: ") + m_process.errorString());

    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        if (m_process.state() != QProcess::Running) {
            m_output += m_process.readAll();
            return fail(QStringLiteral("s3rver exited"));
        }
        m_process.waitForReadyRead(int(qMin<qint64>(deadline.remainingTime(), 1000)));
        m_output += m_process.readAll();
        const qsizetype at = m_output.indexOf("S3RVER_READY ");
        if (at >= 0) {
            const qsizetype end = m_output.indexOf('\n', at);
            if (end < 0)
                continue;
            bool ok = false;
            m_port = m_output.mid(at + 13, end - at - 13).trimmed().toUShort(&ok);
            if (!ok || m_port == 0)
                return fail(QStringLiteral("s3rver reported no port"));
            return true;
        }
    }
    return fail(QStringLiteral("s3rver did not become ready within 30 s"));
}

void S3rverProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.closeWriteChannel(); // start.js exits when its stdin ends
    if (!m_process.waitForFinished(5000)) {
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
    }
    m_output += m_process.readAll();
}

QUrl S3rverProcess::endpoint() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

QString S3rverProcess::objectFilePath(const QString &key) const
{
    return m_dir.path() + QLatin1Char('/') + m_bucket + QLatin1Char('/') + key
        + QStringLiteral("._S3rver_object");
}
