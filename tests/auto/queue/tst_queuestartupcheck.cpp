// The start-up check of local files runs in slices: over a large table the
// event loop turns while it runs, and the result is the one of a check done
// in one piece: rows whose file is gone archived (synced and queuedUpload
// rows only), files and partial files no row owns removed, nothing else
// touched. No transfer starts before the check is done, a stop and a start
// during it are clean, and a file saved during it stays.

#include <fakeremotequeuesuite.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <qfilesystemattachmentstorage.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtimer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <functional>

using State = QAttachmentState::State;
using Turn = QAttachmentQueuePrivate::TableWorkTurn;

namespace {
constexpr int WaitMs = 120000; // enough for 20,000 rows under sanitizers on a loaded machine
}

class tst_QueueStartupCheck : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    QTimer m_ticker;
    int m_ticks = 0;
    int m_rowsChecked = 0;
    QList<Turn> m_turns;
    QList<int> m_tickAt;
    std::function<void()> m_onTick; // runs on each tick, between turns of table work

    QAttachmentQueuePrivate *d() const { return QAttachmentQueuePrivate::get(m_queue); }
    void observeTurns()
    {
        d()->tableWorkObserver = [this](const Turn &turn) {
            m_turns.append(turn);
            m_tickAt.append(m_ticks);
            m_rowsChecked += turn.rowsChecked;
        };
    }
    bool writeFile(const QString &path, qint64 modifiedMs = -1)
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write("x") != 1)
            return false;
        file.close();
        if (modifiedMs < 0)
            return true;
        if (!file.open(QIODevice::ReadWrite))
            return false;
        return file.setFileTime(QDateTime::fromMSecsSinceEpoch(modifiedMs),
                                QFileDevice::FileModificationTime);
    }
    // An empty table and an empty directory (saveFile creates both).
    bool prepare()
    {
        if (!m_queue->saveFile("first", {}, QStringLiteral("txt")).isValid())
            return false;
        exec(QStringLiteral("DELETE FROM attachments_queue"));
        QDir files(filesDir());
        for (const QString &name : files.entryList(QDir::Files))
            files.remove(name);
        return true;
    }
    void insertRow(const QString &id, State state, bool withFile)
    {
        const QString name = id + QStringLiteral(".jpg");
        exec(QStringLiteral("INSERT INTO attachments_queue (id, filename, local_uri, timestamp, "
                            "size, state, has_synced) VALUES (?, ?, ?, 1000, 1, ?, ?)"),
             {id, name, state == State::QueuedDownload ? QVariant() : QVariant(name),
              QAttachmentState::toInt(state), state == State::Synced ? 1 : 0});
        if (withFile)
            QVERIFY(writeFile(filesDir() + QLatin1Char('/') + name));
    }
    // `n` synced rows p0.. with their files, every hundredth file gone.
    bool fillSynced(int n)
    {
        if (n == 0)
            return true;
        for (int i = 0; i < n; ++i) {
            if (i % 100 != 0 && !writeFile(filesDir() + QStringLiteral("/p%1.jpg").arg(i)))
                return false;
        }
        exec(QStringLiteral("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
                            "WHERE i < %1) INSERT INTO attachments_queue (id, filename, "
                            "local_uri, timestamp, size, state, has_synced) SELECT 'p' || i, "
                            "'p' || i || '.jpg', 'p' || i || '.jpg', 1000 + i, 1, %2, 1 FROM n")
                 .arg(n - 1)
                 .arg(QAttachmentState::toInt(State::Synced)));
        return true;
    }
    int archivedCount() const
    {
        return rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = %1")
                            .arg(QAttachmentState::toInt(State::Archived)));
    }
    bool checkDone() const { return !d()->hasTableWork(); }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        setUpQueue();
        m_queue->setOnline(false);
        m_queue->setArchivedCacheLimit(1000000); // nothing the check archives expires
        m_ticks = 0;
        m_rowsChecked = 0;
        m_turns.clear();
        m_tickAt.clear();
        m_ticker.setInterval(0);
        m_ticker.disconnect();
        m_onTick = nullptr;
        connect(&m_ticker, &QTimer::timeout, this, [this] {
            ++m_ticks;
            if (m_onTick)
                m_onTick();
        });
        m_ticker.start();
    }
    void cleanup()
    {
        m_ticker.stop();
        closeFixture();
    }

    // 20,000 rows: startSync() returns before the check is done, the event
    // loop turns many times before its last row is archived, and the queue
    // is busy until then.
    void checkRunsInSlices()
    {
        QVERIFY(prepare());
        constexpr int Rows = 20000;
        QVERIFY(fillSynced(Rows));
        int ticksAtLastArchive = -1;
        connect(m_queue, &QAttachmentQueue::attachmentChanged, this, [&](const QAttachment &row) {
            if (row.state() == State::Archived)
                ticksAtLastArchive = m_ticks;
        });
        observeTurns();
        QVERIFY(m_queue->startSync());
        const int ticksAtStart = m_ticks;
        QVERIFY(!m_queue->isIdle());
        QVERIFY(archivedCount() < Rows / 100);
        QTRY_VERIFY_WITH_TIMEOUT(checkDone(), WaitMs);
        QVERIFY(m_queue->isIdle());
        QCOMPARE(archivedCount(), Rows / 100);
        QCOMPARE(m_rowsChecked, Rows);
        // The rows were checked over many turns, with the loop running in
        // between (a few pages per turn at most).
        int checkingTurns = 0;
        for (qsizetype i = 0; i < m_turns.size(); ++i) {
            if (m_turns.at(i).rowsChecked > 0)
                ++checkingTurns;
            if (i > 0)
                QVERIFY2(m_tickAt.at(i) > m_tickAt.at(i - 1),
                         qPrintable(QStringLiteral("no event-loop turn before turn %1").arg(i)));
        }
        QVERIFY2(checkingTurns >= 10, qPrintable(QString::number(checkingTurns)));
        QVERIFY2(ticksAtLastArchive - ticksAtStart >= 10,
                 qPrintable(QStringLiteral("%1 turns of the loop during the check")
                                .arg(ticksAtLastArchive - ticksAtStart)));
    }

    // Per state, on a table of one page (checked while startSync() runs) and
    // on a larger one (listed on a thread of its own, checked in slices).
    void resultsPerState_data()
    {
        QTest::addColumn<int>("padding");
        QTest::newRow("small table") << 0;
        QTest::newRow("large table") << 1500;
    }
    void resultsPerState()
    {
        QFETCH(int, padding);
        QVERIFY(prepare());
        QVERIFY(fillSynced(padding));
        const qint64 old = QDateTime::currentMSecsSinceEpoch() - 3600 * 1000;
        insertRow(QStringLiteral("sWith"), State::Synced, true);
        insertRow(QStringLiteral("sGone"), State::Synced, false);
        insertRow(QStringLiteral("uWith"), State::QueuedUpload, true);
        insertRow(QStringLiteral("uGone"), State::QueuedUpload, false);
        insertRow(QStringLiteral("dGone"), State::QueuedDownload, false);
        insertRow(QStringLiteral("xGone"), State::QueuedDelete, false);
        insertRow(QStringLiteral("aGone"), State::Archived, false);
        // Files no row owns: an old one goes, one written since the queue
        // was made stays (its row may be about to be committed).
        QVERIFY(writeFile(filesDir() + QStringLiteral("/orphan.jpg"), old));
        QVERIFY(writeFile(filesDir() + QStringLiteral("/recent.jpg")));
        // Partial files: the downloading row's stays, the other goes.
        QFileSystemAttachmentStorage storage(filesDir());
        for (const QString &name : {QStringLiteral("dGone.jpg"), QStringLiteral("nobody.jpg")}) {
            std::unique_ptr<QIODevice> partial = storage.openPartial(name);
            QVERIFY(partial);
            QCOMPARE(partial->write("xy"), qint64(2));
        }
        QVERIFY(storage.partialNames().contains(QStringLiteral("nobody.jpg")));

        QSignalSpy changed(m_queue, &QAttachmentQueue::attachmentChanged);
        QSignalSpy uploads(m_remote, &FakeRemoteStorage::transferStarted);
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        m_queue->setDownloadAttachments(false); // the download waits, its partial file kept
        m_queue->setOnline(true);
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(checkDone(), WaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), WaitMs);

        QCOMPARE(stateOf(QStringLiteral("sWith")), State::Synced);
        QCOMPARE(stateOf(QStringLiteral("sGone")), State::Archived);
        QVERIFY(m_queue->attachment(QStringLiteral("sGone")).localUri().isEmpty());
        QCOMPARE(stateOf(QStringLiteral("uWith")), State::Synced); // uploaded after the check
        QCOMPARE(stateOf(QStringLiteral("uGone")), State::Archived);
        QVERIFY(m_queue->attachment(QStringLiteral("uGone")).localUri().isEmpty());
        QVERIFY(!m_queue->attachment(QStringLiteral("uGone")).hasSynced());
        QCOMPARE(stateOf(QStringLiteral("aGone")), State::Archived);
        QCOMPARE(archivedCount(), 3 + (padding + 99) / 100);
        // The upload without a file was never tried.
        for (const QList<QVariant> &upload : std::as_const(uploads))
            QVERIFY(upload.at(0).toString() != QStringLiteral("uGone.jpg"));
        QVERIFY(m_remote->objects.contains(QStringLiteral("uWith.jpg")));
        // Nor was any other transfer: none failed.
        QCOMPARE(failed.size(), 0);
        // Each archived row changed once.
        QStringList archived;
        for (const QList<QVariant> &args : std::as_const(changed)) {
            const QAttachment row = args.at(0).value<QAttachment>();
            if (row.state() == State::Archived)
                archived.append(row.id());
        }
        QCOMPARE(archived.size(), 2 + (padding + 99) / 100);
        QCOMPARE(archived.count(QStringLiteral("sGone")), 1);
        QCOMPARE(archived.count(QStringLiteral("uGone")), 1);

        QVERIFY(!QFile::exists(filesDir() + QStringLiteral("/orphan.jpg")));
        QVERIFY(QFile::exists(filesDir() + QStringLiteral("/recent.jpg")));
        QVERIFY(QFile::exists(filesDir() + QStringLiteral("/sWith.jpg")));
        const QStringList partials = storage.partialNames();
        QVERIFY(!partials.contains(QStringLiteral("nobody.jpg")));
        QVERIFY(partials.contains(QStringLiteral("dGone.jpg")));
    }

    // Stopped while the storage is listed and again while rows are checked,
    // then started again: the check starts over, and each row is archived
    // once.
    void stopAndStartDuringCheck()
    {
        QVERIFY(prepare());
        constexpr int Rows = 3000;
        QVERIFY(fillSynced(Rows));
        QSignalSpy changed(m_queue, &QAttachmentQueue::attachmentChanged);
        observeTurns();
        d()->sliceBudgetNs = 0;
        QVERIFY(m_queue->startSync());
        QVERIFY(d()->checkingFiles());
        m_queue->stopSyncing(); // the listing still runs
        QVERIFY(!d()->hasTableWork());
        QTest::qWait(0);
        bool stopped = false;
        int archivedBefore = -1;
        m_onTick = [&] {
            if (stopped || m_rowsChecked <= 256 || !d()->checkingFiles())
                return;
            stopped = true;
            archivedBefore = archivedCount();
            m_queue->stopSyncing();
        };
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(stopped, WaitMs);
        m_onTick = nullptr;
        QVERIFY(!d()->hasTableWork());
        QVERIFY(m_queue->isIdle());
        QVERIFY(archivedBefore > 0);
        QCOMPARE(archivedCount(), archivedBefore); // what was written stays
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(checkDone(), WaitMs);
        QCOMPARE(archivedCount(), Rows / 100);
        QSet<QString> ids;
        for (const QList<QVariant> &args : std::as_const(changed)) {
            const QAttachment row = args.at(0).value<QAttachment>();
            QCOMPARE(row.state(), State::Archived);
            QVERIFY2(!ids.contains(row.id()), qPrintable(row.id()));
            ids.insert(row.id());
        }
        QCOMPARE(ids.size(), Rows / 100);
    }

    // The queue deleted while the storage is listed on another thread.
    void deleteDuringListing()
    {
        QVERIFY(prepare());
        QVERIFY(fillSynced(3000));
        QVERIFY(m_queue->startSync());
        QVERIFY(d()->checkingFiles());
        m_queue->close();
        QVERIFY(!d()->hasTableWork());
        setUpQueue(); // deletes the queue
        QTest::qWait(50); // the listing's result, if it comes, finds nobody
        m_queue->setOnline(false);
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(checkDone(), WaitMs);
        QCOMPARE(archivedCount(), 30);
    }

    // A file saved while the check runs (after the storage was listed) is
    // neither taken for a lost file nor for an orphan.
    void rowSavedDuringCheckStays()
    {
        QVERIFY(prepare());
        QVERIFY(fillSynced(3000));
        observeTurns();
        d()->sliceBudgetNs = 0;
        QAttachment saved;
        m_onTick = [&] {
            if (saved.isValid() || m_rowsChecked == 0 || !d()->checkingFiles())
                return;
            saved = m_queue->saveFile("new", {}, QStringLiteral("jpg"));
            QVERIFY(saved.isValid());
        };
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(checkDone(), WaitMs);
        m_onTick = nullptr;
        QVERIFY(saved.isValid());
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
        QVERIFY(QFile::exists(filesDir() + QLatin1Char('/') + saved.localUri()));
        QCOMPARE(archivedCount(), 30);
    }
};

QTEST_GUILESS_MAIN(tst_QueueStartupCheck)
#include "tst_queuestartupcheck.moc"
