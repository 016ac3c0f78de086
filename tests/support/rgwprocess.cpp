#include "rgwprocess.h"

#include "testsupport.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qstandardpaths.h>

#ifndef PSA_RGW_SCRIPT
#error "PSA_RGW_SCRIPT must name tests/support/rgw/rgwcluster.sh"
#endif

RgwProcess::RgwProcess() = default;

RgwProcess::~RgwProcess()
{
    stop();
}

bool RgwProcess::isAvailable(QString *why)
{
    const QStringList tools = {QStringLiteral("ceph-mon"),   QStringLiteral("ceph-osd"),
                               QStringLiteral("radosgw"),    QStringLiteral("radosgw-admin"),
                               QStringLiteral("ceph"),       QStringLiteral("ceph-authtool"),
                               QStringLiteral("monmaptool"), QStringLiteral("curl")};
    // The daemons live in /usr/bin, but a user's PATH may lack /usr/sbin-like
    // places; look in the usual ones too.
    const QStringList extra = {QStringLiteral("/usr/bin"), QStringLiteral("/usr/sbin")};
    for (const QString &tool : tools) {
        if (QStandardPaths::findExecutable(tool).isEmpty()
            && QStandardPaths::findExecutable(tool, extra).isEmpty()) {
            if (why)
                *why = QStringLiteral("%1 is not installed (Debian packages ceph-mon, ceph-osd, "
                                      "radosgw, ceph-common; scripts/install-deps.sh)")
                           .arg(tool);
            return false;
        }
    }
    return true;
}

bool RgwProcess::start(QString *errorString, int timeoutMs)
{
    auto fail = [&](const QString &message) {
        stop();
        if (errorString)
            *errorString = message + QStringLiteral("\n") + QString::fromUtf8(m_server.output());
        return false;
    };
    if (!m_dir.isValid())
        return fail(QStringLiteral("no temporary directory"));
    QString why;
    if (!isAvailable(&why))
        return fail(why);

    const quint16 monPort = TestSupport::freePort();
    quint16 rgwPort = TestSupport::freePort();
    while (rgwPort == monPort)
        rgwPort = TestSupport::freePort();
    quint16 stsPort = TestSupport::freePort();
    while (stsPort == monPort || stsPort == rgwPort)
        stsPort = TestSupport::freePort();
    QElapsedTimer clock;
    clock.start();
    switch (m_server.start(QStringLiteral("/bin/sh"),
                           {QStringLiteral(PSA_RGW_SCRIPT), m_dir.path(), QString::number(monPort),
                            QString::number(rgwPort), QString::number(stsPort)},
                           "RGW_READY ", timeoutMs)) {
    case ServerProcess::Start::NotStarted:
        return fail(QStringLiteral("the cluster script did not start: ") + m_server.errorString());
    case ServerProcess::Start::Exited:
        return fail(QStringLiteral("the Ceph cluster did not start"));
    case ServerProcess::Start::TimedOut:
        return fail(QStringLiteral("the Ceph cluster was not ready within %1 ms").arg(timeoutMs));
    case ServerProcess::Start::Ready:
        break;
    }
    m_port = rgwPort;
    m_stsPort = stsPort;
    m_startupMs = clock.elapsed();
    return true;
}

void RgwProcess::stop()
{
    m_server.stop(30000, 10000); // the script stops the daemons when its stdin ends
}

qint64 RgwProcess::peakMemoryKiB() const
{
    const QByteArray output = m_server.output();
    const qsizetype at = output.lastIndexOf("RGW_MEMORY");
    if (at < 0)
        return -1;
    const QString line = QString::fromUtf8(output.mid(at, output.indexOf('\n', at) - at));
    qint64 total = 0;
    const QRegularExpression entry(QStringLiteral("(\\w+)=(\\d+)"));
    for (auto it = entry.globalMatch(line); it.hasNext();)
        total += it.next().captured(2).toLongLong();
    return total;
}

QUrl RgwProcess::endpoint() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

QUrl RgwProcess::stsEndpoint() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_stsPort));
}
