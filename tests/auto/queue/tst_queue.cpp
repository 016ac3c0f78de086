// The queue's lifecycle against the in-memory fake remote: every state rule,
// every operation's success and failure path, and the races between them.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentlocalstorage.h>
#include <qattachmentqueue.h>
#include <qfunctionattachmenterrorhandler.h>
#include <testsupport.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

class EvilIdQueue : public QAttachmentQueue
{
public:
    QString generateAttachmentId() const override { return QStringLiteral("../../.bashrc"); }
};

class LayoutQueue : public QAttachmentQueue
{
public:
    QString resolveNewAttachmentFilename(const QString &id, const QString &ext) const override
    {
        return QStringLiteral("photo-") + id + QLatin1Char('.') + ext;
    }
};

} // namespace

class tst_Queue : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    bool fileExists(const QString &name) const
    {
        return QFile::exists(filesDir() + QLatin1Char('/') + name);
    }
    // An attachment that is synced (uploaded) and referenced.
    QAttachment syncedAttachment(const QByteArray &data = "synced bytes")
    {
        const QAttachment saved
            = m_queue->saveFile(data, QStringLiteral("text/plain"), QStringLiteral("txt"));
        if (!m_queue->isSyncing())
            m_queue->startSync();
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("txt"))});
        if (!QTest::qWaitFor(
                [&] { return m_queue->attachment(saved.id()).state() == State::Synced; }, 5000))
            qWarning("attachment %s did not sync", qPrintable(saved.id()));
        return m_queue->attachment(saved.id());
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        exec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)"));
        setUpQueue(new QAttachmentQueue);
    }
    void cleanup() { closeFixture(); }

    // --- saveFile -------------------------------------------------------------
    void saveFileWorksBeforeStartSync()
    {
        QString error;
        const QAttachment saved
            = m_queue->saveFile("hello", QStringLiteral("text/plain"), QStringLiteral("txt"), {},
                                QStringLiteral("{\"k\":1}"), &error);
        QVERIFY2(saved.isValid(), qPrintable(error));
        QVERIFY(!m_queue->isSyncing());
        const QAttachment row = m_queue->attachment(saved.id());
        QCOMPARE(row.state(), State::QueuedUpload);
        QCOMPARE(row.filename(), saved.id() + QStringLiteral(".txt"));
        QCOMPARE(row.localUri(), row.filename()); // relative to the storage root
        QCOMPARE(row.size(), 5);
        QCOMPARE(row.mediaType(), QStringLiteral("text/plain"));
        QCOMPARE(row.metaData(), QStringLiteral("{\"k\":1}"));
        QVERIFY(!row.hasSynced());
        QVERIFY(row.timestamp() > 0);
        QVERIFY(fileExists(row.filename()));
        QCOMPARE(m_queue->localUrl(row),
                 QUrl::fromLocalFile(filesDir() + QLatin1Char('/') + row.filename()));
    }

    void saveFileIsUploadedWhenSyncing()
    {
        QSignalSpy uploaded(m_queue, &QAttachmentQueue::uploadFinished);
        const QAttachment saved
            = m_queue->saveFile("payload", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 5000);
        const QAttachment row = m_queue->attachment(saved.id());
        QCOMPARE(row.state(), State::Synced);
        QVERIFY(row.hasSynced());
        QCOMPARE(m_remote->objects.value(row.filename()), QByteArray("payload"));
        QCOMPARE(uploaded.first().first().value<QAttachment>().id(), saved.id());
    }

    void saveFileHookCommitsWithTheRow()
    {
        const QAttachment saved = m_queue->saveFile(
            "x", QStringLiteral("image/jpeg"), QStringLiteral("jpg"),
            [](QAttachmentTransaction &tx, const QAttachment &attachment) {
                tx.execute(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('a', ?)"),
                           {attachment.id()});
                return true;
            });
        QVERIFY(saved.isValid());
        QCOMPARE(
            rowCount(
                QStringLiteral("SELECT COUNT(*) FROM items WHERE photo_id = '%1'").arg(saved.id())),
            1);
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
    }

    void saveFileHookFailureRollsEverythingBack()
    {
        QString error;
        const QAttachment saved = m_queue->saveFile(
            "x", QStringLiteral("image/jpeg"), QStringLiteral("jpg"),
            [](QAttachmentTransaction &tx, const QAttachment &attachment) {
                tx.execute(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('a', ?)"),
                           {attachment.id()});
                tx.execute(QStringLiteral("INSERT INTO no_such_table VALUES (1)"));
                return true;
            },
            {}, &error);
        QVERIFY(!saved.isValid());
        QVERIFY(error.contains(QStringLiteral("no_such_table")));
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM items")), 0);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QCOMPARE(QDir(filesDir()).entryList(QDir::Files).size(), 0);
    }

    void saveFileHookReturningFalseRollsBack()
    {
        const QAttachment saved = m_queue->saveFile(
            "x", {}, QStringLiteral("bin"), [](QAttachmentTransaction &tx, const QAttachment &) {
                tx.execute(QStringLiteral("INSERT INTO items (id) VALUES ('a')"));
                return false;
            });
        QVERIFY(!saved.isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM items")), 0);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
    }

    void saveFileRejectsBadExtension_data()
    {
        QTest::addColumn<QString>("extension");
        QTest::newRow("separator") << QStringLiteral("a/b");
        QTest::newRow("parent") << QStringLiteral("..");
        QTest::newRow("leading dot") << QStringLiteral(".jpg");
        QTest::newRow("control") << QStringLiteral("jp\ng");
        QTest::newRow("backslash") << QStringLiteral("a\\b");
    }
    void saveFileRejectsBadExtension()
    {
        QFETCH(QString, extension);
        QString error;
        const QAttachment saved = m_queue->saveFile("x", {}, extension, {}, {}, &error);
        QVERIFY(!saved.isValid());
        QVERIFY(!error.isEmpty());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QCOMPARE(
            QDir(filesDir()).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot).size(),
            0);
    }

    void saveFileRejectsUnsafeGeneratedId()
    {
        setUpQueue(new EvilIdQueue);
        QString error;
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"), {}, {}, &error);
        QVERIFY(!saved.isValid());
        QVERIFY2(error.contains(QStringLiteral("attachment id")), qPrintable(error));
        QVERIFY(!QFile::exists(m_dir->path() + QStringLiteral("/.bashrc.txt")));
    }

    void resolveNewAttachmentFilenameCanBeOverridden()
    {
        setUpQueue(new LayoutQueue);
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("png"));
        QCOMPARE(saved.filename(), QStringLiteral("photo-") + saved.id() + QStringLiteral(".png"));
        // The filename is the remote key; the local file is named after the id.
        QCOMPARE(saved.localUri(), saved.id() + QStringLiteral(".png"));
        QVERIFY(fileExists(saved.localUri()));
    }

    void saveFileFromPathTakesTheSourceExtension()
    {
        const QString source = m_dir->path() + QStringLiteral("/picture.jpeg");
        QFile file(source);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("jpeg bytes");
        file.close();
        const QAttachment saved = m_queue->saveFileFromPath(source, QStringLiteral("image/jpeg"));
        QVERIFY(saved.filename().endsWith(QStringLiteral(".jpeg")));
        QCOMPARE(saved.size(), 10);
    }

    void saveFileWithoutExtensionUsesDat()
    {
        const QAttachment saved = m_queue->saveFile("x", {});
        QCOMPARE(saved.filename(), saved.id() + QStringLiteral(".dat"));
    }

    // --- downloads and watching --------------------------------------------------
    void watchedIdWithoutRowIsDownloaded()
    {
        m_remote->objects.insert(QStringLiteral("p1.jpg"), "remote photo");
        QSignalSpy downloaded(m_queue, &QAttachmentQueue::downloadFinished);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(downloaded.count(), 1, 5000);
        const QAttachment row = m_queue->attachment(QStringLiteral("p1"));
        QCOMPARE(row.state(), State::Synced);
        QVERIFY(row.hasSynced());
        QCOMPARE(row.localUri(), QStringLiteral("p1.jpg"));
        QCOMPARE(row.size(), 12);
        QCOMPARE(row.mediaType(), QStringLiteral("image/jpeg"));
        QFile file(filesDir() + QStringLiteral("/p1.jpg"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("remote photo"));
    }

    void watchedItemFilenameIsUsed()
    {
        m_remote->objects.insert(QStringLiteral("named.pdf"), "pdf");
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(
            QStringLiteral("d1"), {}, QStringLiteral("named.pdf"), QStringLiteral("meta"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("d1")), State::Synced, 5000);
        QCOMPARE(m_queue->attachment(QStringLiteral("d1")).metaData(), QStringLiteral("meta"));
        QCOMPARE(m_queue->attachment(QStringLiteral("d1")).filename(), QStringLiteral("named.pdf"));
        // Named after the id locally, so that two rows never share a file.
        QVERIFY(fileExists(QStringLiteral("d1.pdf")));
    }

    void watchedIdIsNotInsertedWhenDownloadsAreOff()
    {
        m_queue->setDownloadAttachments(false);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QVERIFY(!m_queue->attachment(QStringLiteral("p1")).isValid());
    }

    void unsafeWatchedIdIsRejected_data()
    {
        QTest::addColumn<QString>("id");
        QTest::newRow("traversal") << QStringLiteral("../../.bashrc");
        QTest::newRow("absolute") << QStringLiteral("/etc/passwd");
        QTest::newRow("control") << QStringLiteral("a\x01");
        QTest::newRow("too long") << QString(256, QLatin1Char('a'));
        QTest::newRow("long utf8") << QString(128, QChar(0x00e9)); // 256 bytes
    }
    void unsafeWatchedIdIsRejected()
    {
        QFETCH(QString, id);
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("txt"))});
        QCOMPARE(errors.count(), 1);
        QCOMPARE(errors.first().first().value<QAttachmentError>().code(),
                 QAttachmentError::InvalidInput);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
    }

    void unsafeWatchedFilenameIsRejected()
    {
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("ok"), {}, QStringLiteral("../escape.txt"))});
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
    }

    void downloadIsWrittenUnderTheFinalNameOnlyWhenComplete()
    {
        m_remote->objects.insert(QStringLiteral("p1.jpg"), "remote photo");
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
        QVERIFY(!fileExists(QStringLiteral("p1.jpg")));
        m_remote->release();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QVERIFY(fileExists(QStringLiteral("p1.jpg")));
    }

    void failedDownloadLeavesNoFileAndNoSyncedRow()
    {
        m_queue->setMaxRetryDelay(60000);
        // Not on the server: NotFound is not retried blindly.
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("gone"), QStringLiteral("jpg"))});
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(stateOf(QStringLiteral("gone")), State::QueuedDownload);
        QVERIFY(!fileExists(QStringLiteral("gone.jpg")));
        QCOMPARE(m_queue->lastError(QStringLiteral("gone")).code(), QAttachmentError::NotFound);
    }

    // --- reconciliation --------------------------------------------------------
    void unwatchedSyncedRowIsArchived()
    {
        const QAttachment synced = syncedAttachment();
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(synced.id()), State::Archived);
        QVERIFY(fileExists(synced.filename())); // kept in the cache
    }

    void unwatchedQueuedDownloadIsArchived()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(QStringLiteral("p1")), State::Archived);
        QCOMPARE(m_queue->activeTransfers(), 0); // its download was aborted
    }

    void unwatchedUploadThatNeverSyncedIsKept()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
        m_remote->setHold(false);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void unwatchedUploadThatHasSyncedIsArchived()
    {
        const QAttachment synced = syncedAttachment();
        m_queue->stopSyncing();
        // A re-upload of something the server already had.
        exec(QStringLiteral("UPDATE attachments_queue SET state = 1 WHERE id = ?"), {synced.id()});
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(synced.id()), State::Archived);
    }

    void unwatchedDeleteRunsToTheEnd()
    {
        const QAttachment synced = syncedAttachment();
        m_remote->setHold(true);
        QVERIFY(m_queue->deleteFile(synced.id()));
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(synced.id()), State::QueuedDelete); // hasSynced was cleared
        m_remote->setHold(false);
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(synced.id()).isValid(), 5000);
    }

    void unwatchedDeleteThatHasSyncedIsArchived()
    {
        const QAttachment synced = syncedAttachment();
        m_queue->stopSyncing();
        exec(QStringLiteral("UPDATE attachments_queue SET state = 2, has_synced = 1 WHERE id = ?"),
             {synced.id()});
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(synced.id()), State::Archived);
    }

    void archivedRowWithSyncedFileIsRestoredAsSynced()
    {
        const QAttachment synced = syncedAttachment();
        m_queue->setWatchedAttachments({});
        QCOMPARE(stateOf(synced.id()), State::Archived);
        const int transfers = m_remote->started(Kind::Upload) + m_remote->started(Kind::Download);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(synced.id(), QStringLiteral("txt"))});
        QCOMPARE(stateOf(synced.id()), State::Synced);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(m_remote->started(Kind::Upload) + m_remote->started(Kind::Download), transfers);
    }

    void archivedRowWithoutLocalFileIsRestoredAsDownload()
    {
        m_remote->objects.insert(QStringLiteral("r1.txt"), "again");
        QVERIFY(m_queue->startSync());
        exec(QStringLiteral(
            "INSERT INTO attachments_queue (id, filename, local_uri, timestamp, size, "
            "media_type, state, has_synced, meta_data) VALUES ('r1', 'r1.txt', NULL, 1, "
            "NULL, NULL, 4, 0, NULL)"));
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("r1"), QStringLiteral("txt"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("r1")), State::Synced, 5000);
        QVERIFY(fileExists(QStringLiteral("r1.txt")));
    }

    void archivedRowWithUnsyncedFileIsRestoredAsUpload()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("unsent", {}, QStringLiteral("txt"));
        m_queue->stopSyncing();
        exec(QStringLiteral("UPDATE attachments_queue SET state = 4 WHERE id = ?"), {saved.id()});
        m_remote->setHold(false);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("txt"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(m_remote->objects.value(saved.filename()), QByteArray("unsent"));
    }

    void rowArchivedWhileWatchedIsNotRestoredAtOnce()
    {
        // A download given up by the error handler stays archived while the
        // same id stays watched; the next start tries again.
        QFunctionAttachmentErrorHandler giveUp(
            [](Kind, const QAttachment &, const QAttachmentError &) { return false; });
        m_queue->setErrorHandler(&giveUp);
        QVERIFY(m_queue->startSync());
        const QList<QWatchedAttachmentItem> watched {
            QWatchedAttachmentItem(QStringLiteral("nf"), QStringLiteral("txt"))};
        m_queue->setWatchedAttachments(watched);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("nf")), State::Archived, 5000);
        m_queue->setWatchedAttachments(watched);
        QCOMPARE(stateOf(QStringLiteral("nf")), State::Archived);
        m_queue->setErrorHandler(nullptr);
        m_queue->stopSyncing();
        QVERIFY(m_queue->startSync());
        QCOMPARE(stateOf(QStringLiteral("nf")), State::QueuedDownload);
    }

    void reconciliationHandlesManyIds()
    {
        m_queue->setArchivedCacheLimit(100000);
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        QList<QWatchedAttachmentItem> items;
        for (int i = 0; i < 20000; ++i)
            items.append(
                QWatchedAttachmentItem(QStringLiteral("id-%1").arg(i), QStringLiteral("jpg")));
        // Thousands of changes are written in slices, the rest from the event loop.
        m_queue->setWatchedAttachments(items);
        // Generous bounds: under ASan beside other tests the slices take seconds.
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
            20000, 30000);
        items.resize(10000);
        m_queue->setWatchedAttachments(items);
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 4")),
            10000, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 10000, 15000);
    }

    // --- cache ---------------------------------------------------------------------
    void archivedRowsBeyondTheLimitAreDeletedOldestFirst()
    {
        m_queue->setArchivedCacheLimit(2);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({});
        for (int i = 0; i < 4; ++i) {
            const QString id = QStringLiteral("a%1").arg(i);
            const QString name = id + QStringLiteral(".txt");
            QVERIFY(m_queue->localStorage()->save(name, QByteArray("cached")) == 6);
            exec(QStringLiteral(
                     "INSERT INTO attachments_queue (id, filename, local_uri, timestamp, size, "
                     "media_type, "
                     "state, has_synced, meta_data) VALUES (?, ?, ?, ?, 6, NULL, 4, 1, NULL)"),
                 QVariantList {id, name, name, 1000 + i});
        }
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        QCOMPARE(m_queue->expireCache(), 2);
        QCOMPARE(removed.count(), 2);
        QVERIFY(!m_queue->attachment(QStringLiteral("a0")).isValid());
        QVERIFY(!m_queue->attachment(QStringLiteral("a1")).isValid());
        QVERIFY(m_queue->attachment(QStringLiteral("a2")).isValid());
        QVERIFY(m_queue->attachment(QStringLiteral("a3")).isValid());
        QVERIFY(!fileExists(QStringLiteral("a0.txt")));
        QVERIFY(fileExists(QStringLiteral("a3.txt")));
    }

    void expireCacheTerminatesWhenNothingIsLeft()
    {
        m_queue->setArchivedCacheLimit(0);
        QCOMPARE(m_queue->expireCache(), 0);
        const QAttachment synced = syncedAttachment();
        m_queue->setWatchedAttachments({}); // archived, then expired, in slices
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(synced.id()).isValid(), 5000);
        QCOMPARE(m_queue->expireCache(), 0);
    }

    // --- verification at start -------------------------------------------------------
    void rowsWhoseFileIsMissingAreArchivedAtStart()
    {
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QVERIFY(QFile::remove(filesDir() + QLatin1Char('/') + saved.filename()));
        QSignalSpy changed(m_queue, &QAttachmentQueue::attachmentChanged);
        QVERIFY(m_queue->startSync());
        const QAttachment row = m_queue->attachment(saved.id());
        QCOMPARE(row.state(), State::Archived);
        QVERIFY(row.localUri().isEmpty());
        QVERIFY(!row.hasSynced());
        QVERIFY(changed.count() >= 1);
    }

    void syncedRowWithMissingFileIsDownloadedAgainWhenWatched()
    {
        const QAttachment synced = syncedAttachment("precious");
        m_queue->stopSyncing();
        QVERIFY(QFile::remove(filesDir() + QLatin1Char('/') + synced.filename()));
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(synced.id(), QStringLiteral("txt"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(synced.id()), State::Synced, 5000);
        QVERIFY(fileExists(synced.filename()));
    }

    // --- delete ------------------------------------------------------------------
    void deleteFileRemovesRemoteAndLocal()
    {
        const QAttachment synced = syncedAttachment();
        QVERIFY(m_remote->objects.contains(synced.filename()));
        exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('i', ?)"), {synced.id()});
        QSignalSpy deleted(m_queue, &QAttachmentQueue::deleteFinished);
        QVERIFY(
            m_queue->deleteFile(synced.id(), [](QAttachmentTransaction &tx, const QAttachment &a) {
                tx.execute(QStringLiteral("UPDATE items SET photo_id = NULL WHERE photo_id = ?"),
                           {a.id()});
                return true;
            }));
        const QAttachment marked = m_queue->attachment(synced.id());
        QCOMPARE(marked.state(), State::QueuedDelete);
        QVERIFY(!marked.hasSynced());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM items WHERE photo_id IS NULL")), 1);
        QTRY_COMPARE_WITH_TIMEOUT(deleted.count(), 1, 5000);
        QVERIFY(!m_queue->attachment(synced.id()).isValid());
        QVERIFY(!m_remote->objects.contains(synced.filename()));
        QVERIFY(!fileExists(synced.filename()));
    }

    void deleteFileOfUnknownIdFails()
    {
        QString error;
        QVERIFY(!m_queue->deleteFile(QStringLiteral("nope"), {}, &error));
        QVERIFY(error.contains(QStringLiteral("nope")));
    }

    void deleteFileRejectsUnsafeId()
    {
        QString error;
        QVERIFY(!m_queue->deleteFile(QStringLiteral("../x"), {}, &error));
        QVERIFY(!error.isEmpty());
    }

    void deleteFileHookFailureKeepsTheRow()
    {
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QVERIFY(
            !m_queue->deleteFile(saved.id(), [](QAttachmentTransaction &tx, const QAttachment &) {
                tx.setError(QStringLiteral("refused"));
                return true;
            }));
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
    }

    void deleteIssuedMidUploadWins()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("racing", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
        QVERIFY(m_queue->deleteFile(saved.id()));
        m_remote->setHold(false);
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(saved.id()).isValid(), 5000);
        QVERIFY(!m_remote->objects.contains(saved.filename()));
        QVERIFY(!fileExists(saved.filename()));
    }

    void uploadResultIsNotWrittenOverAChangedRow()
    {
        // The transfer finishes (successfully) after its row moved on.
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
        m_remote->release(); // finished() is now queued
        exec(QStringLiteral("UPDATE attachments_queue SET state = 2 WHERE id = ?"), {saved.id()});
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->activeTransfers() == 0, 5000);
        QVERIFY(m_queue->attachment(saved.id()).state() != State::Synced);
    }

    // --- transfers, errors and retries ------------------------------------------------------
    void transfersRunConcurrentlyUpToTheLimit()
    {
        m_queue->setMaxConcurrentTransfers(3);
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        for (int i = 0; i < 10; ++i)
            m_queue->saveFile(QByteArray::number(i), {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 3, 5000);
        QCOMPARE(m_queue->activeTransfers(), 3);
        m_remote->setHold(false);
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->objects.size(), 10, 5000);
        QCOMPARE(m_remote->maxRunning(), 3);
    }

    // Re-reading the table while transfers run must not queue them again.
    void runningTransfersAreNotStartedTwice()
    {
        m_queue->setMaxConcurrentTransfers(3);
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        for (int i = 0; i < 10; ++i)
            m_queue->saveFile(QByteArray::number(i), {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 3, 5000);
        m_queue->triggerSync();
        QTest::qWait(0);
        m_remote->setHold(false);
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->objects.size(), 10, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->activeTransfers(), 0, 5000);
        QCOMPARE(m_remote->started(QAttachmentTransfer::Upload), 10);
    }

    // An app saving one file per event-loop turn must not hold back the
    // transfers until it stops.
    void savesInABurstDoNotStarveTransfers()
    {
        QVERIFY(m_queue->startSync());
        constexpr int Saves = 50;
        int saved = 0;
        int savedAtFirstStart = -1;
        connect(m_queue, &QAttachmentQueue::transferStarted, this, [&] {
            if (savedAtFirstStart < 0)
                savedAtFirstStart = saved;
        });
        QTimer saver;
        saver.setInterval(0);
        connect(&saver, &QTimer::timeout, this, [&] {
            m_queue->saveFile(QByteArray::number(saved), {}, QStringLiteral("txt"));
            if (++saved == Saves)
                saver.stop();
        });
        saver.start();
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->objects.size(), Saves, 5000);
        QVERIFY(savedAtFirstStart >= 1);
        QVERIFY2(
            savedAtFirstStart < Saves / 2,
            qPrintable(QStringLiteral("first transfer after %1 saves").arg(savedAtFirstStart)));
    }

    void defaultAllowsSixTransfers()
    {
        QCOMPARE(m_queue->maxConcurrentTransfers(), 6);
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        for (int i = 0; i < 8; ++i)
            m_queue->saveFile(QByteArray::number(i), {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 6, 5000);
    }

    void retryableFailureIsRetriedWithoutHandler()
    {
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("boom"), 500), 2);
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(failed.count(), 2);
        QCOMPARE(failed.at(0).at(3).toBool(), true);
        QCOMPARE(failed.at(0).at(2).value<QAttachmentError>().httpStatus(), 500);
        QCOMPARE(m_remote->started(Kind::Upload), 3);
        QVERIFY(!m_queue->lastError(saved.id()).isError()); // reset on success
    }

    void nonRetryableFailureWaitsTheLongestPause()
    {
        m_queue->setMaxRetryDelay(60000);
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::ClientError, QStringLiteral("bad"), 400));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        QCOMPARE(failed.first().at(3).toBool(), true); // retried, but not soon
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
        QCOMPARE(m_remote->started(Kind::Upload), 1);
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void nonRetryableFailureIsRetriedEventually()
    {
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::NotFound, QStringLiteral("gone"), 404));
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced,
                                  5000); // after maxRetryDelay (200 ms)
        QCOMPARE(m_remote->started(Kind::Upload), 2);
    }

    void configurationChangeRetriesAtOnce()
    {
        m_queue->setMaxRetryDelay(60000);
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::Unauthorized, QStringLiteral("401"), 401));
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->lastError(saved.id()).code(),
                                  QAttachmentError::Unauthorized, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        emit m_remote->configurationChanged();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void errorHandlerCanRetry()
    {
        int calls = 0;
        QFunctionAttachmentErrorHandler handler(
            [&](Kind kind, const QAttachment &, const QAttachmentError &) {
                ++calls;
                return kind == Kind::Upload;
            });
        m_queue->setErrorHandler(&handler);
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::ClientError, QStringLiteral("once"), 400));
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(calls, 1);
    }

    void errorHandlerGivingUpArchives()
    {
        QFunctionAttachmentErrorHandler handler(
            [](Kind, const QAttachment &, const QAttachmentError &) { return false; });
        m_queue->setErrorHandler(&handler);
        m_remote->failNext(
            Kind::Upload,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("down"), 503));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Archived, 5000);
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.first().at(3).toBool(), false);
        QVERIFY(fileExists(saved.filename())); // kept: a restore uploads it again
    }

    void errorHandlerIsAskedPerOperation()
    {
        struct Recorder : QAttachmentErrorHandler
        {
            QList<Kind> kinds;
            bool onUploadError(const QAttachment &, const QAttachmentError &) override
            {
                kinds << Kind::Upload;
                return false;
            }
            bool onDownloadError(const QAttachment &, const QAttachmentError &) override
            {
                kinds << Kind::Download;
                return false;
            }
            bool onDeleteError(const QAttachment &, const QAttachmentError &) override
            {
                kinds << Kind::Delete;
                return false;
            }
        } recorder;
        m_queue->setErrorHandler(&recorder);
        const QAttachment synced = syncedAttachment();
        m_remote->failNext(
            Kind::Delete,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("x"), 500));
        QVERIFY(m_queue->deleteFile(synced.id()));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(synced.id()), State::Archived, 5000);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("missing"), QStringLiteral("bin"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("missing")), State::Archived, 5000);
        QCOMPARE(recorder.kinds, (QList<Kind> {Kind::Delete, Kind::Download}));
    }

    void maxAttemptsArchivesWithoutHandler()
    {
        m_queue->setMaxAttempts(2);
        m_remote->failNext(
            Kind::Upload, QAttachmentError(QAttachmentError::ServerError, QStringLiteral("x"), 500),
            10);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Archived, 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 2);
    }

    void backoffGrowsBetweenAttempts()
    {
        m_queue->setRetryDelay(100);
        m_queue->setMaxRetryDelay(10000);
        m_remote->failNext(
            Kind::Upload, QAttachmentError(QAttachmentError::ServerError, QStringLiteral("x"), 500),
            3);
        QList<qint64> starts;
        QElapsedTimer clock;
        clock.start();
        connect(m_remote, &FakeRemoteStorage::transferStarted, this,
                [&] { starts << clock.elapsed(); });
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 10000);
        QCOMPARE(starts.size(), 4);
        // Delays of 100, 200 and 400 ms, each with jitter down to half.
        QVERIFY2(starts[1] - starts[0] >= 50, qPrintable(QString::number(starts[1] - starts[0])));
        QVERIFY2(starts[2] - starts[1] >= 100, qPrintable(QString::number(starts[2] - starts[1])));
        QVERIFY2(starts[3] - starts[2] >= 200, qPrintable(QString::number(starts[3] - starts[2])));
    }

    void retryAfterIsHonoured()
    {
        QAttachmentError limited(QAttachmentError::RateLimited, QStringLiteral("slow down"), 429);
        limited.setRetryAfterMs(400);
        m_remote->failNext(Kind::Upload, limited);
        m_queue->setMaxRetryDelay(1000); // Retry-After is honoured up to maxRetryDelay
        QList<qint64> starts;
        QElapsedTimer clock;
        clock.start();
        connect(m_remote, &FakeRemoteStorage::transferStarted, this,
                [&] { starts << clock.elapsed(); });
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        QCOMPARE(starts.size(), 2);
        QVERIFY(starts[1] - starts[0] >= 400);
    }

    void localFileMissingAtUploadIsAnError()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        m_queue->stopSyncing();
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QVERIFY(QFile::remove(filesDir() + QLatin1Char('/') + saved.filename()));
        m_remote->setHold(false);
        QVERIFY(m_queue->startSync()); // verification archives it instead of failing
        QCOMPARE(stateOf(saved.id()), State::Archived);
        QCOMPARE(m_remote->started(Kind::Upload), 0);
    }

    void offlineQueueStartsNoTransfers()
    {
        m_queue->setOnline(false);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QCOMPARE(m_remote->started(Kind::Upload), 0);
        QSignalSpy onlineChanged(m_queue, &QAttachmentQueue::onlineChanged);
        m_queue->setOnline(true);
        QCOMPARE(onlineChanged.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void goingOnlineRetriesAtOnce()
    {
        m_queue->setRetryDelay(60000);
        m_queue->setMaxRetryDelay(60000);
        m_remote->failNext(
            Kind::Upload, QAttachmentError(QAttachmentError::NetworkError, QStringLiteral("down")));
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->lastError(saved.id()).code(),
                                  QAttachmentError::NetworkError, 5000);
        m_queue->setOnline(false);
        m_queue->setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void progressIsReported()
    {
        m_remote->setChunkSize(1000);
        m_remote->objects.insert(QStringLiteral("big.bin"), QByteArray(10000, 'b'));
        QSignalSpy progress(m_queue, &QAttachmentQueue::transferProgress);
        QSignalSpy started(m_queue, &QAttachmentQueue::transferStarted);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("big"), QStringLiteral("bin"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("big")), State::Synced, 5000);
        QCOMPARE(started.count(), 1);
        QCOMPARE(started.first().at(1).value<Kind>(), Kind::Download);
        QCOMPARE(progress.count(), 10);
        QCOMPARE(progress.first().at(2).toLongLong(), 1000);
        QCOMPARE(progress.last().at(2).toLongLong(), 10000);
        QCOMPARE(progress.last().at(3).toLongLong(), 10000);
    }

    void statusFollowsTransferFailureAndRetry()
    {
        // One status per attachment: the row, the running transfer's bytes,
        // the last failure and when it is tried again.
        m_queue->setRetryDelay(30000);
        m_queue->setMaxRetryDelay(60000);
        m_remote->setChunkSize(1000);
        m_remote->objects.insert(QStringLiteral("s.bin"), QByteArray(5000, 's'));
        m_remote->failNext(
            Kind::Download,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("down"), 503));
        QSignalSpy changed(m_queue, &QAttachmentQueue::statusChanged);
        QVERIFY(m_queue->startSync());
        const QString id = QStringLiteral("s");
        QAttachmentStatus status = m_queue->status(id);
        QVERIFY(!status.attachment().isValid());
        QVERIFY(!status.isTransferring());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("bin"))});
        QVERIFY(changed.contains(QVariantList {id}));
        QCOMPARE(m_queue->status(id).attachment().state(), State::QueuedDownload);

        QTRY_VERIFY_WITH_TIMEOUT(m_queue->status(id).lastError().isError(), 5000);
        const qint64 failedAt = QDateTime::currentMSecsSinceEpoch();
        status = m_queue->status(id);
        QCOMPARE(status.lastError().code(), QAttachmentError::ServerError);
        QCOMPARE(status.lastError().message(), m_queue->lastError(id).message());
        QVERIFY(!status.isTransferring());
        QCOMPARE(status.bytesDone(), -1);
        QCOMPARE(status.attachment().state(), State::QueuedDownload);
        // The backoff of a first failure: 50-100 % of retryDelay, from now.
        QVERIFY(status.nextRetry().isValid());
        const qint64 next = status.nextRetry().toMSecsSinceEpoch();
        QVERIFY2(next >= failedAt + 15000 - 1000 && next <= failedAt + 30000,
                 qPrintable(QString::number(next - failedAt)));

        // Retried now: the transfer runs (and reports its bytes), then lands.
        m_remote->setHold(true);
        changed.clear();
        m_queue->retryFailed();
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->status(id).isTransferring(), 5000);
        QVERIFY(!m_queue->status(id).nextRetry().isValid());
        m_remote->setHold(false);
        m_remote->release();
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->status(id).attachment().state(), State::Synced, 5000);
        status = m_queue->status(id);
        QVERIFY(!status.lastError().isError());
        QVERIFY(!status.nextRetry().isValid());
        QVERIFY(!status.isTransferring());
        QCOMPARE(status.attachment().size(), 5000);
        bool sawProgress = false;
        for (const QVariantList &args : std::as_const(changed))
            sawProgress |= args.constFirst().toString() == id;
        QVERIFY(sawProgress);

        QVERIFY(m_queue->deleteFile(id));
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->status(id).attachment().isValid(), 5000);
    }

    void failingCountsAttachmentsWaitingForARetry()
    {
        // `idle` is true while failed transfers wait; `failing` says how many do.
        m_queue->setRetryDelay(30000);
        m_queue->setMaxRetryDelay(60000);
        m_remote->objects.insert(QStringLiteral("f1.bin"), QByteArray(100, '1'));
        m_remote->objects.insert(QStringLiteral("f2.bin"), QByteArray(100, '2'));
        m_remote->failNext(
            Kind::Download,
            QAttachmentError(QAttachmentError::Unauthorized, QStringLiteral("token"), 401), 2);
        QSignalSpy failingChanged(m_queue, &QAttachmentQueue::failingChanged);
        QCOMPARE(m_queue->failing(), 0);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("f1"), QStringLiteral("bin")),
             QWatchedAttachmentItem(QStringLiteral("f2"), QStringLiteral("bin"))});
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->failing(), 2, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
        QVERIFY(failingChanged.count() >= 1);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 2, 5000);
        QVERIFY(m_queue->status(QStringLiteral("f1")).nextRetry().isValid());

        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->failing(), 0, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 0, 5000);
        QCOMPARE(m_queue->attachment(QStringLiteral("f2")).state(), State::Synced);
    }

    void statusReportsBytesWhileTransferring()
    {
        m_remote->setChunkSize(1000);
        m_remote->objects.insert(QStringLiteral("p.bin"), QByteArray(4000, 'p'));
        const QString id = QStringLiteral("p");
        QList<std::pair<qint64, qint64>> seen;
        connect(m_queue, &QAttachmentQueue::statusChanged, this, [&](const QString &changed) {
            const QAttachmentStatus status = m_queue->status(changed);
            if (changed == id && status.isTransferring())
                seen.append({status.bytesDone(), status.bytesTotal()});
        });
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("bin"))});
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), State::Synced, 5000);
        QVERIFY(seen.size() >= 2);
        QCOMPARE(seen.constFirst().first, 0); // started
        QCOMPARE(seen.constLast(), std::make_pair(qint64(4000), qint64(4000)));
        QVERIFY(!m_queue->status(id).isTransferring());
    }

    void pendingCountsAreNotified()
    {
        m_remote->setHold(true);
        QSignalSpy uploads(m_queue, &QAttachmentQueue::pendingUploadsChanged);
        QVERIFY(m_queue->startSync());
        m_queue->saveFile("a", {}, QStringLiteral("txt"));
        m_queue->saveFile("b", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingUploads(), 2, 5000);
        QVERIFY(uploads.count() >= 1);
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("d"), QStringLiteral("bin"))});
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 1, 5000);
        m_remote->objects.insert(QStringLiteral("d.bin"), "d");
        m_remote->setHold(false);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingUploads(), 0, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->pendingDownloads(), 0, 5000);
    }

    void timestampChangesWithEveryState()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        exec(QStringLiteral("UPDATE attachments_queue SET timestamp = 1 WHERE id = ?"),
             {saved.id()});
        m_remote->setHold(false);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
        const qint64 syncedAt = m_queue->attachment(saved.id()).timestamp();
        QVERIFY(syncedAt > 1);
        exec(QStringLiteral("UPDATE attachments_queue SET timestamp = 2 WHERE id = ?"),
             {saved.id()});
        m_queue->setWatchedAttachments({});
        QVERIFY(m_queue->attachment(saved.id()).timestamp() > 2);
    }

    // --- watch query -----------------------------------------------------------------
    void watchQueryFollowsWritesOnTheSameConnection()
    {
        m_remote->objects.insert(QStringLiteral("w1.jpg"), "w1");
        m_queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM items "
                           "WHERE photo_id IS NOT NULL"));
        m_queue->setWatchTables({QStringLiteral("items")});
        QVERIFY(m_queue->startSync());
        exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('i1', 'w1')"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("w1")), State::Synced, 5000);
        exec(QStringLiteral("UPDATE items SET photo_id = NULL"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("w1")), State::Archived, 5000);
    }

    void watchQueryIsRerunOnEachTick()
    {
        m_remote->objects.insert(QStringLiteral("t1.jpg"), "t1");
        m_queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id FROM items WHERE photo_id IS NOT NULL"));
        m_queue->setDefaultFileExtension(QStringLiteral("jpg"));
        m_queue->setSyncInterval(100);
        QVERIFY(m_queue->startSync());
        // Another connection: SQLite tells this one nothing.
        QVERIFY(TestSupport::execOnAnotherConnection(
            db().databaseName(), QStringLiteral("INSERT INTO items VALUES ('i', 't1')")));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("t1")), State::Synced, 5000);
    }

    void refreshWatchQueryReconcilesNow()
    {
        m_queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id, 'png' AS file_extension FROM items"));
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        exec(QStringLiteral("INSERT INTO items VALUES ('i', 'r1')"));
        m_queue->refreshWatchQuery();
        QCOMPARE(m_queue->attachment(QStringLiteral("r1")).filename(), QStringLiteral("r1.png"));
    }

    void brokenWatchQueryIsReported()
    {
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        m_queue->setWatchQuery(QStringLiteral("SELECT nothing FROM nowhere"));
        QVERIFY(m_queue->startSync());
        QVERIFY(errors.count() >= 1);
        QCOMPARE(errors.first().first().value<QAttachmentError>().code(),
                 QAttachmentError::DatabaseError);
    }

    // --- lifecycle -----------------------------------------------------------------
    void startSyncWithoutRemoteFails()
    {
        m_queue->setRemoteStorage(nullptr);
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QVERIFY(!m_queue->startSync());
        QCOMPARE(errors.count(), 1);
        QVERIFY(!m_queue->isSyncing());
    }

    void invalidTableNameIsRejected()
    {
        m_queue->setTableName(QStringLiteral("x; DROP TABLE items"));
        QString error;
        QVERIFY(!m_queue->saveFile("x", {}, QStringLiteral("txt"), {}, {}, &error).isValid());
        QVERIFY(error.contains(QStringLiteral("table name")));
        QVERIFY(!m_queue->startSync());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM items")), 0); // still there
    }

    void customTableNameIsUsed()
    {
        m_queue->setTableName(QStringLiteral("my_files"));
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QVERIFY(saved.isValid());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM my_files")), 1);
    }

    void missingDatabaseIsAnError()
    {
        m_queue->setConnectionName(QStringLiteral("no-such-connection"));
        QString error;
        QVERIFY(!m_queue->saveFile("x", {}, QStringLiteral("txt"), {}, {}, &error).isValid());
        QVERIFY(error.contains(QStringLiteral("no-such-connection")));
    }

    void databaseErrorsSurface()
    {
        QVERIFY(m_queue->startSync());
        exec(QStringLiteral("DROP TABLE attachments_queue"));
        QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
        QCOMPARE(m_queue->expireCache(), -1);
        QCOMPARE(errors.count(), 1);
        QCOMPARE(errors.first().first().value<QAttachmentError>().code(),
                 QAttachmentError::DatabaseError);
    }

    // A result that cannot be written is a failed transfer to whoever shows it.
    void unrecordedResultIsReportedAsFailed()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QVERIFY(saved.isValid());
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
        exec(QStringLiteral("ALTER TABLE attachments_queue RENAME TO moved_away"));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        m_remote->setHold(false);
        QVERIFY(failed.wait(5000));
        QCOMPARE(failed.first().at(0).toString(), saved.id());
        QCOMPARE(failed.first().at(2).value<QAttachmentError>().code(),
                 QAttachmentError::DatabaseError);
        QCOMPARE(failed.first().at(3).toBool(), true);
    }

    void stopSyncingAbortsTransfersAndKeepsState()
    {
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->activeTransfers(), 1, 5000);
        m_queue->stopSyncing();
        QCOMPARE(m_queue->activeTransfers(), 0);
        QVERIFY(!m_queue->isSyncing());
        QCOMPARE(m_remote->running(), 0);
        QCOMPARE(stateOf(saved.id()), State::QueuedUpload);
        m_remote->setHold(false);
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);
    }

    void nothingWaitsForTransfersInFlight()
    {
        // Transfers that never finish block neither saves, deletes nor stop.
        m_remote->setHold(true);
        QVERIFY(m_queue->startSync());
        for (int i = 0; i < 6; ++i)
            m_queue->saveFile(QByteArray::number(i), {}, QStringLiteral("txt"));
        QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 6, 5000);
        const QAttachment more = m_queue->saveFile("more", {}, QStringLiteral("txt"));
        QVERIFY(more.isValid());
        QVERIFY(m_queue->deleteFile(more.id()));
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 7);
        m_queue->stopSyncing();
        QCOMPARE(m_queue->activeTransfers(), 0);
    }

    void watchedListCanComeFromAQueuedSignal()
    {
        m_remote->objects.insert(QStringLiteral("q.bin"), "q");
        QVERIFY(m_queue->startSync());
        QMetaObject::invokeMethod(
            m_queue, "setWatchedAttachments", Qt::QueuedConnection,
            Q_ARG(QList<QWatchedAttachmentItem>,
                  {QWatchedAttachmentItem(QStringLiteral("q"), QStringLiteral("bin"))}));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("q")), State::Synced, 5000);
    }

    void stoppedQueueDoesNotReconcileOrTransfer()
    {
        QVERIFY(m_queue->startSync());
        m_queue->stopSyncing();
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("later"), QStringLiteral("bin"))});
        QVERIFY(!m_queue->attachment(QStringLiteral("later")).isValid());
        m_remote->objects.insert(QStringLiteral("later.bin"), "l");
        QVERIFY(m_queue->startSync()); // the pushed list is applied on start
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("later")), State::Synced, 5000);
    }

    void closeReleasesAndCanStartAgain()
    {
        const QAttachment synced = syncedAttachment();
        m_queue->close();
        QVERIFY(!m_queue->isSyncing());
        QVERIFY(m_queue->startSync());
        QCOMPARE(stateOf(synced.id()), State::Synced);
    }

    void clearQueueRemovesRowsAndFiles()
    {
        const QAttachment a = m_queue->saveFile("a", {}, QStringLiteral("txt"));
        const QAttachment b = m_queue->saveFile("b", {}, QStringLiteral("txt"));
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        QVERIFY(m_queue->clearQueue());
        QCOMPARE(removed.count(), 2);
        QCOMPARE(m_queue->attachments().size(), 0);
        QVERIFY(!fileExists(a.filename()));
        QVERIFY(!fileExists(b.filename()));
    }

    void triggerSyncStartsDueWork()
    {
        QVERIFY(m_queue->startSync());
        exec(QStringLiteral(
            "INSERT INTO attachments_queue (id, filename, local_uri, timestamp, size, media_type, "
            "state, has_synced, meta_data) VALUES ('x', 'x.bin', NULL, 1, NULL, NULL, 0, 0, "
            "NULL)"));
        m_remote->objects.insert(QStringLiteral("x.bin"), "x");
        m_queue->triggerSync();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("x")), State::Synced, 5000);
    }

    void attachmentChangedFollowsEveryStep()
    {
        QList<State> states;
        connect(m_queue, &QAttachmentQueue::attachmentChanged, this,
                [&](const QAttachment &a) { states << a.state(); });
        const QAttachment synced = syncedAttachment();
        m_queue->setWatchedAttachments({});
        QCOMPARE(states, (QList<State> {State::QueuedUpload, State::Synced, State::Archived}));
        QCOMPARE(synced.state(), State::Synced);
    }
};

QTEST_GUILESS_MAIN(tst_Queue)
#include "tst_queue.moc"
