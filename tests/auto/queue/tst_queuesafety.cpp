// The queue under a hostile environment: a full disk, a crash that leaves
// files behind, a tampered table, links planted in the storage root, a
// database that cannot be written, and servers that answer 404 or ask for
// long pauses. Nothing may be corrupted, leaked or transferred forever.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentlocalstorage.h>
#include <qattachmentqueue.h>
#include <qfilesystemattachmentstorage.h>
#include <testsupport.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <unistd.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

// A tmpfs of `size` bytes at `path`, for running out of space for real.
// Needs root (tests run as root in CI); elsewhere the test skips and says why.
class SmallDisk
{
public:
    SmallDisk(const QString &path, qint64 size)
        : m_path(path)
    {
        QDir().mkpath(path);
        if (::geteuid() != 0) {
            m_problem = QStringLiteral("mounting a small tmpfs needs root");
            return;
        }
        QProcess mount;
        mount.start(QStringLiteral("mount"),
                    {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                     QStringLiteral("size=%1").arg(size), QStringLiteral("tmpfs"), path});
        if (!mount.waitForFinished(10000) || mount.exitCode() != 0) {
            m_problem = QStringLiteral("mount -t tmpfs failed: %1")
                            .arg(QString::fromLocal8Bit(mount.readAllStandardError()).trimmed());
            return;
        }
        m_mounted = true;
    }
    ~SmallDisk()
    {
        if (m_mounted)
            QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), m_path});
    }
    bool grow(qint64 size)
    {
        return QProcess::execute(
                   QStringLiteral("mount"),
                   {QStringLiteral("-o"), QStringLiteral("remount,size=%1").arg(size), m_path})
            == 0;
    }
    QString problem() const { return m_problem; }

private:
    QString m_path;
    QString m_problem;
    bool m_mounted = false;
};

} // namespace

