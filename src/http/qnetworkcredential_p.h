#ifndef QNETWORKCREDENTIAL_P_H
#define QNETWORKCREDENTIAL_P_H

#include "qattachmenterror.h"

#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

#include <functional>
#include <memory>

// Something a request needs before it can be sent and that arrives
// asynchronously from the app: a bearer token, S3 credentials, a presigned
// request. It holds the last value, the requests waiting for the next one, a
// generation (answers to an abandoned fetch are ignored) and a timeout (an app
// that never answers fails the waiting requests instead of holding them).
//
// One fetch runs at a time: every waiter that arrives meanwhile shares it.
template<typename T>
class QNetworkCredential
{
public:
    using Answer = std::function<void(const T &value, const QAttachmentError &error)>;
    // Asks the app for a fresh value; calls `answer` once, now or later, on this thread.
    using Fetch = std::function<void(Answer answer)>;

    QNetworkCredential()
    {
        m_timer.setSingleShot(true);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            const QString message = m_timeoutMessage.arg(m_timer.interval());
            answerAll(abandon(), T(), QAttachmentError(QAttachmentError::Timeout, message));
        });
    }
    QNetworkCredential(const QNetworkCredential &) = delete;
    QNetworkCredential &operator=(const QNetworkCredential &) = delete;

    // How long a fetch may take (0: no limit), and the error text, %1 the milliseconds.
    void setTimeout(int msecs, const QString &message)
    {
        m_timeoutMs = msecs;
        m_timeoutMessage = message;
    }

    // The last value a fetch delivered (or setValue() stored).
    const T &value() const { return m_value; }
    void setValue(const T &value) { m_value = value; }
    // Forgets the value; a running fetch goes on.
    void clear() { m_value = T(); }
    bool isFetching() const { return m_fetching; }

    // Queues `waiter` for the next value and starts `fetch` unless one runs.
    // The waiter is dropped, unanswered, once `context` is destroyed (when
    // given). Answers are delivered in the order the waiters came.
    void wait(QObject *context, Answer waiter, const Fetch &fetch)
    {
        m_waiters.append({QPointer<QObject>(context), context != nullptr, std::move(waiter)});
        if (m_fetching)
            return;
        m_fetching = true;
        const int generation = ++m_generation;
        std::weak_ptr<bool> alive = m_alive;
        if (m_timeoutMs > 0)
            m_timer.start(m_timeoutMs);
        fetch([this, alive, generation](const T &value, const QAttachmentError &error) {
            if (alive.expired() || generation != m_generation || !m_fetching)
                return;
            m_fetching = false;
            m_timer.stop();
            if (!error.isError())
                m_value = value;
            answerAll(std::exchange(m_waiters, {}), value, error);
        });
    }

    // Ignores the answer of the running fetch; the waiters stay and are returned.
    struct Waiter
    {
        QPointer<QObject> context;
        bool guarded = false;
        Answer answer;
    };
    QList<Waiter> abandon()
    {
        ++m_generation;
        m_fetching = false;
        m_timer.stop();
        return std::exchange(m_waiters, {});
    }
    // Hands waiters taken with abandon() a new chance.
    void requeue(const QList<Waiter> &waiters, const Fetch &fetch)
    {
        for (const Waiter &w : waiters) {
            if (!w.guarded || w.context)
                wait(w.context, w.answer, fetch);
        }
    }

private:
    void answerAll(const QList<Waiter> &waiters, const T &value, const QAttachmentError &error)
    {
        std::weak_ptr<bool> alive = m_alive;
        for (const Waiter &w : waiters) {
            if (alive.expired())
                return; // a waiter destroyed the owner
            if (!w.guarded || w.context)
                w.answer(error.isError() ? T() : value, error);
        }
    }

    T m_value {};
    QList<Waiter> m_waiters;
    bool m_fetching = false;
    int m_generation = 0;
    int m_timeoutMs = 0;
    QString m_timeoutMessage;
    QTimer m_timer;
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);
};

#endif // QNETWORKCREDENTIAL_P_H
