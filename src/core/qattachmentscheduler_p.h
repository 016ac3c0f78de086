#ifndef QATTACHMENTSCHEDULER_P_H
#define QATTACHMENTSCHEDULER_P_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmentstate.h"
#include "qattachmentstore_p.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>

#include <functional>

class QAttachmentJob;
class QAttachmentOperation;
class QAttachmentQueuePrivate;

// What happens to a failed attempt.
struct QAttachmentFailureDecision
{
    enum class Action {
        Retry, // the row keeps its state and is tried again after `delayMs`
        GiveUp, // the row is archived
    };
    Action action = Action::Retry;
    qint64 delayMs = 0;
};

// Runs the transfers of a queue: which pending rows start (up to
// maxConcurrentTransfers, none in backoff), the jobs in flight, the batched
// writes of their results, the retry policy (attempts, backoff, Retry-After,
// the error handler) and the timers that drive all of it.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentScheduler
{
public:
    explicit QAttachmentScheduler(QAttachmentQueuePrivate &queue);
    ~QAttachmentScheduler();

    // --- the pending rows ---------------------------------------------------
    // Something other than a finished transfer changed the table: the pending
    // rows are read again before the next start.
    void invalidatePending();
    // A row that became pending (saved) without the table being read again.
    void addPending(const QAttachment &row);
    // The table is empty (or gone): nothing is pending.
    void clearPending(bool readAgain);

    // Starts what can start, soon (coalesced) or now.
    void schedule();
    void startDue();
    // The periodic tick (syncInterval; 0 stops it) and the timers, all stopped.
    void setPeriodic(int msecs);
    // Retries at once when the system reports the network coming back.
    void followNetwork();
    void stopTimers();

    // How many rows a read of pending work takes beyond the free slots, at
    // least (eight times the transfers at once when that is more: lookAhead()).
    static constexpr int PageLookAhead = 16;
    // Called after each page of pending rows read from the table, with the
    // number of rows it held (tests look at the steps).
    std::function<void(int rows)> pageObserver;

    // --- jobs ------------------------------------------------------------------
    int activeCount() const { return int(m_jobs.size()); }
    // Transfers in flight (jobs that hold a slot): jobs whose bytes are all
    // received and whose commit was handed off hold none, nor do results
    // waiting to be written, unless writing them failed (then each keeps its
    // slot, so that no more results pile up while the table stays unwritable).
    int runningCount() const
    {
        return int(m_jobs.size()) - m_commits
            - (m_recordFailures == 0 ? int(m_finished.size()) : 0);
    }
    // Commits handed off and not reported back yet, and the most there may be
    // (beyond it a finished transfer keeps its slot until one reports back).
    int commitsInFlight() const { return m_commits + int(m_orphans.size()); }
    int commitLimit() const { return 2 * concurrencyLimit(); }
    // Rows read beyond the free slots when the window runs dry.
    int lookAhead() const;
    bool hasUnfinishedWork() const { return !m_jobs.isEmpty() || !m_finished.isEmpty(); }
    // Aborts the job of `id`; its outcome is ignored.
    void abort(const QString &id);
    // Aborts the job of `id` unless its row stays in the state it started from.
    void abortIfStale(const QString &id, QAttachmentState::State newState);
    void abortAll();
    // Writes the results of finished transfers now, then starts what can
    // start (unless told not to: the queue is stopping).
    enum FlushFollowUp { StartDue, StartNothing };
    void flush(FlushFollowUp followUp = StartDue);
    // Results finishing within this long of the last write wait for one
    // write with them: a write transaction costs more than the rows it
    // holds, and on a fast link nearly every transfer finishes in its own
    // turn of the event loop (or, one file saved after another, one at a
    // time). The first result after a pause is written at once, and so is a
    // batch that reaches concurrencyLimit().
    static constexpr int WriteGatherMs = 4;
    int writeGatherMs = WriteGatherMs; // tests lengthen it to see the gathering
    // Called after each batch of results written, with its size (for tests).
    std::function<void(int results)> writeObserver;
    // Bytes done and total of the running transfer of `id`: {-1, -1} when none runs.
    std::pair<qint64, qint64> progressOf(const QString &id) const;
    // As above, but only while the transfer runs (not once it finished).
    std::pair<qint64, qint64> liveProgressOf(const QString &id) const;

    // --- retries -----------------------------------------------------------------
    QAttachmentError lastError(const QString &id) const;
    // Milliseconds since the epoch of the next attempt of a failed `id`; -1 when
    // none waits.
    qint64 nextRetryMs(const QString &id) const;
    // Forgets the failures of `id` (it succeeded, changed or went away).
    void forget(const QString &id);
    void forgetAll();
    // Ends every backoff now; the attempt counts stay (maxAttempts applies).
    void retryNow();

    // Attachments whose last attempt failed and that wait for another one.
    int failingCount() const;

    // Transfers in flight at most: maxConcurrentTransfers, or more when the
    // remote storage suggests more (a network storage's
    // suggestedConcurrentTransfers: the connections or HTTP/2 streams it has).
    int concurrencyLimit() const;

    // Whether nothing runs and nothing could start now.
    bool isIdle() const;

    // The retry policy: the pause before attempt `attempts + 1` (with jitter,
    // within the caps), and the longest pause between two attempts.
    qint64 backoff(int attempts) const;
    qint64 retryCap() const;
    QAttachmentFailureDecision decideFailure(const QAttachmentOperation &operation,
                                             const QAttachment &row, int attempts,
                                             const QAttachmentError &error) const;

private:
    struct Retry
    {
        int attempts = 0;
        qint64 notBefore = 0; // on m_clock
        QAttachmentError error;
    };

    // Starts reading pending rows from the first one again.
    void restartScan();
    // Reads the next page of at most `limit` pending rows into m_pending.
    bool readPage(int limit);
    void startJob(const QAttachment &row);
    // Hands a finished transfer to its operation's finish() (a download's
    // commit), freeing its slot while that runs.
    void handOff(QAttachmentJob *job);
    void onFinishedOffThread(QAttachmentJob *job);
    void failToStart(QAttachmentJob *job, const QAttachmentError &error);
    void onJobFinished(QAttachmentJob *job);
    void startFlush();
    // Decides a finished job's outcome, once: keeps a download's file, asks
    // the error handler about a failure.
    void settle(QAttachmentJob *job);
    // Writes a settled outcome; false when the row could not be written
    // (`problem` says why). Side effects go to `after`, run once committed.
    bool record(QAttachmentJob *job, QList<std::function<void()>> *after, QString *problem);
    void release(QAttachmentJob *job);

    QAttachmentQueuePrivate &d;

    // Pending work, in the order it became due: a window read from the table
    // in pages (as many rows as there are free slots, and a few more), and
    // rows waiting for their backoff. The scan starts again from the first
    // row when something other than a finished transfer changed the table.
    QList<QAttachment> m_pending;
    bool m_pendingDirty = true;
    QAttachmentStore::PendingCursor m_cursor;
    bool m_scanDone = false; // the scan read the last pending row
    quint64 m_scanGeneration = 0;
    // Rows added to the window (saved) that the scan under way may still read.
    QSet<QString> m_addedAhead;
    // Commits in flight, and the jobs whose transfer finished while
    // commitLimit() commits were in flight (each keeps its slot meanwhile).
    int m_commits = 0;
    QList<QAttachmentJob *> m_commitWaiting;
    // Aborted jobs whose commit still runs: their rows start again only
    // once it is over (a new download would wait for the file's name).
    QHash<QString, QAttachmentJob *> m_orphans;
    QHash<QString, Retry> m_retries;
    QHash<QString, QAttachmentJob *> m_jobs;
    QList<QAttachmentJob *> m_finished; // each is in m_jobs too
    qint64 m_lastWrite = -1; // on m_clock, when the last batch was written
    int m_recordFailures = 0; // consecutive failed writes of finished transfers
    // While another connection's lock keeps the pending rows from being read:
    // the pause before the next try (doubling up to ReadBusyMaxMs), else 0.
    int m_readBusyMs = 0;
    static constexpr int ReadBusyFirstMs = 25;
    static constexpr int ReadBusyMaxMs = 1000;
    QElapsedTimer m_clock;

    QTimer m_pumpTimer; // zero-delay: coalesces "start what can start"
    QTimer m_retryTimer; // fires when the earliest backoff ends
    QTimer m_flushTimer; // writes finished transfers in one transaction; backs off when that fails
    QTimer m_periodicTimer; // syncInterval
    QMetaObject::Connection m_networkConnection;
};

#endif // QATTACHMENTSCHEDULER_P_H
