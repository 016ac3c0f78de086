// The queue's store keeps its prepared statements between calls: they are
// reset after each use (no read or lock left open), dropped when the
// connection, the table or the queue changes, prepared again when the app
// closed and reopened its connection, and bounded in number. A lock held by
// another connection is still reported as busy, and a view that takes writes
// through INSTEAD OF triggers works the same. Rows of watched attachments go
// into a table in batches, each row only where no row has its id.

#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>
#include <qattachmentstore_p.h>
#include <testsupport.h>

#include <QtCore/qregularexpression.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/quuid.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qtest.h>

#include <memory>

using State = QAttachmentState::State;
using Result = QAttachmentStore::Result;

namespace {

// Counts the warnings that name a connection still in use while it lives.
class InUseWarnings
{
public:
    InUseWarnings() { s_count = 0, s_previous = qInstallMessageHandler(&handle); }
    ~InUseWarnings() { qInstallMessageHandler(s_previous); }
    int count() const { return s_count; }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        if (message.contains(QLatin1String("still in use")))
            ++s_count;
        if (s_previous)
            s_previous(type, context, message);
    }
    static inline int s_count = 0;
    static inline QtMessageHandler s_previous = nullptr;
};

} // namespace

class tst_StoreStatements : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_connection;
    QString m_file;

    QSqlDatabase db() const { return QSqlDatabase::database(m_connection, false); }
    // Opens the test database; journal: its journal mode.
    void openDatabase(const QString &journal = QStringLiteral("WAL"))
    {
        m_connection = QUuid::createUuid().toString(QUuid::WithoutBraces);
        m_file = m_dir->path() + QStringLiteral("/store.db");
        QSqlDatabase database = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        database.setDatabaseName(m_file);
        QVERIFY(database.open());
        QVERIFY(QSqlQuery(database).exec(QStringLiteral("PRAGMA journal_mode=%1").arg(journal)));
    }
    // The app adds a connection of the same name on the same file again.
    void addConnectionAgain()
    {
        QSqlDatabase again = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        again.setDatabaseName(m_file);
        QVERIFY(again.open());
    }
    static QAttachment row(const QString &id, State state)
    {
        QAttachment attachment(id, id + QStringLiteral(".jpg"));
        attachment.setState(state);
        attachment.setTimestamp(1000);
        return attachment;
    }
    void makeStore(QAttachmentStore &store, const QString &table = QStringLiteral("queue"))
    {
        store.setConnectionName(m_connection);
        store.setTable(QAttachmentQueueTable(table));
        QString problem;
        QVERIFY2(store.createTable(&problem), qPrintable(problem));
    }
    // A store on table "queue" holding row "a" (queued for download), read back once.
    void makeStoreWithRow(QAttachmentStore &store)
    {
        makeStore(store);
        QString problem;
        QVERIFY2(store.insert(row(QStringLiteral("a"), State::QueuedDownload), &problem),
                 qPrintable(problem));
        QVERIFY(store.row(QStringLiteral("a"), &problem).value().isValid());
    }
    // Whether another connection can take the write lock at once: no
    // statement of ours holds a read or write open.
    bool anotherCanWrite() const
    {
        const QString name = QUuid::createUuid().toString(QUuid::WithoutBraces);
        bool ok = false;
        {
            QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            other.setDatabaseName(m_file);
            other.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=0"));
            QSqlQuery query(other);
            ok = other.open() && query.exec(QStringLiteral("BEGIN EXCLUSIVE"))
                && query.exec(QStringLiteral("ROLLBACK"));
        }
        QSqlDatabase::removeDatabase(name);
        return ok;
    }
    void makeView()
    {
        // The shape of a PowerSync local-only table: a view over another
        // table, written through INSTEAD OF triggers.
        QSqlQuery query(db());
        for (const char *sql :
             {"CREATE TABLE backing (id TEXT PRIMARY KEY, filename TEXT, local_uri TEXT, "
              "timestamp INTEGER, size INTEGER, media_type TEXT, state INTEGER, has_synced "
              "INTEGER, meta_data TEXT)",
              "CREATE VIEW queue AS SELECT id, filename, local_uri, timestamp, size, "
              "media_type, state, has_synced, meta_data FROM backing",
              "CREATE TRIGGER q_insert INSTEAD OF INSERT ON queue BEGIN INSERT INTO backing "
              "VALUES (NEW.id, NEW.filename, NEW.local_uri, NEW.timestamp, NEW.size, "
              "NEW.media_type, NEW.state, NEW.has_synced, NEW.meta_data); END",
              "CREATE TRIGGER q_update INSTEAD OF UPDATE ON queue BEGIN UPDATE backing SET "
              "filename = NEW.filename, local_uri = NEW.local_uri, timestamp = NEW.timestamp, "
              "size = NEW.size, media_type = NEW.media_type, state = NEW.state, has_synced = "
              "NEW.has_synced, meta_data = NEW.meta_data WHERE id = OLD.id; END",
              "CREATE TRIGGER q_delete INSTEAD OF DELETE ON queue BEGIN DELETE FROM backing "
              "WHERE id = OLD.id; END"}) {
            QVERIFY2(query.exec(QString::fromLatin1(sql)), qPrintable(query.lastError().text()));
        }
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }
    void cleanup()
    {
        if (!m_connection.isEmpty())
            TestSupport::closeDatabase(m_connection);
        m_connection.clear();
        m_dir.reset();
    }

    // The same call twice prepares nothing the second time.
    void statementsAreKept()
    {
        openDatabase();
        QAttachmentStore store;
        makeStore(store);
        QString problem;
        QVERIFY2(store.insert(row(QStringLiteral("a"), State::QueuedDownload), &problem),
                 qPrintable(problem));
        QVERIFY(store.row(QStringLiteral("a"), &problem).value().isValid());
        QCOMPARE(store.recordDownloaded(QStringLiteral("a"), QStringLiteral("a.jpg"), 3, 2000,
                                        State::QueuedDownload, &problem),
                 Result::Applied);
        const int kept = store.keptStatements();
        QVERIFY(kept >= 3);
        QVERIFY2(store.insert(row(QStringLiteral("b"), State::QueuedDownload), &problem),
                 qPrintable(problem));
        QCOMPARE(store.row(QStringLiteral("b"), &problem).value().state(), State::QueuedDownload);
        QCOMPARE(store.recordDownloaded(QStringLiteral("b"), QStringLiteral("b.jpg"), 3, 2000,
                                        State::QueuedDownload, &problem),
                 Result::Applied);
        QCOMPARE(store.keptStatements(), kept);
        // A write that expects another state is skipped, by the same statement.
        QCOMPARE(store.recordDownloaded(QStringLiteral("b"), QStringLiteral("b.jpg"), 3, 2000,
                                        State::QueuedDownload, &problem),
                 Result::Skipped);
        QCOMPARE(store.keptStatements(), kept);
        QVERIFY(anotherCanWrite());
    }

    // Kept statements are reset after each use, reads and writes alike, in a
    // transaction or not: nothing blocks another connection afterwards.
    void nothingStaysOpenBetweenCalls_data()
    {
        QTest::addColumn<bool>("view");
        QTest::newRow("table") << false;
        QTest::newRow("view") << true;
    }
    void nothingStaysOpenBetweenCalls()
    {
        QFETCH(bool, view);
        openDatabase(QStringLiteral("DELETE"));
        if (view)
            makeView();
        QAttachmentStore store;
        makeStore(store);
        QCOMPARE(store.isView(), view);
        QString problem;
        for (int round = 0; round < 2; ++round) {
            const QString id = QStringLiteral("r%1").arg(round);
            QVERIFY2(store.insert(row(id, State::QueuedUpload), &problem), qPrintable(problem));
            QVERIFY(anotherCanWrite());
            QVERIFY(store.row(id, &problem).value().isValid());
            QVERIFY(anotherCanWrite());
            {
                QAttachmentStore::WriteTransaction transaction(store);
                QVERIFY(transaction.isOpen());
                QCOMPARE(store.recordUploaded(id, 2000, State::QueuedUpload, &problem),
                         Result::Applied);
                QVERIFY(transaction.commit(&problem));
            }
            QVERIFY(anotherCanWrite());
            QList<QAttachmentStore::Change> applied;
            QAttachment archived = row(id, State::Archived);
            QVERIFY(store.applyChanges({{archived, State::Synced}}, &problem, &applied));
            QCOMPARE(applied.size(), 1);
            QVERIFY(anotherCanWrite());
            QList<QAttachment> page;
            QAttachmentStore::PendingCursor cursor;
            QVERIFY(store.pendingPage(&cursor, 10, &page, &problem));
            QVERIFY(anotherCanWrite());
            QList<QAttachment> deleted;
            QVERIFY(store.deleteArchived({archived}, &problem, &deleted));
            QCOMPARE(deleted.size(), 1);
            QVERIFY(anotherCanWrite());
            int uploads = -1, downloads = -1, deletes = -1;
            QVERIFY(store.pendingCounts(&uploads, &downloads, &deletes, &problem));
            QCOMPARE(uploads, 0);
            QVERIFY(anotherCanWrite());
        }
        QVERIFY(store.keptStatements() > 0);
    }

    // The app closes its connection and opens it again: the statements
    // prepared on it are prepared again, and no call fails for it.
    void closedAndReopenedConnection()
    {
        openDatabase();
        QAttachmentStore store;
        makeStoreWithRow(store);
        if (QTest::currentTestFailed())
            return;
        QString problem;
        QVERIFY(store.keptStatements() > 0);
        for (int round = 0; round < 2; ++round) {
            db().close();
            QVERIFY(db().open());
            const std::optional<QAttachment> read = store.row(QStringLiteral("a"), &problem);
            QVERIFY2(read, qPrintable(problem));
            QCOMPARE(read->state(), round == 0 ? State::QueuedDownload : State::Synced);
            if (round == 0)
                QCOMPARE(store.recordDownloaded(QStringLiteral("a"), QStringLiteral("a.jpg"), 3,
                                                2000, State::QueuedDownload, &problem),
                         Result::Applied);
            QAttachmentStore::WriteTransaction transaction(store);
            QVERIFY2(transaction.isOpen(), qPrintable(transaction.errorString()));
            QVERIFY(transaction.commit(&problem));
        }
        // Closed and not opened again: a clear failure, not a crash.
        db().close();
        QTest::ignoreMessage(QtWarningMsg, "QSqlQuery::prepare: database not open");
        QVERIFY(!store.row(QStringLiteral("a"), &problem));
        QVERIFY(!problem.isEmpty());
        QVERIFY(db().open());
        QCOMPARE(store.row(QStringLiteral("a"), &problem).value().state(), State::Synced);
    }

    // The app removes its connection and adds one of the same name: the
    // statements of the old one go with its driver.
    void replacedConnection()
    {
        openDatabase();
        QAttachmentStore store;
        makeStoreWithRow(store);
        if (QTest::currentTestFailed())
            return;
        QString problem;
        InUseWarnings warnings;
        TestSupport::closeDatabase(m_connection);
        QCOMPARE(warnings.count(), 0);
        addConnectionAgain();
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(store.row(QStringLiteral("a"), &problem).value().state(), State::QueuedDownload);
        QCOMPARE(store.recordDownloaded(QStringLiteral("a"), QStringLiteral("a.jpg"), 3, 2000,
                                        State::QueuedDownload, &problem),
                 Result::Applied);
    }

    // The table, the connection or what createTable() found changes: nothing
    // prepared for the old one is used.
    void changesDropStatements()
    {
        openDatabase();
        QAttachmentStore store;
        makeStore(store);
        QString problem;
        QVERIFY(store.insert(row(QStringLiteral("a"), State::QueuedDownload), &problem));
        QVERIFY(store.keptStatements() > 0);
        store.setTable(QAttachmentQueueTable(QStringLiteral("other")));
        QCOMPARE(store.keptStatements(), 0);
        QVERIFY(store.createTable(&problem));
        QVERIFY(store.row(QStringLiteral("a"), &problem).has_value());
        QVERIFY(!store.row(QStringLiteral("a"), &problem)->isValid()); // another table
        QVERIFY(store.keptStatements() > 0);
        store.setConnectionName(m_connection);
        QCOMPARE(store.keptStatements(), 0);
        // The table dropped and made again by the app: statements are
        // prepared again, once.
        QVERIFY(store.row(QStringLiteral("a"), &problem).has_value());
        QVERIFY(QSqlQuery(db()).exec(QStringLiteral("DROP TABLE other")));
        QVERIFY(store.createTable(&problem));
        QVERIFY(store.insert(row(QStringLiteral("b"), State::QueuedDownload), &problem));
        QCOMPARE(store.row(QStringLiteral("b"), &problem).value().state(), State::QueuedDownload);
    }

    // At most MaxKeptStatements, whatever runs.
    void boundedInNumber()
    {
        openDatabase();
        QAttachmentStore store;
        makeStore(store);
        // Each limit is a statement of its own, and so is the one restoring it.
        for (int msecs = 0; msecs < 3 * QAttachmentStore::MaxKeptStatements; ++msecs) {
            QAttachmentStore::BusyLimit limit(store, msecs);
            QVERIFY(store.keptStatements() <= QAttachmentStore::MaxKeptStatements);
        }
        QCOMPARE(store.keptStatements(), QAttachmentStore::MaxKeptStatements);
        QString problem;
        QVERIFY(store.insert(row(QStringLiteral("a"), State::QueuedDownload), &problem));
        QCOMPARE(store.row(QStringLiteral("a"), &problem).value().state(), State::QueuedDownload);
        QCOMPARE(store.keptStatements(), QAttachmentStore::MaxKeptStatements);
    }

    // Another connection's lock is reported as busy (not taken for a dead
    // statement and run again), and the same statements work once it goes.
    void busyIsStillBusy()
    {
        openDatabase(QStringLiteral("DELETE"));
        QAttachmentStore store;
        makeStoreWithRow(store);
        if (QTest::currentTestFailed())
            return;
        QString problem;
        {
            QAttachmentStore::WriteTransaction transaction(store);
            QVERIFY(transaction.commit(&problem));
        }
        const QString name = QUuid::createUuid().toString(QUuid::WithoutBraces);
        {
            QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            other.setDatabaseName(m_file);
            QVERIFY(other.open());
            QSqlQuery lock(other);
            QVERIFY(lock.exec(QStringLiteral("BEGIN EXCLUSIVE")));
            {
                QAttachmentStore::BusyLimit limit(store, 0);
                {
                    QAttachmentStore::WriteTransaction transaction(store);
                    QVERIFY(transaction.isBusy());
                }
                QVERIFY(!store.row(QStringLiteral("a"), &problem));
                QVERIFY(store.lastFailureWasBusy());
                QCOMPARE(store.recordDownloaded(QStringLiteral("a"), QStringLiteral("a.jpg"), 3,
                                                2000, State::QueuedDownload, &problem),
                         Result::Failed);
                QVERIFY(store.lastFailureWasBusy());
            }
            QVERIFY(lock.exec(QStringLiteral("ROLLBACK")));
        }
        QSqlDatabase::removeDatabase(name);
        QCOMPARE(store.row(QStringLiteral("a"), &problem).value().state(), State::QueuedDownload);
        QAttachmentStore::WriteTransaction transaction(store);
        QVERIFY(transaction.isOpen());
        QCOMPARE(store.recordDownloaded(QStringLiteral("a"), QStringLiteral("a.jpg"), 3, 2000,
                                        State::QueuedDownload, &problem),
                 Result::Applied);
        QVERIFY(transaction.commit(&problem));
        QCOMPARE(store.row(QStringLiteral("a"), &problem).value().state(), State::Synced);
    }

    // A queue that is closed keeps no statement: the app removes its
    // connection without a warning, and opens the queue again on a new one.
    void queueClosedThenConnectionRemoved()
    {
        openDatabase();
        FakeRemoteStorage remote;
        auto queue = std::make_unique<QAttachmentQueue>();
        queue->setConnectionName(m_connection);
        queue->setLocalDirectory(m_dir->path() + QStringLiteral("/files"));
        queue->setRemoteStorage(&remote);
        QVERIFY(queue->startSync());
        const QAttachment saved = queue->saveFile("bytes", {}, QStringLiteral("txt"));
        QVERIFY(saved.isValid());
        PSA_WAIT(queue->attachment(saved.id()).state() == State::Synced, 10000);
        QAttachmentStore &store = QAttachmentQueuePrivate::get(queue.get())->store;
        QVERIFY(store.keptStatements() > 0);
        queue->close();
        QCOMPARE(store.keptStatements(), 0);
        {
            InUseWarnings warnings;
            TestSupport::closeDatabase(m_connection);
            QCOMPARE(warnings.count(), 0);
        }
        addConnectionAgain();
        if (QTest::currentTestFailed())
            return;
        QVERIFY(queue->startSync());
        QCOMPARE(queue->attachment(saved.id()).state(), State::Synced);
        const QAttachment more = queue->saveFile("more", {}, QStringLiteral("txt"));
        QVERIFY(more.isValid());
        PSA_WAIT(queue->attachment(more.id()).state() == State::Synced, 10000);
        // Gone with its queue: the connection goes without a warning.
        queue.reset();
        InUseWarnings warnings;
        TestSupport::closeDatabase(m_connection);
        QCOMPARE(warnings.count(), 0);
        m_connection.clear();
    }

    // 100 watched rows, one of which the app saved meanwhile (in the second
    // batch of 32): that row is kept as it is, the 99 others are written.
    void insertWatchedKeepsRowsThatAppeared_data()
    {
        QTest::addColumn<bool>("view");
        QTest::newRow("table") << false;
        QTest::newRow("view") << true;
    }
    void insertWatchedKeepsRowsThatAppeared()
    {
        QFETCH(bool, view);
        openDatabase();
        if (view)
            makeView();
        QAttachmentStore store;
        makeStore(store);
        QString problem;
        QAttachment saved = row(QStringLiteral("w040"), State::QueuedUpload);
        saved.setFilename(QStringLiteral("mine.jpg"));
        QVERIFY2(store.insert(saved, &problem), qPrintable(problem));
        QList<QAttachment> watched;
        for (int i = 0; i < 100; ++i) {
            watched.append(
                row(QStringLiteral("w%1").arg(i, 3, 10, QLatin1Char('0')), State::QueuedDownload));
        }
        QList<QAttachment> inserted;
        QVERIFY2(store.insertWatched(watched, &problem, &inserted), qPrintable(problem));
        QCOMPARE(inserted.size(), 99);
        for (const QAttachment &attachment : std::as_const(inserted))
            QVERIFY(attachment.id() != QStringLiteral("w040"));
        QList<QAttachment> all;
        QVERIFY2(store.allRows(&all, &problem), qPrintable(problem));
        QCOMPARE(all.size(), 100);
        for (const QAttachment &attachment : std::as_const(all)) {
            if (attachment.id() == QStringLiteral("w040")) {
                QCOMPARE(attachment.filename(), QStringLiteral("mine.jpg"));
                QCOMPARE(attachment.state(), State::QueuedUpload);
            } else {
                QCOMPARE(attachment.filename(), attachment.id() + QStringLiteral(".jpg"));
                QCOMPARE(attachment.state(), State::QueuedDownload);
            }
        }
        QVERIFY(anotherCanWrite());
    }

    // An id twice in one batch is written once, without a failure.
    void insertWatchedWritesAnIdTwiceOnce()
    {
        openDatabase();
        QAttachmentStore store;
        makeStore(store);
        QList<QAttachment> watched;
        for (int i = 0; i < 40; ++i)
            watched.append(row(QStringLiteral("d%1").arg(i == 6 ? 5 : i), State::QueuedDownload));
        QString problem;
        QList<QAttachment> inserted;
        QVERIFY2(store.insertWatched(watched, &problem, &inserted), qPrintable(problem));
        QCOMPARE(inserted.size(), 39);
        QList<QAttachment> all;
        QVERIFY2(store.allRows(&all, &problem), qPrintable(problem));
        QCOMPARE(all.size(), 39);
    }

    // The app closes and opens its connection under a running queue: the
    // queue goes on, with no failure reported.
    void queueSurvivesReopen()
    {
        openDatabase();
        FakeRemoteStorage remote;
        QAttachmentQueue queue;
        queue.setConnectionName(m_connection);
        queue.setLocalDirectory(m_dir->path() + QStringLiteral("/files"));
        queue.setRemoteStorage(&remote);
        QStringList errors;
        connect(&queue, &QAttachmentQueue::errorOccurred, this,
                [&errors](const QAttachmentError &error) { errors << error.message(); });
        QVERIFY(queue.startSync());
        const QAttachment first = queue.saveFile("one", {}, QStringLiteral("txt"));
        PSA_WAIT(queue.attachment(first.id()).state() == State::Synced, 10000);
        db().close();
        QVERIFY(db().open());
        const QAttachment second = queue.saveFile("two", {}, QStringLiteral("txt"));
        QVERIFY(second.isValid());
        PSA_WAIT(queue.attachment(second.id()).state() == State::Synced, 10000);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    }
};

QTEST_GUILESS_MAIN(tst_StoreStatements)
#include "tst_storestatements.moc"
