#ifndef QHTTPSILENCETIMER_P_H
#define QHTTPSILENCETIMER_P_H

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qobject.h>
#include <QtCore/qtimer.h>

#include <functional>

// The no-progress timeout of an exchange: silence for `msecs` calls onSilence.
// Each sign of life only notes the time (restarting a timer at each, several
// per small file, cost more than the rest of an exchange's bookkeeping); when
// the timer fires after progress meanwhile, it waits for the rest of the
// period. It never reports silence early, as a coarse QTimer may fire.
class QHttpSilenceTimer
{
public:
    explicit QHttpSilenceTimer(QObject *context, std::function<void()> onSilence)
        : m_onSilence(std::move(onSilence))
    {
        m_timer.setSingleShot(true);
        m_clock.start();
        QObject::connect(&m_timer, &QTimer::timeout, context, [this] { fired(); });
    }

    // A sign of life; starts the timer when it is not running. msecs <= 0: no timeout.
    void touch(int msecs)
    {
        if (msecs <= 0)
            return;
        m_msecs = msecs;
        m_lastProgressMs = m_clock.elapsed();
        if (!m_timer.isActive())
            m_timer.start(msecs);
    }
    void stop() { m_timer.stop(); }

private:
    void fired()
    {
        const qint64 idle = m_clock.elapsed() - m_lastProgressMs;
        if (idle >= 0 && idle < m_msecs) {
            m_timer.start(int(m_msecs - idle));
            return;
        }
        m_onSilence();
    }

    std::function<void()> m_onSilence;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastProgressMs = 0;
    int m_msecs = 0;
};

#endif // QHTTPSILENCETIMER_P_H
