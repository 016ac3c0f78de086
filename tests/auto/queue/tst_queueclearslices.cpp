// clearQueue() and expireCache() on many rows run in slices: a bounded number
// of rows (and their files) per event-loop turn, the event loop running in
// between, the rows of a small table gone before the call returns as before
// (the files follow), and what the
// app writes between slices honoured (a file saved while the queue is cleared
// stays; a row that left the archive is not expired).

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <tableworkturns.h>
#include <testsupport.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;

class tst_QueueClearSlices : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    // Ticks of a zero-delay timer, and the tick count at each turn of table
    // work: a turn that follows another with no tick in between would mean
    // the event loop did not run.
    std::unique_ptr<TickCounter> m_ticks;
    std::unique_ptr<TableWorkTurns> m_turns;

    int filesLeft() const { return int(QDir(filesDir()).entryList(QDir::Files).size()); }
    // `n` rows in `state`, each with a local file, timestamps increasing.
    bool fill(int n, State state)
    {
        if (!m_queue->saveFile("first", {}, QStringLiteral("txt")).isValid()) // creates the table
            return false;
        if (!tryExec(QStringLiteral("DELETE FROM attachments_queue")))
            return false;
        QDir files(filesDir());
        for (const QString &name : files.entryList(QDir::Files))
            files.remove(name); // the file saved above
        for (int i = 0; i < n; ++i) {
            QFile file(filesDir() + QStringLiteral("/c%1.jpg").arg(i));
            if (!file.open(QIODevice::WriteOnly) || file.write("x") != 1)
                return false;
        }
        return tryExec(
            QStringLiteral(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i "
                "< %1) INSERT INTO attachments_queue (id, filename, local_uri, timestamp, "
                "size, media_type, state, has_synced, meta_data) SELECT 'c' || i, 'c' || "
                "i || '.jpg', 'c' || i || '.jpg', 1000 + i, 1, NULL, %2, 1, NULL FROM n")
                .arg(n - 1)
                .arg(QAttachmentState::toInt(state)));
    }
    // Every turn after the first runs one step (a budget of 0).
    void observeTurns() { m_turns = std::make_unique<TableWorkTurns>(m_queue, m_ticks.get()); }
    void verifyTheLoopRanBetweenTurns()
    {
        QVERIFY(m_turns->list.size() >= 3);
        for (qsizetype i = 1; i < m_turns->tickAt.size(); ++i)
            QVERIFY2(m_turns->tickAt.at(i) > m_turns->tickAt.at(i - 1),
                     qPrintable(QStringLiteral("no event-loop tick before turn %1").arg(i)));
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        setUpQueue(QueueSetup::tableWorkOnly());
        m_ticks = std::make_unique<TickCounter>(m_queue);
    }
    void cleanup()
    {
        m_turns.reset();
        m_ticks.reset();
        closeFixture();
    }

    void clearingManyRowsRunsInSlices()
    {
        constexpr int Count = 6000;
        QVERIFY(fill(Count, State::Synced));
        QVERIFY(m_queue->startSync());
        observeTurns();
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        QVERIFY(m_queue->clearQueue());
        // The first turn cleared a part, not all.
        const int left = rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue"));
        QVERIFY2(left > 0 && left < Count, qPrintable(QString::number(left)));
        QVERIFY(!m_queue->isIdle());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QCOMPARE(removed.size(), Count);
        QCOMPARE(filesLeft(), 0);
        QVERIFY(m_turns->list.constLast().done);
        int cleared = 0;
        for (qsizetype i = 0; i < m_turns->list.size(); ++i) {
            if (i > 0) // after the first turn: one step, one page
                QVERIFY2(m_turns->list.at(i).rowsCleared <= 256,
                         qPrintable(QString::number(m_turns->list.at(i).rowsCleared)));
            cleared += m_turns->list.at(i).rowsCleared;
        }
        QCOMPARE(cleared, Count);
        verifyTheLoopRanBetweenTurns();
    }

    void aSmallQueueIsClearedWhenTheCallReturns()
    {
        QVERIFY(fill(2000, State::Synced));
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        QVERIFY(m_queue->clearQueue());
        // The rows, at once; their files in slices after.
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QCOMPARE(removed.size(), 2000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(filesLeft(), 0);
        QCOMPARE(removed.size(), 2000);
    }

    void aFileSavedWhileClearingStays()
    {
        constexpr int Count = 6000;
        QVERIFY(fill(Count, State::Synced));
        observeTurns();
        QVERIFY(m_queue->clearQueue());
        QVERIFY(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")) > 0);
        // Saved between two slices, after the call.
        QAttachment saved;
        QTimer::singleShot(0, this,
                           [&] { saved = m_queue->saveFile("kept", {}, QStringLiteral("txt")); });
        QTRY_VERIFY_WITH_TIMEOUT(saved.isValid(), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
        QCOMPARE(m_queue->attachment(saved.id()).state(), State::QueuedUpload);
        QVERIFY(QFile::exists(filesDir() + QLatin1Char('/') + saved.localUri()));
        QCOMPARE(m_queue->pendingUploads(), 1);
    }

    void clearingGoesOnAcrossStopSyncing()
    {
        QVERIFY(fill(5000, State::Synced));
        QVERIFY(m_queue->startSync());
        QVERIFY(m_queue->clearQueue());
        QVERIFY(!m_queue->isIdle());
        m_queue->stopSyncing();
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0, 120000);
        QTRY_COMPARE_WITH_TIMEOUT(filesLeft(), 0, 120000);
    }

    void expiringManyRowsRunsInSlices()
    {
        constexpr int Count = 5000;
        QVERIFY(fill(Count, State::Archived));
        m_queue->setArchivedCacheLimit(0);
        observeTurns();
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        const int now = m_queue->expireCache();
        // Its first turn: some, not all, and the count of those.
        QVERIFY2(now > 0 && now < Count, qPrintable(QString::number(now)));
        QCOMPARE(removed.size(), now);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), Count - now);
        QVERIFY(!m_queue->isIdle());
        // Expired newest first: the oldest row leaves the archive between
        // slices (the app restored it) and must stay.
        QVERIFY(tryExec(QStringLiteral("UPDATE attachments_queue SET state = 3 WHERE id = 'c0'")));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
        QCOMPARE(rowCount(QStringLiteral("SELECT state FROM attachments_queue WHERE id = 'c0'")),
                 3);
        QVERIFY(QFile::exists(filesDir() + QStringLiteral("/c0.jpg")));
        QCOMPARE(filesLeft(), 1);
        QCOMPARE(removed.size(), Count - 1);
        for (qsizetype i = 1; i < m_turns->list.size(); ++i)
            QVERIFY2(m_turns->list.at(i).rowsExpired <= 64,
                     qPrintable(QString::number(m_turns->list.at(i).rowsExpired)));
        verifyTheLoopRanBetweenTurns();
    }
};

QTEST_GUILESS_MAIN(tst_QueueClearSlices)
#include "tst_queueclearslices.moc"
