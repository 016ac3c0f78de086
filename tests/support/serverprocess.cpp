#include "serverprocess.h"

#include <QtCore/qdeadlinetimer.h>

ServerProcess::Start ServerProcess::start(const QString &program, const QStringList &arguments,
                                          const QByteArray &readyMarker, int timeoutMs)
{
    m_readyLine.clear();
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start(program, arguments);
    if (!m_process.waitForStarted(10000))
        return Start::NotStarted;

    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        m_process.waitForReadyRead(int(qMin<qint64>(deadline.remainingTime(), 500)));
        m_output += m_process.readAll();
        const qsizetype at = m_output.indexOf(readyMarker);
        if (at >= 0) {
            const qsizetype end = m_output.indexOf('\n', at);
            if (end >= 0) {
                m_readyLine = m_output.mid(at + readyMarker.size(), end - at - readyMarker.size());
                if (m_readyLine.endsWith('\r'))
                    m_readyLine.chop(1);
                return Start::Ready;
            }
        }
        if (m_process.state() != QProcess::Running) {
            m_process.waitForFinished(1000);
            m_output += m_process.readAll();
            return Start::Exited;
        }
    }
    return Start::TimedOut;
}

void ServerProcess::stop(int graceMs, int terminateMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.closeWriteChannel();
    if (!m_process.waitForFinished(graceMs)) {
        m_process.terminate();
        if (!m_process.waitForFinished(terminateMs)) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
    }
    m_output += m_process.readAll();
}
