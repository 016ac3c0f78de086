#include "s3rverprocess.h"

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
            *errorString = message + QStringLiteral("\n") + QString::fromUtf8(m_server.output());
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
    switch (m_server.start(node, arguments, "S3RVER_READY ", 30000)) {
    case ServerProcess::Start::NotStarted:
        return fail(QStringLiteral("node did not start: ") + m_server.errorString());
    case ServerProcess::Start::Exited:
        return fail(QStringLiteral("s3rver exited"));
    case ServerProcess::Start::TimedOut:
        return fail(QStringLiteral("s3rver did not become ready within 30 s"));
    case ServerProcess::Start::Ready:
        break;
    }
    bool ok = false;
    m_port = m_server.readyLine().trimmed().toUShort(&ok);
    if (!ok || m_port == 0)
        return fail(QStringLiteral("s3rver reported no port"));
    return true;
}

void S3rverProcess::stop()
{
    m_server.stop(5000, 5000); // start.js exits when its stdin ends
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
