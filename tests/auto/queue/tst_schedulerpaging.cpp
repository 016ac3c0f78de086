// The scheduler reads pending work in short pages, one per turn of the event
// loop, in the order rows became due whatever their state; and a download
// whose bytes are all received gives its transfer slot back while its file is
// committed off the app's thread, with the number of commits in flight
// bounded. Failed commits are retried; stopping, restarting or destroying the
// queue while commits run loses nothing and starts nothing twice.

#include <fakeremotestorage.h>
#include <heldcommitstorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <testsupport.h>

#include <QtCore/qfile.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

// A few turns of the event loop, each running what the last one posted.
void spin(int turns = 10)
{
    for (int i = 0; i < turns; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
}

} // namespace

class tst_SchedulerPaging : public HeldCommitQueueSuite
{
    Q_OBJECT

private:
    QAttachmentScheduler *scheduler() const
    {
        return QAttachmentQueuePrivate::get(m_queue)->scheduler.get();
    }
    static QString idOf(int i) { return QStringLiteral("p%1").arg(i, 4, 10, QLatin1Char('0')); }
    QByteArray contentOf(int i) const
    {
        return m_remote->objects.value(idOf(i) + QStringLiteral(".jpg"));
    }
    QByteArray fileOnDisk(int i) const
    {
        QFile file(filesDir() + QLatin1Char('/') + idOf(i) + QStringLiteral(".jpg"));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    // `count` objects on the remote, watched, their rows queued for download
    // while the queue is offline.
    void queueDownloads(int count, qint64 size = 4096)
    {
        QList<QWatchedAttachmentItem> items;
        for (int i = 0; i < count; ++i) {
            m_remote->objects.insert(idOf(i) + QStringLiteral(".jpg"),
                                     TestSupport::randomBytes(size, quint32(i + 1)));
            items.append(QWatchedAttachmentItem(idOf(i), QStringLiteral("jpg")));
        }
        m_queue->setOnline(false);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(items);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), count, 5000);
    }
    bool allSynced(int count) const
    {
        for (int i = 0; i < count; ++i) {
            if (stateOf(idOf(i)) != State::Synced)
                return false;
        }
        return true;
    }
    // Releases held commits until every row is synced.
    void finishAll(int count)
    {
        QTRY_VERIFY_WITH_TIMEOUT((m_storage->release(), allSynced(count)), 10000);
        for (int i = 0; i < count; ++i)
            QVERIFY2(fileOnDisk(i) == contentOf(i), qPrintable(idOf(i)));
    }

