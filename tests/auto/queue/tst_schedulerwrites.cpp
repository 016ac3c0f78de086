// Results of transfers that finish close together are written to the table
// in one transaction: the first result after a pause at once, the ones that
// follow within the gathering time together once it has passed, and a batch
// as large as the transfers at once without waiting. A result waiting to be written gives its
// transfer slot back (unless writing failed), and stopping the queue writes
// what waits instead of dropping it.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <testsupport.h>

#include <QtCore/qelapsedtimer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

// Long enough that no result is written for lack of time in a test.
constexpr int LongGatherMs = 600000;

} // namespace

class tst_SchedulerWrites : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    QList<int> m_batches; // sizes of the batches written, in order

    QAttachmentScheduler *scheduler() const
    {
        return QAttachmentQueuePrivate::get(m_queue)->scheduler.get();
    }
    // Saves `count` files while transfers are held and starts the queue;
    // `concurrency` of their uploads start. `gather`: results wait for a
    // write for as long as a test needs.
    QList<QAttachment> startHeld(int count, int concurrency, bool gather = true)
    {
        if (gather)
            scheduler()->writeGatherMs = LongGatherMs;
        m_remote->setHold(true);
        m_queue->setMaxConcurrentTransfers(concurrency);
        QList<QAttachment> saved;
        for (int i = 0; i < count; ++i) {
            saved.append(m_queue->saveFile(QByteArray::number(i), QStringLiteral("text/plain"),
                                           QStringLiteral("txt")));
        }
        if (!m_queue->startSync())
            qWarning("the queue did not start");
        return saved;
    }
    // Releases the transfer held longest and lets the queue react.
    void releaseOne()
    {
        QVERIFY(m_remote->releaseOne());
        QCoreApplication::processEvents();
    }
    int syncedCount(const QList<QAttachment> &rows) const
    {
        int n = 0;
        for (const QAttachment &row : rows)
            n += stateOf(row.id()) == State::Synced ? 1 : 0;
        return n;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        setUpQueue();
        m_batches.clear();
        scheduler()->writeObserver = [this](int results) { m_batches.append(results); };
    }
    void cleanup()
    {
        if (m_queue)
            scheduler()->writeObserver = nullptr;
        closeFixture();
    }

    // Without a longer gathering time set, many transfers finishing on a
    // fast remote are written in fewer transactions than there are files,
    // and every one of them is written.
    void manyResultsShareWrites()
    {
        QVERIFY(m_queue->startSync());
        m_queue->setMaxConcurrentTransfers(8);
        QList<QAttachment> saved;
        for (int i = 0; i < 200; ++i) {
            saved.append(m_queue->saveFile(QByteArray::number(i), QStringLiteral("text/plain"),
                                           QStringLiteral("txt")));
        }
        PSA_WAIT(syncedCount(saved) == 200, 10000);
        int written = 0;
        for (int size : std::as_const(m_batches))
            written += size;
        QCOMPARE(written, 200);
        QVERIFY2(m_batches.size() < 200, qPrintable(QString::number(m_batches.size())));
        QCOMPARE(m_remote->started(Kind::Upload), 200);
    }

    // The first result after a pause is written at once; the ones finishing
    // within the gathering time of that write wait for it to pass, the last
    // one too although nothing else is in flight, and go in one write.
    void resultsFollowingAWriteWaitForTheRest()
    {
        const QList<QAttachment> saved = startHeld(4, 4, false);
        scheduler()->writeGatherMs = 1000;
        PSA_WAIT(m_remote->running() == 4, 5000);

        releaseOne();
        PSA_WAIT(m_batches == QList<int>({1}), 5000);
        QElapsedTimer sinceWrite;
        sinceWrite.start();
        QCOMPARE(stateOf(saved.at(0).id()), State::Synced);

        releaseOne();
        releaseOne();
        releaseOne();
        QTest::qWait(50);
        if (sinceWrite.elapsed() < 1000) {
            QCOMPARE(m_batches, QList<int>({1}));
            QCOMPARE(stateOf(saved.at(3).id()), State::QueuedUpload);
        }
        PSA_WAIT(m_batches == QList<int>({1, 3}), 5000);
        QVERIFY(sinceWrite.elapsed() >= 900);
        QCOMPARE(syncedCount(saved), 4);
        QCOMPARE(m_remote->started(Kind::Upload), 4);
    }

    // A result waiting to be written holds no slot: the next upload starts
    // while it waits.
    void aWaitingResultGivesItsSlotBack()
    {
        const QList<QAttachment> saved = startHeld(4, 2);
        PSA_WAIT(m_remote->running() == 2, 5000);

        releaseOne(); // written at once; the third upload takes its slot
        PSA_WAIT(m_remote->started(Kind::Upload) == 3, 5000);
        releaseOne(); // waits; the fourth upload takes its slot
        PSA_WAIT(m_remote->started(Kind::Upload) == 4, 5000);
        QCOMPARE(m_batches, QList<int>({1}));
        QCOMPARE(stateOf(saved.at(1).id()), State::QueuedUpload);
        QCOMPARE(m_remote->running(), 2);

        m_remote->setHold(false);
        PSA_WAIT(syncedCount(saved) == 4, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 4);
    }

    // As many results waiting as transfers at once are written without
    // waiting for the gathering time.
    void aFullBatchIsWrittenAtOnce()
    {
        const QList<QAttachment> saved = startHeld(6, 2);
        PSA_WAIT(m_remote->running() == 2, 5000);

        releaseOne();
        PSA_WAIT(m_batches == QList<int>({1}), 5000);
        PSA_WAIT(m_remote->running() == 2, 5000);
        releaseOne();
        PSA_WAIT(m_remote->running() == 2, 5000);
        QCOMPARE(m_batches, QList<int>({1}));
        releaseOne();
        PSA_WAIT(m_batches == QList<int>({1, 2}), 5000);
        QCOMPARE(syncedCount(saved), 3);
    }

    // Stopping writes the results that wait, so that their transfers are not
    // done again at the next start.
    void stoppingWritesWhatWaits()
    {
        const QList<QAttachment> saved = startHeld(3, 3);
        PSA_WAIT(m_remote->running() == 3, 5000);
        releaseOne();
        PSA_WAIT(m_batches == QList<int>({1}), 5000);
        releaseOne();
        QCOMPARE(stateOf(saved.at(1).id()), State::QueuedUpload);

        m_queue->stopSyncing();
        QCOMPARE(m_batches, QList<int>({1, 1}));
        QCOMPARE(stateOf(saved.at(0).id()), State::Synced);
        QCOMPARE(stateOf(saved.at(1).id()), State::Synced);
        QCOMPARE(stateOf(saved.at(2).id()), State::QueuedUpload); // aborted in flight

        scheduler()->writeGatherMs = QAttachmentScheduler::WriteGatherMs;
        m_remote->setHold(false);
        QVERIFY(m_queue->startSync());
        PSA_WAIT(syncedCount(saved) == 3, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 4); // only the aborted one again
    }

    // While results cannot be written, each keeps its slot: no transfer
    // starts beyond the slots, and nothing is transferred twice.
    void unwritableResultsKeepTheirSlots()
    {
        const QList<QAttachment> saved = startHeld(4, 2, false);
        PSA_WAIT(m_remote->running() == 2, 5000);
        exec(QStringLiteral("PRAGMA query_only = ON"));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        releaseOne();
        PSA_WAIT(failed.count() == 1, 5000);
        releaseOne();
        PSA_WAIT(failed.count() == 2, 5000);
        QTest::qWait(300); // retried writes meanwhile, every 20 ms or more
        // The third upload may have taken the first one's slot before its
        // write failed; from then on no slot is given back.
        QVERIFY2(m_remote->started(Kind::Upload) <= 3,
                 qPrintable(QString::number(m_remote->started(Kind::Upload))));
        QVERIFY(m_batches.isEmpty());

        exec(QStringLiteral("PRAGMA query_only = OFF"));
        m_remote->setHold(false);
        PSA_WAIT(syncedCount(saved) == 4, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 4);
    }
};

QTEST_GUILESS_MAIN(tst_SchedulerWrites)
#include "tst_schedulerwrites.moc"
