// SQLite's WAL checkpoints run off the queue's thread: on a file database in
// WAL mode the queue's connection has its auto-checkpoint off while the queue
// uses it, a connection of the queue's own on a worker thread copies the log
// back into the database file, and the setting comes back when the queue lets
// go of the connection. In-memory databases, non-WAL ones and an opt-out keep
// SQLite's own behaviour. Nothing written is lost across a restart, and a
// database whose queue table is a view (as on PowerSync) works the same.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <testsupport.h>

#include <QtCore/qfileinfo.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

class tst_QueueCheckpoint : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    int pragma(const QString &sql) const { return rowCount(sql); }
    void dropQueue()
    {
        delete m_queue;
        m_queue = nullptr;
    }
    qint64 databaseFileSize() const { return QFileInfo(db().databaseName()).size(); }
    QAttachmentCheckpointer &checkpointer()
    {
        return QAttachmentQueuePrivate::get(m_queue)->checkpointer;
    }
    static QList<QWatchedAttachmentItem> manyItems(int count, const QString &prefix)
    {
        QList<QWatchedAttachmentItem> items;
        for (int i = 0; i < count; ++i)
            items.append(
                QWatchedAttachmentItem(prefix + QString::number(i), QStringLiteral("jpg")));
        return items;
    }
    // A new queue, offline (only its own table work runs), with background
    // checkpoints unless `backgroundCheckpoints` is false (the default then).
    void newQueue(bool backgroundCheckpoints = true)
    {
        setUpQueue(QueueSetup::tableWorkOnly());
        if (backgroundCheckpoints)
            m_queue->setBackgroundCheckpoints(true); // opt-in
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture()); // a database file, in WAL mode
        newQueue();
    }
    void cleanup() { closeFixture(); }

    void autoCheckpointIsOffWhileTheQueueUsesTheConnection()
    {
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
        QVERIFY(m_queue->startSync());
        QVERIFY(checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
        // close() lets go of the connection: SQLite's setting comes back.
        m_queue->close();
        QVERIFY(!checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
        // saveFile() alone (before any startSync) readies the queue too.
        QVERIFY(m_queue->saveFile("x", {}, QStringLiteral("txt")).isValid());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
        // A value the app chose is what comes back.
        dropQueue();
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
        QVERIFY(tryExec(QStringLiteral("PRAGMA wal_autocheckpoint = 77")));
        newQueue();
        QVERIFY(m_queue->startSync());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
        dropQueue();
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 77);
    }

    void sqlitesOwnCheckpointsByDefault()
    {
        newQueue(false);
        QVERIFY(!m_queue->backgroundCheckpoints());
        QVERIFY(m_queue->startSync());
        QVERIFY(!checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
    }

    void theOptOutKeepsSQLitesCheckpoints()
    {
        QSignalSpy changed(m_queue, &QAttachmentQueue::backgroundCheckpointsChanged);
        QVERIFY(m_queue->backgroundCheckpoints());
        QVERIFY(m_queue->startSync());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
        m_queue->setBackgroundCheckpoints(false);
        QCOMPARE(changed.count(), 1);
        QVERIFY(!checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
        m_queue->setBackgroundCheckpoints(true);
        QCOMPARE(changed.count(), 2);
        QVERIFY(checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
    }

    void nonWalAndInMemoryDatabasesAreLeftAlone()
    {
        dropQueue();
        const QString memory = QStringLiteral("checkpoint-memory");
        {
            QSqlDatabase mem = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), memory);
            mem.setDatabaseName(QStringLiteral(":memory:"));
            QVERIFY(mem.open());
        }
        const QString rollback = QStringLiteral("checkpoint-rollback");
        {
            QSqlDatabase file = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), rollback);
            file.setDatabaseName(m_dir->path() + QStringLiteral("/rollback.db"));
            QVERIFY(file.open());
            QSqlQuery(file).exec(QStringLiteral("PRAGMA journal_mode=DELETE"));
        }
        for (const QString &name : {memory, rollback}) {
            QAttachmentQueue queue;
            queue.setConnectionName(name);
            queue.setLocalDirectory(m_dir->path() + QStringLiteral("/files-") + name);
            queue.setRemoteStorage(m_remote);
            queue.setOnline(false);
            QVERIFY(queue.startSync());
            QVERIFY(queue.saveFile("x", {}, QStringLiteral("txt")).isValid());
            QVERIFY2(!QAttachmentQueuePrivate::get(&queue)->checkpointer.isRunning(),
                     qPrintable(name));
        }
        TestSupport::closeDatabase(memory);
        TestSupport::closeDatabase(rollback);
    }

    void theWorkerCopiesTheLogIntoTheDatabaseFile()
    {
        QVERIFY(m_queue->startSync());
        QVERIFY(checkpointer().isRunning());
        // Whatever startSync wrote is copied back once the queue is idle.
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer().stats().checkpoints >= 1, 5000);
        const qint64 before = databaseFileSize();
        const QAttachmentCheckpointer::Stats first = checkpointer().stats();

        // 3,000 new rows: far fewer pages than SQLite's own 1,000-page
        // threshold, so nothing but the worker copies them into the file.
        m_queue->setWatchedAttachments(manyItems(3000, QStringLiteral("w")));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 3000);
        QTRY_VERIFY_WITH_TIMEOUT(databaseFileSize() > before, 5000);
        // The file grows while the checkpoint copies; its count follows.
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer().stats().framesCopied > first.framesCopied, 5000);
        const QAttachmentCheckpointer::Stats after = checkpointer().stats();
        QVERIFY(after.checkpoints > first.checkpoints);
        QVERIFY(after.lastError.isEmpty());
    }

    void theAppsOwnWritesOnTheConnectionAreCheckpointedToo()
    {
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer().stats().checkpoints >= 1, 5000);
        QVERIFY(tryExec(QStringLiteral("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")));
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer().stats().framesCopied > 0, 5000);
        const qint64 before = databaseFileSize();
        // The app writes on the queue's connection without the queue knowing:
        // the worker's periodic checkpoint copies it.
        QVERIFY(db().transaction());
        for (int i = 0; i < 2000; ++i)
            QVERIFY(tryExec(QStringLiteral("INSERT INTO notes (body) VALUES ('%1')")
                                .arg(QString(200, QLatin1Char('n')))));
        QVERIFY(db().commit());
        QTRY_VERIFY_WITH_TIMEOUT(databaseFileSize() > before + 200 * 1024,
                                 QAttachmentCheckpointer::SweepMs * 3);
    }

    void nothingIsLostAcrossStopAndRestart()
    {
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(manyItems(500, QStringLiteral("r")));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        for (int i = 0; i < 20; ++i)
            QVERIFY(m_queue->saveFile(QByteArray("saved"), {}, QStringLiteral("txt")).isValid());
        // Destroyed right after its last commit, before a checkpoint could
        // follow; then the connection is closed and opened again.
        dropQueue();
        const QString path = db().databaseName();
        TestSupport::closeDatabase(m_connection);
        {
            QSqlDatabase again = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
            again.setDatabaseName(path);
            QVERIFY(again.open());
        }
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 520);
        QCOMPARE(rowCount(QStringLiteral("PRAGMA integrity_check")), 0); // "ok" reads as 0
        newQueue();
        QVERIFY(m_queue->startSync());
        QCOMPARE(m_queue->attachments().size(), 520);
        QVERIFY(checkpointer().isRunning());
    }

    void aQueueTableThatIsAViewWorksTheSame()
    {
        // The shape of a PowerSync database: the queue's "table" is a view
        // over another table, written through INSTEAD OF triggers, next to
        // the app's own data on the same connection.
        dropQueue();
        QVERIFY(tryExec(QStringLiteral(
            "CREATE TABLE backing (id TEXT PRIMARY KEY, filename TEXT, local_uri TEXT, "
            "timestamp INTEGER, size INTEGER, media_type TEXT, state INTEGER, has_synced "
            "INTEGER, meta_data TEXT)")));
        QVERIFY(tryExec(QStringLiteral("CREATE VIEW attachments_queue AS SELECT id, filename, "
                                       "local_uri, timestamp, size, media_type, state, has_synced, "
                                       "meta_data FROM backing")));
        QVERIFY(tryExec(QStringLiteral(
            "CREATE TRIGGER aq_insert INSTEAD OF INSERT ON attachments_queue BEGIN INSERT INTO "
            "backing VALUES (NEW.id, NEW.filename, NEW.local_uri, NEW.timestamp, NEW.size, "
            "NEW.media_type, NEW.state, NEW.has_synced, NEW.meta_data); END")));
        QVERIFY(tryExec(QStringLiteral(
            "CREATE TRIGGER aq_update INSTEAD OF UPDATE ON attachments_queue BEGIN UPDATE backing "
            "SET filename = NEW.filename, local_uri = NEW.local_uri, timestamp = NEW.timestamp, "
            "size = NEW.size, media_type = NEW.media_type, state = NEW.state, has_synced = "
            "NEW.has_synced, meta_data = NEW.meta_data WHERE id = OLD.id; END")));
        QVERIFY(tryExec(QStringLiteral(
            "CREATE TRIGGER aq_delete INSTEAD OF DELETE ON attachments_queue BEGIN DELETE FROM "
            "backing WHERE id = OLD.id; END")));
        QVERIFY(tryExec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)")));
        newQueue();
        m_queue->setWatchQuery(QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension "
                                              "FROM items WHERE photo_id IS NOT NULL"));
        m_queue->setWatchTables({QStringLiteral("items")});
        QVERIFY(m_queue->startSync());
        QVERIFY(checkpointer().isRunning());
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 0);
        QTRY_VERIFY_WITH_TIMEOUT(checkpointer().stats().checkpoints >= 1, 5000);
        const qint64 before = databaseFileSize();

        QVERIFY(db().transaction());
        for (int i = 0; i < 1500; ++i)
            QVERIFY(tryExec(QStringLiteral("INSERT INTO items VALUES ('i%1', 'p%1')").arg(i)));
        QVERIFY(db().commit());
        QTRY_COMPARE_WITH_TIMEOUT(rowCount(QStringLiteral("SELECT COUNT(*) FROM backing")), 1500,
                                  10000);
        const QAttachment saved = m_queue->saveFile("mine", {}, QStringLiteral("txt"));
        QVERIFY(saved.isValid());
        QCOMPARE(m_queue->attachment(saved.id()).state(), QAttachmentState::QueuedUpload);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(databaseFileSize() > before, 5000);
        dropQueue();
        QCOMPARE(pragma(QStringLiteral("PRAGMA wal_autocheckpoint")), 1000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 1501);
    }
};

QTEST_GUILESS_MAIN(tst_QueueCheckpoint)
#include "tst_queuecheckpoint.moc"