private Q_SLOTS:
    void init() { QVERIFY(openFixture()); }
    void cleanup() { closeFixture(); }

    // --- paging ------------------------------------------------------------------

    // 300 downloads that cannot start (downloads are off) before one delete:
    // the scheduler reaches the delete through short pages, one per turn,
    // each no longer than the free slots and the look-ahead.
    void pagesAreShortAndTheLoopRunsBetweenThem()
    {
        const int count = 300;
        queueDownloads(count);
        QSqlQuery insert(db());
        QVERIFY(insert.prepare(QStringLiteral("INSERT INTO %1 (id, filename, state, timestamp, "
                                              "has_synced) VALUES (?, ?, ?, ?, 0)")
                                   .arg(m_queue->tableName())));
        insert.addBindValue(QStringLiteral("gone"));
        insert.addBindValue(QStringLiteral("gone.jpg"));
        insert.addBindValue(QAttachmentState::toInt(State::QueuedDelete));
        insert.addBindValue(QDateTime::currentMSecsSinceEpoch() + 60000);
        QVERIFY(insert.exec());
        m_queue->setDownloadAttachments(false);
        m_queue->setMaxConcurrentTransfers(2);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), count, 5000);
        m_queue->stopSyncing();

        int ticks = 0;
        QTimer ticker;
        ticker.setInterval(0);
        connect(&ticker, &QTimer::timeout, this, [&] { ++ticks; });
        QList<int> pageRows;
        QList<int> pageTicks;
        QVERIFY(m_queue->startSync());
        scheduler()->pageObserver = [&](int rows) {
            pageRows.append(rows);
            pageTicks.append(ticks);
        };
        ticker.start();
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->started(Kind::Delete), 1, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        ticker.stop();
        scheduler()->pageObserver = nullptr;

        QCOMPARE(m_remote->started(Kind::Download), 0);
        const int pageLimit = 2 + QAttachmentScheduler::PageLookAhead;
        int total = 0;
        for (int rows : std::as_const(pageRows)) {
            QVERIFY2(rows <= pageLimit, qPrintable(QString::number(rows)));
            total += rows;
        }
        // Every pending row was read once, in about count / pageLimit pages.
        QCOMPARE(total, count + 1);
        QVERIFY2(pageRows.size() >= (count + 1) / pageLimit,
                 qPrintable(QString::number(pageRows.size())));
        // The event loop ran between any two pages.
        for (qsizetype i = 1; i < pageTicks.size(); ++i)
            QVERIFY2(pageTicks.at(i) > pageTicks.at(i - 1), qPrintable(QString::number(i)));
    }

    // Downloads and deletes interleaved by timestamp start in that order,
    // across many pages.
    void orderIsKeptAcrossStatesAndPages()
    {
        const int count = 40;
        queueDownloads(count);
        QSqlQuery query(db());
        const QString table = m_queue->tableName();
        for (int i = 0; i < count; ++i) {
            QVERIFY(query.prepare(
                QStringLiteral("UPDATE %1 SET timestamp = ? WHERE id = ?").arg(table)));
            query.addBindValue(1000 + 2 * (count - i)); // the last watched comes first
            query.addBindValue(idOf(i));
            QVERIFY(query.exec());
            QVERIFY(query.prepare(QStringLiteral("INSERT INTO %1 (id, filename, state, timestamp, "
                                                 "has_synced) VALUES (?, ?, ?, ?, 0)")
                                      .arg(table)));
            query.addBindValue(QStringLiteral("d%1").arg(i));
            query.addBindValue(QStringLiteral("d%1.jpg").arg(i));
            query.addBindValue(QAttachmentState::toInt(State::QueuedDelete));
            query.addBindValue(1000 + 2 * (count - i) + 1);
            QVERIFY(query.exec());
        }
        m_queue->stopSyncing();
        m_queue->setMaxConcurrentTransfers(1);
        QStringList started;
        connect(m_remote, &FakeRemoteStorage::transferStarted, this,
                [&](const QString &filename, Kind) {
                    if (!started.contains(filename))
                        started.append(filename);
                });
        int pages = 0;
        QVERIFY(m_queue->startSync());
        scheduler()->pageObserver = [&](int) { ++pages; };
        m_queue->setOnline(true);
        // Commits are held: released as they come, so that transfers go on.
        QTRY_COMPARE_WITH_TIMEOUT((m_storage->release(), started.size()), 2 * count, 20000);
        scheduler()->pageObserver = nullptr;
        QStringList expected;
        for (int i = count - 1; i >= 0; --i)
            expected << idOf(i) + QStringLiteral(".jpg") << QStringLiteral("d%1.jpg").arg(i);
        QCOMPARE(started, expected);
        QVERIFY2(pages >= 4, qPrintable(QString::number(pages)));
        finishAll(count);
    }

    // --- slots during commits ---------------------------------------------------

    // With 2 slots and every commit held: transfers go on while commits wait
    // (a further transfer starts beyond the 2 slots), up to 4 commits in
    // flight; beyond that a finished transfer keeps its slot.
    void aHeldCommitHoldsNoSlot()
    {
        const int count = 10;
        queueDownloads(count);
        m_queue->setMaxConcurrentTransfers(2);
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 4, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->started(Kind::Download), 6, 5000);
        spin();
        // 4 commits (the limit), 2 finished transfers waiting for one of them.
        QCOMPARE(m_storage->held.size(), 4);
        QCOMPARE(m_remote->started(Kind::Download), 6);
        QCOMPARE(scheduler()->commitsInFlight(), 4);
        QCOMPARE(scheduler()->commitLimit(), 4);
        QCOMPARE(m_queue->activeTransfers(), 6);
        for (int i = 0; i < count; ++i)
            QCOMPARE(stateOf(idOf(i)), State::QueuedDownload);
        QVERIFY(!m_queue->isIdle());
        finishAll(count);
        QCOMPARE(m_storage->mostHeld, 4);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(m_remote->started(Kind::Download), count);
    }

    // A commit that fails after its slot went to another transfer goes
    // through the normal retry path.
    void aFailedCommitIsRetried()
    {
        queueDownloads(2);
        m_queue->setMaxConcurrentTransfers(1);
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 2, 5000);
        QCOMPARE(m_remote->started(Kind::Download), 2);
        const QString first = m_storage->held.first().name;
        QVERIFY(QFile::resize(filesDir() + QStringLiteral("/.partial/") + first, 10));
        m_storage->release();
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 5000);
        QCOMPARE(failed.first().at(0).toString() + QStringLiteral(".jpg"), first);
        const auto error = failed.first().at(2).value<QAttachmentError>();
        QCOMPARE(error.code(), QAttachmentError::LocalStorageError);
        QVERIFY(failed.first().at(3).toBool()); // retried
        finishAll(2);
        QCOMPARE(m_remote->started(Kind::Download), 3);
    }

    // Stopped (or destroyed) with commits held and a finished transfer
    // waiting for one: no row is marked synced, and a restart completes all.
    void stoppedWhileCommitsAreHeld_data()
    {
        QTest::addColumn<bool>("destroy");
        QTest::newRow("stopped") << false;
        QTest::newRow("destroyed") << true;
    }
    void stoppedWhileCommitsAreHeld()
    {
        QFETCH(bool, destroy);
        const int count = 4;
        queueDownloads(count);
        m_queue->setMaxConcurrentTransfers(1);
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 2, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->started(Kind::Download), 3, 5000);
        const QStringList names = {m_storage->held.at(0).name, m_storage->held.at(1).name};
        if (destroy) {
            delete m_queue;
            m_queue = nullptr;
        } else {
            m_queue->stopSyncing();
        }
        m_storage->release();
        for (const QString &name : names)
            m_storage->waitForCommit(name);
        spin();
        if (destroy)
            newQueue();
        for (int i = 0; i < count; ++i)
            QCOMPARE(stateOf(idOf(i)), State::QueuedDownload);
        QVERIFY(m_queue->startSync());
        m_queue->setOnline(true);
        finishAll(count);
    }

    // Restarted while a download's commit runs: the same row does not start
    // again until that commit is over, then it completes.
    void notStartedAgainWhileItsCommitRuns()
    {
        queueDownloads(1);
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 1, 5000);
        m_queue->stopSyncing();
        QVERIFY(m_queue->startSync());
        spin();
        QCOMPARE(m_remote->started(Kind::Download), 1);
        QCOMPARE(scheduler()->commitsInFlight(), 1);
        m_storage->release();
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->started(Kind::Download), 2, 5000);
        finishAll(1);
    }
};

QTEST_GUILESS_MAIN(tst_SchedulerPaging)
#include "tst_schedulerpaging.moc"