class tst_QueueSafety : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    void insertRow(const QString &id, const QString &filename, const QVariant &localUri, int state,
                   bool hasSynced = false, const QVariant &mediaType = {})
    {
        exec(QStringLiteral("INSERT INTO attachments_queue (id, filename, local_uri, timestamp, "
                            "size, media_type, state, has_synced) VALUES (?, ?, ?, 1, 0, ?, ?, ?)"),
             {id, filename, localUri, mediaType, state, hasSynced ? 1 : 0});
    }
    void writeFile(const QString &path, const QByteArray &data)
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size())
            qFatal("cannot write %s", qPrintable(path));
    }
    void makeOld(const QString &path)
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadWrite)
            || !file.setFileTime(QDateTime::currentDateTime().addDays(-1),
                                 QFileDevice::FileModificationTime))
            qFatal("cannot date %s back", qPrintable(path));
    }
    int countErrorsAbout(const QSignalSpy &spy, const QString &text) const
    {
        int n = 0;
        for (const QList<QVariant> &args : spy)
            n += args.at(0).value<QAttachmentError>().message().contains(text) ? 1 : 0;
        return n;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        exec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)"));
        setUpQueue();
        QString error;
        // Creates the table, so that tests can write rows as a tampered database would.
        QVERIFY2(m_queue->attachments().isEmpty(), qPrintable(error));
    }
    void cleanup() { closeFixture(); }

    // --- a full disk ----------------------------------------------------------------
    void downloadThatRunsOutOfSpaceStaysQueued()
    {
        const QString mountPoint = m_dir->path() + QStringLiteral("/small");
        SmallDisk disk(mountPoint, 512 * 1024);
        if (!disk.problem().isEmpty())
            QSKIP(qPrintable(disk.problem()));
        // Written in 4 KiB pieces, like a network download: the disk fills up
        // a few KiB before the end.
        const QByteArray photo = TestSupport::randomBytes(512 * 1024 + 8 * 1024, 7);
        m_remote->objects.insert(QStringLiteral("p1.jpg"), photo);
        m_remote->setChunkSize(4096);
        setUpQueue(QueueSetup {mountPoint + QStringLiteral("/files")});
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        m_queue->setRetryDelay(60000); // one failure to look at
        m_queue->setMaxRetryDelay(60000);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 5000);
        const auto error = failed.first().at(2).value<QAttachmentError>();
        QCOMPARE(error.code(), QAttachmentError::LocalStorageError);
        QVERIFY2(error.message().contains(QStringLiteral("No space left on device")),
                 qPrintable(error.message()));
        QVERIFY(failed.first().at(3).toBool()); // retried
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        QVERIFY(!QFile::exists(mountPoint + QStringLiteral("/files/p1.jpg")));

        // Space comes back: the download completes, byte for byte.
        QVERIFY(disk.grow(4 * 1024 * 1024));
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QFile file(mountPoint + QStringLiteral("/files/p1.jpg"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.size(), photo.size());
        QVERIFY(file.readAll() == photo);
    }

    void saveFileOnAFullDiskSaysWhy()
    {
        const QString mountPoint = m_dir->path() + QStringLiteral("/small");
        SmallDisk disk(mountPoint, 256 * 1024);
        if (!disk.problem().isEmpty())
            QSKIP(qPrintable(disk.problem()));
        setUpQueue(QueueSetup {mountPoint + QStringLiteral("/files")});
        QString error;
        const QAttachment saved
            = m_queue->saveFile(TestSupport::randomBytes(400 * 1024), QStringLiteral("image/jpeg"),
                                QStringLiteral("jpg"), {}, {}, &error);
        QVERIFY(!saved.isValid());
        QVERIFY2(error.contains(QStringLiteral("No space left on device")), qPrintable(error));
        QVERIFY(m_queue->attachments().isEmpty());
        const QStringList left = QDir(mountPoint + QStringLiteral("/files")).entryList(QDir::Files);
        QVERIFY2(left.isEmpty(), qPrintable(left.join(u',')));
    }

    // --- files nobody owns ------------------------------------------------------------
    void startupRemovesFilesAndPartialsNoRowOwns()
    {
        // Left by a crash inside saveFile (file written, row never committed),
        // by a download whose row was archived, and by a stale QSaveFile.
        const QString orphan = filesDir() + QStringLiteral("/0b5c-orphan.jpg");
        const QString stalePartial = filesDir() + QStringLiteral("/.partial/gone.jpg");
        const QString staleValidator
            = filesDir() + QStringLiteral("/.partial/.validators/lost.jpg");
        writeFile(orphan, "orphan");
        writeFile(stalePartial, "half");
        writeFile(staleValidator, "\"etag\"");
        makeOld(orphan);
        // Owned, and so kept: a synced row's file, a download's partial file,
        // and a file newer than this run (its row may be about to commit).
        insertRow(QStringLiteral("s1"), QStringLiteral("s1.jpg"), QStringLiteral("s1.jpg"),
                  int(State::Synced), true);
        insertRow(QStringLiteral("d1"), QStringLiteral("d1.jpg"), {}, int(State::QueuedDownload));
        writeFile(filesDir() + QStringLiteral("/s1.jpg"), "synced");
        makeOld(filesDir() + QStringLiteral("/s1.jpg"));
        writeFile(filesDir() + QStringLiteral("/.partial/d1.jpg"), "resumable");
        setUpQueue(); // this run starts now
        const QString fresh = filesDir() + QStringLiteral("/fresh.jpg");
        writeFile(fresh, "being saved");

        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        QVERIFY(!QFile::exists(orphan));
        QVERIFY(!QFile::exists(stalePartial));
        QVERIFY(!QFile::exists(staleValidator));
        QVERIFY(QFile::exists(filesDir() + QStringLiteral("/s1.jpg")));
        QVERIFY(QFile::exists(filesDir() + QStringLiteral("/.partial/d1.jpg")));
        QVERIFY(QFile::exists(fresh));
        QCOMPARE(stateOf(QStringLiteral("s1")), State::Synced);
    }

    void failedDownloadThatIsUnreferencedLeavesNoPartialFile()
    {
        m_remote->failNext(
            Kind::Download,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("500"), 500));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        m_queue->setRetryDelay(60000);
        m_queue->setMaxRetryDelay(60000);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(QStringLiteral("p1")), State::Archived);
        const QStringList partials
            = QDir(filesDir() + QStringLiteral("/.partial")).entryList(QDir::Files | QDir::Hidden);
        QVERIFY2(partials.isEmpty(), qPrintable(partials.join(u',')));
    }

    // --- one file per attachment --------------------------------------------------------
    void twoRowsNeverShareALocalFile()
    {
        m_remote->objects.insert(QStringLiteral("photo.jpg"), "the one remote photo");
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("a"), {}, QStringLiteral("photo.jpg")),
             QWatchedAttachmentItem(QStringLiteral("b"), {}, QStringLiteral("photo.jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("a")), State::Synced, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("b")), State::Synced, 5000);
        const QAttachment a = m_queue->attachment(QStringLiteral("a"));
        const QAttachment b = m_queue->attachment(QStringLiteral("b"));
        QCOMPARE(a.filename(), QStringLiteral("photo.jpg")); // the remote key stays
        QVERIFY(a.localUri() != b.localUri());

        // Expiring one keeps the other's file.
        m_queue->setArchivedCacheLimit(0);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("b"), {}, QStringLiteral("photo.jpg"))});
        // Archiving and expiry run in slices from the event loop.
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(QStringLiteral("a")).isValid(), 5000);
        QCOMPARE(stateOf(QStringLiteral("b")), State::Synced);
        QFile file(m_queue->localUrl(QStringLiteral("b")).toLocalFile());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("the one remote photo"));
    }

    // --- a tampered table --------------------------------------------------------------
    void rowThatPointsOutsideTheRootIsLeftAlone()
    {
        m_remote->objects.insert(QStringLiteral("../../x"), "planted");
        insertRow(QStringLiteral("t1"), QStringLiteral("../../x"), {}, int(State::QueuedDownload));
        insertRow(QStringLiteral("t2"), QStringLiteral("t2.jpg"), QStringLiteral("../../y"),
                  int(State::Synced), true);
        insertRow(QStringLiteral("t3"), QStringLiteral("t3.txt"), QStringLiteral("t3.txt"),
                  int(State::QueuedUpload), false, QStringLiteral("text/plain\r\nX-Injected: 1"));
        writeFile(filesDir() + QStringLiteral("/t3.txt"), "upload me");
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(QStringLiteral("t1"), {}),
                                        QWatchedAttachmentItem(QStringLiteral("t2"), {}),
                                        QWatchedAttachmentItem(QStringLiteral("t3"), {})});
        m_queue->triggerSync();
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(m_remote->started(Kind::Download), 0);
        QCOMPARE(m_remote->started(Kind::Upload), 0);
        QCOMPARE(stateOf(QStringLiteral("t1")), State::QueuedDownload);
        QCOMPARE(stateOf(QStringLiteral("t2")), State::Synced);
        QCOMPARE(stateOf(QStringLiteral("t3")), State::QueuedUpload);
        QVERIFY(!QFile::exists(m_dir->path() + QStringLiteral("/x")));
        QVERIFY(m_queue->localUrl(QStringLiteral("t2")).isEmpty());
        // Each reported once, however often the queue looks at it.
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("row t1 ")), 1);
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("row t2 ")), 1);
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("row t3 ")), 1);
    }

    void rowWithAnUnknownStateIsInvalidAndReportedOnce()
    {
        insertRow(QStringLiteral("u1"), QStringLiteral("u1.jpg"), {}, 99);
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({});
        m_queue->triggerSync();
        m_queue->triggerSync();
        const QAttachment row = m_queue->attachment(QStringLiteral("u1"));
        QCOMPARE(row.state(), State::Invalid);
        QCOMPARE(QAttachmentState::name(row.state()), QStringLiteral("invalid"));
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("row u1 ")), 1);
        // Never archived (or expired) behind the app's back.
        QSqlQuery query(db());
        QVERIFY(query.exec(QStringLiteral("SELECT state FROM attachments_queue WHERE id = 'u1'")));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), 99);
    }

    void aFailingWatchQueryIsReportedOncePerCause()
    {
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        m_queue->setWatchQuery(QStringLiteral("SELECT photo_id AS id FROM no_such_table"));
        QVERIFY(m_queue->startSync());
        m_queue->triggerSync();
        m_queue->triggerSync();
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("watch query")), 1);
        QCOMPARE(errors.count(), 1);
    }

    void aWatchQueryThatFailsHalfWayChangesNothing()
    {
        // Five references are watched and synced as queued downloads.
        for (int i = 0; i < 5; ++i)
            exec(QStringLiteral("INSERT INTO items VALUES (?, ?)"),
                 {QStringLiteral("i%1").arg(i), QStringLiteral("p%1").arg(i)});
        m_queue->setWatchQuery(QStringLiteral("SELECT photo_id AS id FROM items ORDER BY id"));
        QVERIFY(m_queue->startSync());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 5);
        // A query that returns two rows, then fails at the third (SQLite
        // raises "integer overflow" there): the two are not the watched set.
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        m_queue->setWatchQuery(QStringLiteral(
            "SELECT CASE WHEN id = 'i2' THEN abs(-9223372036854775808) ELSE photo_id END AS id "
            "FROM items ORDER BY items.id"));
        m_queue->triggerSync();
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(countErrorsAbout(errors, QStringLiteral("watch query")), 1);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 5);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 4")),
                 0);
    }

    void aQueueThatCannotStartSaysSoOnce()
    {
        TestSupport::closeDatabase(m_connection);
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QVERIFY(!m_queue->startSync());
        QCOMPARE(errors.count(), 1);
        m_connection = TestSupport::openDatabase(m_dir->path());
    }

    // --- links in the storage root ---------------------------------------------------------
    void linksInTheRootAreNeverFollowed()
    {
        const QString outside = m_dir->path() + QStringLiteral("/outside.txt");
        writeFile(outside, "secret");
        QFileSystemAttachmentStorage storage(filesDir());
        QVERIFY(storage.initialize());
        QVERIFY(QFile::link(outside, filesDir() + QStringLiteral("/a.txt")));
        QVERIFY(QFile::link(outside, filesDir() + QStringLiteral("/.partial/b.txt")));

        QString error;
        QVERIFY(!storage.openForReading(QStringLiteral("a.txt"), &error));
        QVERIFY2(error.contains(QStringLiteral("symbolic link")), qPrintable(error));
        QVERIFY(!storage.exists(QStringLiteral("a.txt")));
#ifdef Q_OS_UNIX
        // A save replaces the link itself, in one step, and writes nothing through it.
        QCOMPARE(storage.save(QStringLiteral("a.txt"), QByteArray("overwrite"), &error), 9);
        QVERIFY(!QFileInfo(filesDir() + QStringLiteral("/a.txt")).isSymLink());
        QVERIFY(storage.exists(QStringLiteral("a.txt")));
#else
        QCOMPARE(storage.save(QStringLiteral("a.txt"), QByteArray("overwrite"), &error), -1);
#endif
        QVERIFY(!storage.openPartial(QStringLiteral("b.txt"), &error));
        QVERIFY(!storage.commitPartial(QStringLiteral("b.txt"), 3, &error));
        QVERIFY(storage.remove(QStringLiteral("a.txt"), &error)); // the link, not its target
        QVERIFY(storage.removePartial(QStringLiteral("b.txt")));
        QFile secret(outside);
        QVERIFY(secret.open(QIODevice::ReadOnly));
        QCOMPARE(secret.readAll(), QByteArray("secret"));

        // The partial folder itself replaced by a link to somewhere else.
        const QString elsewhere = m_dir->path() + QStringLiteral("/elsewhere");
        QVERIFY(QDir().mkpath(elsewhere));
        QVERIFY(QDir(filesDir() + QStringLiteral("/.partial")).removeRecursively());
        QVERIFY(QFile::link(elsewhere, filesDir() + QStringLiteral("/.partial")));
        auto partial = storage.openPartial(QStringLiteral("c.txt"), &error);
        QVERIFY2(partial, qPrintable(error));
        QVERIFY(!QFile::exists(elsewhere + QStringLiteral("/c.txt")));
        QVERIFY(!QFileInfo(filesDir() + QStringLiteral("/.partial")).isSymLink());
    }

    void storageRefusesNamesThatLeaveTheRoot()
    {
        QFileSystemAttachmentStorage storage(filesDir());
        QVERIFY(storage.initialize());
        QString error;
        QCOMPARE(storage.save(QStringLiteral("../escape.txt"), QByteArray("x"), &error), -1);
        QVERIFY(!QFile::exists(m_dir->path() + QStringLiteral("/escape.txt")));
        QVERIFY(!storage.openPartial(QStringLiteral("../../escape"), &error));
        QVERIFY(!storage.openForReading(
            QStringLiteral("../app-") + m_connection + QStringLiteral(".db"), &error));
        QVERIFY(storage.url(QStringLiteral("../x")).isEmpty());
    }

    // --- results that cannot be recorded -------------------------------------------------
    void aResultThatCannotBeWrittenIsNotTransferredAgain()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment one
            = m_queue->saveFile("one", QStringLiteral("text/plain"), QStringLiteral("txt"));
        const QAttachment two
            = m_queue->saveFile("two", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 2, 5000);
        // The table becomes read-only while the uploads are in flight.
        exec(QStringLiteral("PRAGMA query_only = ON"));
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        m_remote->setHold(false);
        m_remote->release();
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 5000);
        QCOMPARE(failed.first().at(2).value<QAttachmentError>().code(),
                 QAttachmentError::DatabaseError);
        QVERIFY(failed.first().at(3).toBool());
        // Proving that nothing is sent again takes time: the old queue sent
        // both files again every retryDelay (20 ms), about 25 times in this pause.
        QTest::qWait(500);
        QCOMPARE(m_remote->started(Kind::Upload), 2);
        QCOMPARE(m_queue->activeTransfers(), 2); // held, not restarted
        QCOMPARE(errors.count(), 1); // reported once for the cause, tried several times
        QVERIFY(!m_queue->isIdle());

        exec(QStringLiteral("PRAGMA query_only = OFF"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(one.id()), State::Synced, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(two.id()), State::Synced, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 2);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
    }

    // --- retry timing ----------------------------------------------------------------------
    void aDownloadAnswered404IsRetriedWithTheNormalBackoff()
    {
        // The referencing row arrived before the uploader's file.
        m_queue->setMaxRetryDelay(60000);
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("late"), QStringLiteral("jpg"))});
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() >= 1, 5000);
        QCOMPARE(failed.first().at(2).value<QAttachmentError>().code(), QAttachmentError::NotFound);
        m_remote->objects.insert(QStringLiteral("late.jpg"), "arrived");
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("late")), State::Synced, 5000);
    }

    void noFailureWaitsLongerThanTheSyncInterval()
    {
        m_queue->setMaxRetryDelay(600000);
        m_queue->setSyncInterval(300);
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::Unauthorized, QStringLiteral("401"), 401));
        QVERIFY(m_queue->startSync());
        const QAttachment saved
            = m_queue->saveFile("x", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 2);
    }

    void retryAfterIsCappedByMaxRetryDelay()
    {
        QAttachmentError busy(QAttachmentError::RateLimited, QStringLiteral("429"), 429);
        busy.setRetryAfterMs(std::numeric_limits<qint64>::max());
        m_remote->failNext(Kind::Upload, busy);
        m_queue->setMaxRetryDelay(300);
        QVERIFY(m_queue->startSync());
        const QAttachment saved
            = m_queue->saveFile("x", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 2);
    }

    // --- idle and watching -------------------------------------------------------------------
    void idleAtOnceAfterClearQueue()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->saveFile("x", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
        QVERIFY(!m_queue->isIdle());
        QVERIFY(m_queue->clearQueue());
        QVERIFY(m_queue->isIdle());
    }

    void deleteWithoutWhereIsNoticed()
    {
        m_remote->objects.insert(QStringLiteral("p1.jpg"), "one");
        m_remote->objects.insert(QStringLiteral("p2.jpg"), "two");
        exec(QStringLiteral("INSERT INTO items VALUES ('i1', 'p1'), ('i2', 'p2')"));
        m_queue->setWatchQuery(QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM "
                                              "items WHERE photo_id IS NOT NULL"));
        m_queue->setWatchTables({QStringLiteral("items")});
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p2")), State::Synced, 5000);
        // SQLite's truncate shortcut skips the update hook for this statement.
        exec(QStringLiteral("DELETE FROM items"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Archived, 5000);
        QCOMPARE(stateOf(QStringLiteral("p2")), State::Archived);
        // The guard is this connection's own: the app's schema is unchanged.
        QSqlQuery query(db());
        QVERIFY(query.exec(
            QStringLiteral("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), 0);
    }

    // --- what goes into a header ----------------------------------------------------------
    void saveFileRefusesAMediaTypeThatIsNotOne_data()
    {
        QTest::addColumn<QString>("mediaType");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << QStringLiteral("image/jpeg") << true;
        QTest::newRow("vendor") << QStringLiteral("application/vnd.ms-excel") << true;
        QTest::newRow("parameter") << QStringLiteral("text/plain; charset=utf-8") << true;
        QTest::newRow("quoted parameter") << QStringLiteral("text/plain; name=\"a b\"") << true;
        QTest::newRow("crlf") << QStringLiteral("text/plain\r\nX-Evil: 1") << false;
        QTest::newRow("lf") << QStringLiteral("text/plain\nDELETE /victim HTTP/1.1") << false;
        QTest::newRow("nul") << (QStringLiteral("text/plain") + QChar(0)) << false;
        QTest::newRow("no subtype") << QStringLiteral("image") << false;
        QTest::newRow("empty subtype") << QStringLiteral("image/") << false;
        QTest::newRow("space inside") << QStringLiteral("image/j peg") << false;
        QTest::newRow("non-ascii") << QStringLiteral("image/j\u00e9pg") << false;
        QTest::newRow("bad parameter") << QStringLiteral("text/plain; =x") << false;
    }
    void saveFileRefusesAMediaTypeThatIsNotOne()
    {
        QFETCH(QString, mediaType);
        QFETCH(bool, valid);
        QString error;
        const QAttachment saved
            = m_queue->saveFile("x", mediaType, QStringLiteral("txt"), {}, {}, &error);
        QCOMPARE(saved.isValid(), valid);
        if (!valid) {
            QVERIFY2(error.contains(QStringLiteral("media type")), qPrintable(error));
            QVERIFY(m_queue->attachments().isEmpty());
            QVERIFY(QDir(filesDir()).entryList(QDir::Files).isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(tst_QueueSafety)
#include "tst_queuesafety.moc"
