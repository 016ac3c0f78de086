// The app's thread never waits long for the queue: reconciliation (reading
// the table, planning, writing) and expiry of many rows run in slices with
// the event loop running in between, and a database locked by another
// connection makes the queue's writes give up quickly ("busy") and try again
// later instead of blocking. Rows written by others while a reconciliation
// runs, and watched sets that change meanwhile, are honoured.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <tableworkturns.h>
#include <testsupport.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <functional>

using State = QAttachmentState::State;

class tst_QueueSlices : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    static QList<QWatchedAttachmentItem> manyItems(int count)
    {
        QList<QWatchedAttachmentItem> items;
        items.reserve(count);
        for (int i = 0; i < count; ++i)
            items.append(
                QWatchedAttachmentItem(QStringLiteral("id-%1").arg(i), QStringLiteral("jpg")));
        return items;
    }

    QAttachmentStore &store() { return QAttachmentQueuePrivate::get(m_queue)->store; }
    int stateOf(const QString &id) const
    {
        QSqlQuery query(db());
        query.prepare(QStringLiteral("SELECT state FROM attachments_queue WHERE id = ?"));
        query.addBindValue(id);
        if (!query.exec() || !query.next())
            return -1;
        return query.value(0).toInt();
    }

    // Opens another connection to the suite's database file, `name`, and runs
    // `statements` on it; a transaction begun there stays open until
    // endOther(). False (and a warning) when something failed.
    bool beginOther(const QString &name, const QStringList &statements)
    {
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        other.setDatabaseName(db().databaseName());
        if (!other.open())
            return false;
        QSqlQuery query(other);
        for (const QString &sql : statements) {
            if (!query.exec(sql)) {
                qWarning() << sql << query.lastError().text();
                return false;
            }
        }
        return true;
    }
    // Saves `data` while another connection holds a lock: true when the save
    // was refused as busy well within Qt's busy timeout (5 s); otherwise
    // false, with a warning saying what happened.
    bool saveRefusedQuicklyAsBusy(const QByteArray &data,
                                  const QAttachmentQueue::UpdateHook &hook = {})
    {
        QElapsedTimer clock;
        clock.start();
        QString problem;
        const bool saved = m_queue
                               ->saveFile(data, QStringLiteral("text/plain"), QStringLiteral("txt"),
                                          hook, {}, &problem)
                               .isValid();
        const qint64 waited = clock.elapsed();
        if (!saved && problem.contains(QStringLiteral("busy")) && waited < 2500)
            return true;
        qWarning() << "saved:" << saved << "problem:" << problem << "waited:" << waited << "ms";
        return false;
    }
    // Ends the other connection's transaction with `sql` and closes it.
    static bool endOther(const QString &name, const QString &sql)
    {
        bool ok = false;
        {
            QSqlDatabase other = QSqlDatabase::database(name, false);
            ok = QSqlQuery(other).exec(sql);
            other.close();
        }
        QSqlDatabase::removeDatabase(name);
        return ok;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        // Offline: nothing transfers, so only the queue's table work makes it busy.
        setUpQueue(QueueSetup::tableWorkOnly());
    }
    void cleanup() { closeFixture(); }

    void reconciliationOfManyIdsLetsTheEventLoopRun()
    {
        constexpr int Count = 50000;
        QVERIFY(m_queue->startSync());
        QVERIFY(m_queue->isIdle());
        QSignalSpy changed(m_queue, &QAttachmentQueue::attachmentChanged);
        TickCounter counter(m_queue);
        m_queue->setWatchedAttachments(manyItems(Count));
        // Not all of it in the call: the rest is written from the event loop,
        // which runs other work (the timer) in between.
        QVERIFY(!m_queue->isIdle());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QVERIFY2(counter.ticksWhileWorking > 0,
                 "the event loop never ran while the reconciliation was written");
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 Count);
        QCOMPARE(changed.size(), Count);
    }

    void unwatchingManyIdsArchivesAndExpiresInSlices()
    {
        constexpr int Count = 30000;
        m_queue->setArchivedCacheLimit(100);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(manyItems(Count));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        {
            QSqlQuery query(db());
            QVERIFY(query.exec(
                QStringLiteral("UPDATE attachments_queue SET state = 3, has_synced = 1")));
        }
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        TickCounter counter(m_queue);
        m_queue->setWatchedAttachments({});
        QVERIFY(!m_queue->isIdle());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QVERIFY2(counter.ticksWhileWorking > 0,
                 "the event loop never ran while unwatched rows were archived and expired");
        // The state rules hold: every row archived, the oldest beyond the
        // cache limit deleted.
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 100);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 4")),
                 100);
        QCOMPARE(removed.size(), Count - 100);
    }

    void watchingAgainWhileSlicesRunEndsWithTheLatestSet()
    {
        constexpr int Count = 30000;
        m_queue->setArchivedCacheLimit(Count);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(manyItems(Count));
        QVERIFY(!m_queue->isIdle());
        // A new watched set arrives while the first is still being planned
        // or written: whatever of the first was written, the second wins.
        m_queue->setWatchedAttachments(manyItems(10));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 10);
        QCOMPARE(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state <> 4")),
            10);
    }

    void eachTurnHandlesABoundedNumberOfRows()
    {
        constexpr int Count = 5000;
        m_queue->setArchivedCacheLimit(100);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(manyItems(Count));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        {
            QSqlQuery query(db());
            QVERIFY(query.exec(
                QStringLiteral("UPDATE attachments_queue SET state = 3, has_synced = 1")));
        }
        TickCounter ticks(m_queue);
        TableWorkTurns turns(m_queue, &ticks);
        // Unwatching: read 5,000 rows, plan, archive 5,000, expire 4,900.
        m_queue->setWatchedAttachments({});
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QVERIFY(!turns.list.isEmpty());
        QVERIFY(turns.list.constLast().done);
        int read = 0, written = 0, expired = 0;
        for (qsizetype i = 0; i < turns.list.size(); ++i) {
            const auto &turn = turns.list.at(i);
            read += turn.rowsRead;
            written += turn.rowsWritten;
            expired += turn.rowsExpired;
            if (i == 0) {
                // The call itself runs a few steps (a small set is done at once).
                QCOMPARE(turn.steps, 8);
                continue;
            }
            QCOMPARE(turn.steps, 1);
            QVERIFY2(turn.rowsRead <= 256, qPrintable(QString::number(turn.rowsRead)));
            QVERIFY2(turn.itemsPlanned <= 1024, qPrintable(QString::number(turn.itemsPlanned)));
            QVERIFY2(turn.rowsWritten <= 256, qPrintable(QString::number(turn.rowsWritten)));
            QVERIFY2(turn.rowsExpired <= 64, qPrintable(QString::number(turn.rowsExpired)));
        }
        QCOMPARE(read, Count);
        QCOMPARE(written, Count);
        QCOMPARE(expired, Count - 100);
        // Reading alone takes 20 turns, archiving 20, expiring 77.
        QVERIFY2(turns.list.size() > 100, qPrintable(QString::number(turns.list.size())));
        // The event loop ran other work between the turns.
        const int ticksBetween = turns.tickAt.constLast() - turns.tickAt.constFirst();
        QVERIFY2(
            ticksBetween >= (turns.list.size() - 1) / 2,
            qPrintable(
                QStringLiteral("%1 ticks in %2 turns").arg(ticksBetween).arg(turns.list.size())));
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 100);
    }

    void rowsWrittenDuringAReconciliationAreHonoured()
    {
        constexpr int Count = 4000;
        m_queue->setArchivedCacheLimit(Count);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(manyItems(Count));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 Count);

        TableWorkTurns turns(m_queue, nullptr);
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        bool wroteDuringWrites = false;
        bool savedWhilePlanning = false;
        QAttachment saved(QStringLiteral("fresh"), QStringLiteral("fresh.jpg"),
                          State::QueuedUpload);
        saved.setLocalUri(QStringLiteral("fresh.jpg"));
        saved.setTimestamp(now);
        turns.onTurn = [&](const QAttachmentQueuePrivate::TableWorkTurn &turn) {
            // Once the plan (which has a new row for "fresh") is being made:
            // the app saves a file under that id.
            if (turn.itemsPlanned > 0 && !savedWhilePlanning) {
                savedWhilePlanning = true;
                QString problem;
                QVERIFY2(store().insert(saved, &problem), qPrintable(problem));
            }
            // Once the plan is being written: a download of a row planned to
            // be archived (as queued) finishes. Its archive no longer applies.
            if (turn.rowsWritten > 0 && !wroteDuringWrites) {
                wroteDuringWrites = true;
                QString problem;
                QCOMPARE(store().recordDownloaded(QStringLiteral("id-3999"),
                                                  QStringLiteral("id-3999.jpg"), 3, now,
                                                  State::QueuedDownload, &problem),
                         QAttachmentStore::Result::Applied);
            }
        };
        // Unwatch all but a new id; the call reads the first pages only.
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("fresh"), QStringLiteral("jpg"))});
        QVERIFY(!m_queue->isIdle());
        QCOMPARE(turns.list.size(), 1);
        QVERIFY(turns.list.at(0).rowsRead < Count);
        // While the table is still being read: a row read already finishes
        // its download.
        QString problem;
        QCOMPARE(store().recordDownloaded(QStringLiteral("id-1"), QStringLiteral("id-1.jpg"), 3,
                                          now, State::QueuedDownload, &problem),
                 QAttachmentStore::Result::Applied);

        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        QVERIFY(savedWhilePlanning);
        QVERIFY(wroteDuringWrites);
        QCOMPARE(errors.size(), 0);
        // Both downloaded rows are archived too (they are no longer watched)...
        QCOMPARE(stateOf(QStringLiteral("id-1")), 4);
        QCOMPARE(stateOf(QStringLiteral("id-3999")), 4);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 4")),
                 Count);
        QCOMPARE(rowCount(QStringLiteral(
                     "SELECT COUNT(*) FROM attachments_queue WHERE state = 4 AND has_synced = 1")),
                 2);
        // ...and the saved row is kept as it was written, not overwritten
        // by a new download row.
        QCOMPARE(stateOf(QStringLiteral("fresh")), 1);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), Count + 1);
    }

    void aWatchedSetChangedWhilePlanningRestartsThePlan()
    {
        constexpr int Count = 20000;
        QVERIFY(m_queue->startSync());
        TableWorkTurns turns(m_queue, nullptr);
        QSignalSpy changed(m_queue, &QAttachmentQueue::attachmentChanged);
        m_queue->setWatchedAttachments(manyItems(Count));
        // The call read the (empty) table and planned part of the set.
        QCOMPARE(turns.list.size(), 1);
        QVERIFY(turns.list.at(0).itemsPlanned > 0);
        QVERIFY(turns.list.at(0).itemsPlanned < Count);
        QCOMPARE(turns.list.at(0).rowsWritten, 0);
        m_queue->setWatchedAttachments(manyItems(10));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 120000);
        // Nothing of the superseded set was written.
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 10);
        QCOMPARE(changed.size(), 10);
    }

    void lockedDatabaseMakesSaveFileBusyNotBlocked()
    {
        QVERIFY(m_queue->startSync());
        // Another connection to the same file holds the write lock.
        const QString other = m_connection + QStringLiteral("-other");
        QVERIFY(beginOther(other, {QStringLiteral("BEGIN IMMEDIATE")}));
        QVERIFY(saveRefusedQuicklyAsBusy(QByteArray("locked out")));

        // Work that is not the app's own call waits for the lock and is done
        // once it goes.
        m_queue->setWatchedAttachments(manyItems(5));
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QVERIFY(!m_queue->isIdle());
        QVERIFY(endOther(other, QStringLiteral("ROLLBACK")));
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")), 5,
            10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        // And saving works again.
        QVERIFY(m_queue->saveFile(QByteArray("now"), QStringLiteral("text/plain")).isValid());
    }

    void aReaderOnAnotherConnectionMakesSaveFileBusyNotBlocked()
    {
        // With a rollback journal, a write's commit waits for every reader of
        // the file: another connection's open read must not hold the app's
        // thread for the connection's busy timeout either.
        {
            QSqlQuery mode(db());
            QVERIFY(mode.exec(QStringLiteral("PRAGMA journal_mode = DELETE")) && mode.next());
            QCOMPARE(mode.value(0).toString(), QStringLiteral("delete"));
        }
        const int appTimeout = rowCount(QStringLiteral("PRAGMA busy_timeout"));
        QVERIFY(appTimeout > 1000);
        QVERIFY(m_queue->startSync());
        QVERIFY(m_queue->saveFile(QByteArray("first"), {}, QStringLiteral("txt")).isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
        // Its read keeps the file's shared lock until its transaction ends.
        const QString other = m_connection + QStringLiteral("-reader");
        QVERIFY(beginOther(
            other,
            {QStringLiteral("BEGIN"), QStringLiteral("SELECT COUNT(*) FROM attachments_queue")}));
        const int filesBefore = int(QDir(filesDir()).entryList(QDir::Files).size());
        QVERIFY(saveRefusedQuicklyAsBusy(QByteArray("read over")));
        // Nothing of the refused save stays: no row, no file.
        QCOMPARE(QDir(filesDir()).entryList(QDir::Files).size(), filesBefore);

        // With an update hook the save is a transaction of the queue's own:
        // its commit gives up as quickly.
        int hookCalls = 0;
        QVERIFY(saveRefusedQuicklyAsBusy(QByteArray("hooked"),
                                         [&](QAttachmentTransaction &, const QAttachment &) {
                                             ++hookCalls;
                                             return true;
                                         }));
        QCOMPARE(hookCalls, 1);
        QCOMPARE(QDir(filesDir()).entryList(QDir::Files).size(), filesBefore);

        // The queue's own transactions (here a reconciliation's writes) give
        // up at their commit as quickly, and are written once the read ends.
        QElapsedTimer clock;
        clock.start();
        m_queue->setWatchedAttachments(manyItems(5));
        QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!m_queue->isIdle());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
        QVERIFY(endOther(other, QStringLiteral("ROLLBACK")));
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")), 5,
            10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QVERIFY(m_queue->saveFile(QByteArray("now"), {}, QStringLiteral("txt")).isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 7);
        // Each write, given up or done, gave the connection its busy timeout back.
        QCOMPARE(rowCount(QStringLiteral("PRAGMA busy_timeout")), appTimeout);
    }

    void anExclusiveLockElsewhereNeverHoldsTheEventLoop()
    {
        // With a rollback journal, another connection's write that spilled
        // (or is committing) holds the file's exclusive lock: even reads wait
        // for it. The queue's work around the event loop never does.
        {
            QSqlQuery mode(db());
            QVERIFY(mode.exec(QStringLiteral("PRAGMA journal_mode = DELETE")) && mode.next());
            QCOMPARE(mode.value(0).toString(), QStringLiteral("delete"));
        }
        // The app's rows reference five photos; the watch query reads them.
        exec(QStringLiteral("CREATE TABLE notes (photo TEXT)"));
        for (int i = 0; i < 5; ++i)
            exec(QStringLiteral("INSERT INTO notes VALUES (?)"), {QStringLiteral("id-%1").arg(i)});
        m_queue->setWatchQuery(
            QStringLiteral("SELECT photo AS id, 'jpg' AS file_extension FROM notes"));
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 5);
        // It adds two references, not committed yet.
        const QString other = m_connection + QStringLiteral("-writer");
        QVERIFY(beginOther(other,
                           {QStringLiteral("BEGIN EXCLUSIVE"),
                            QStringLiteral("INSERT INTO notes VALUES ('id-5'), ('id-6')")}));
        // The queue comes online with downloads pending, and the app keeps calling.
        qint64 longest = 0;
        QElapsedTimer clock;
        const auto timed = [&](const std::function<void()> &call) {
            clock.start();
            call();
            longest = qMax(longest, clock.elapsed());
        };
        timed([&] { m_queue->setOnline(true); });
        timed([&] { m_queue->triggerSync(); }); // runs the watch query
        timed([&] { QVERIFY(!m_queue->attachment(QStringLiteral("id-1")).isValid()); });
        QElapsedTimer total;
        total.start();
        while (total.elapsed() < 600)
            timed([] { QCoreApplication::processEvents(QEventLoop::AllEvents, 5); });
        QVERIFY2(longest < 1000, qPrintable(QString::number(longest)));
        // Nothing could be read, so nothing started.
        QCOMPARE(m_remote->started(QAttachmentTransfer::Download), 0);
        QVERIFY(endOther(other, QStringLiteral("COMMIT")));
        // Once the lock went, the queue went on by itself: the watch query
        // ran again and found the new references.
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 7, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_remote->started(QAttachmentTransfer::Download) >= 7, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 7, 5000);
    }

    // The queue's first use sets up its table: under another connection's
    // exclusive lock (a rollback journal, where even reads wait for it) that
    // waits briefly and fails as busy, and the next call after the lock
    // went sets it up.
    void firstUseUnderALockElsewhereIsRefusedQuickly()
    {
        {
            QSqlQuery mode(db());
            QVERIFY(mode.exec(QStringLiteral("PRAGMA journal_mode = DELETE")) && mode.next());
            QCOMPARE(mode.value(0).toString(), QStringLiteral("delete"));
        }
        QVERIFY(!QAttachmentQueuePrivate::get(m_queue)->ready);
        const QString other = m_connection + QStringLiteral("-first");
        QVERIFY(beginOther(
            other, {QStringLiteral("BEGIN EXCLUSIVE"), QStringLiteral("CREATE TABLE held (x)")}));
        QVERIFY(saveRefusedQuicklyAsBusy(QByteArray("first")));
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!m_queue->startSync());
        QVERIFY2(clock.elapsed() < 2500, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(!QAttachmentQueuePrivate::get(m_queue)->ready);
        QVERIFY(endOther(other, QStringLiteral("ROLLBACK")));
        QVERIFY(m_queue->startSync());
        QVERIFY(m_queue
                    ->saveFile(QByteArray("second"), QStringLiteral("text/plain"),
                               QStringLiteral("txt"))
                    .isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
    }

    void saveFileInsideTheAppsTransactionIsPartOfIt()
    {
        QVERIFY(m_queue->startSync());
        const auto othersCount = [this] {
            const QString other = m_connection + QStringLiteral("-count");
            int count = -1;
            if (beginOther(other, {})) {
                QSqlQuery query(QSqlDatabase::database(other, false));
                if (query.exec(QStringLiteral("SELECT COUNT(*) FROM attachments_queue"))
                    && query.next())
                    count = query.value(0).toInt();
            }
            endOther(other, QStringLiteral("SELECT 1"));
            return count;
        };
        QVERIFY(db().transaction());
        const QAttachment kept = m_queue->saveFile(QByteArray("kept"), {}, QStringLiteral("txt"));
        QVERIFY(kept.isValid());
        // Not committed on its own: another connection sees it only with the app's commit.
        QCOMPARE(othersCount(), 0);
        QVERIFY(db().commit());
        QCOMPARE(othersCount(), 1);

        QVERIFY(db().transaction());
        const QAttachment undone
            = m_queue->saveFile(QByteArray("undone"), {}, QStringLiteral("txt"));
        QVERIFY(undone.isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 2);
        QVERIFY(db().rollback());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1);
        QCOMPARE(stateOf(kept.id()), QAttachmentState::toInt(State::QueuedUpload));
        QCOMPARE(stateOf(undone.id()), -1);
    }
};

QTEST_MAIN(tst_QueueSlices)
#include "tst_queueslices.moc"
