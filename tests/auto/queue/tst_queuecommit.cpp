// A download's file reaches the disk off the app's thread: its row says
// synced only once the commit reported back, and a queue stopped or
// destroyed while a commit runs neither crashes, nor loses the file, nor
// marks a row it did not finish.

#include <fakeremotestorage.h>
#include <heldcommitstorage.h>
#include <qattachmentqueue.h>
#include <testsupport.h>

#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;

class tst_QueueCommit : public HeldCommitQueueSuite
{
    Q_OBJECT

private:
    QByteArray m_photo;

    QByteArray fileOnDisk() const
    {
        QFile file(filesDir() + QStringLiteral("/p1.jpg"));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    // Starts the download of p1 and returns once its commit is held.
    void downloadUntilTheCommit()
    {
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("p1"), QStringLiteral("jpg"))});
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 1, 5000);
        QCOMPARE(m_storage->held.first().name, QStringLiteral("p1.jpg"));
        QCOMPARE(m_storage->held.first().size, m_photo.size());
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        m_photo = TestSupport::randomBytes(64 * 1024, 3);
        m_remote->objects.insert(QStringLiteral("p1.jpg"), m_photo);
    }
    void cleanup() { closeFixture(); }

    void rowIsSyncedOnlyOnceItsFileIsCommitted()
    {
        QSignalSpy finished(m_queue, &QAttachmentQueue::downloadFinished);
        downloadUntilTheCommit();
        // The transfer is over, its result would be written by now: the
        // row waits for the disk.
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        QVERIFY(finished.isEmpty());
        QVERIFY(!m_queue->isIdle());
        QVERIFY(!QFile::exists(filesDir() + QStringLiteral("/p1.jpg")));

        m_storage->release();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(m_queue->attachment(QStringLiteral("p1")).size(), m_photo.size());
        QVERIFY(fileOnDisk() == m_photo);
    }

    void aCommitThatFailsIsRetried()
    {
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        downloadUntilTheCommit();
        // Something truncated the partial file under the commit.
        QVERIFY(QFile::resize(filesDir() + QStringLiteral("/.partial/p1.jpg"), 10));
        m_storage->release();
        QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), 5000);
        const auto error = failed.first().at(2).value<QAttachmentError>();
        QCOMPARE(error.code(), QAttachmentError::LocalStorageError);
        QVERIFY2(error.message().contains(QStringLiteral("cannot keep the download")),
                 qPrintable(error.message()));
        QVERIFY(failed.first().at(3).toBool()); // retried
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        // The next attempt commits.
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 1, 5000);
        m_storage->release();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QVERIFY(fileOnDisk() == m_photo);
    }

    void stoppedWhileACommitRuns()
    {
        downloadUntilTheCommit();
        m_queue->stopSyncing();
        m_storage->release();
        m_storage->waitForCommit(QStringLiteral("p1.jpg"));
        // Not finished by the queue, so not synced; the file is whole.
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        QVERIFY(fileOnDisk() == m_photo);
        // Started again, the download completes.
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 1, 5000);
        m_storage->release();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QVERIFY(fileOnDisk() == m_photo);
    }

    // Stopped after the commit started on the storage's thread: its outcome
    // arrives for a job that is gone.
    void stoppedWhileTheDiskIsWritten()
    {
        downloadUntilTheCommit();
        m_storage->release();
        m_queue->stopSyncing();
        m_storage->waitForCommit(QStringLiteral("p1.jpg"));
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        QVERIFY(fileOnDisk() == m_photo);
    }

    void destroyedWhileACommitRuns_data()
    {
        QTest::addColumn<bool>("started");
        QTest::newRow("held") << false;
        QTest::newRow("on the disk") << true;
    }
    void destroyedWhileACommitRuns()
    {
        QFETCH(bool, started);
        downloadUntilTheCommit();
        if (started)
            m_storage->release();
        delete m_queue;
        m_queue = nullptr;
        if (!started)
            m_storage->release();
        m_storage->waitForCommit(QStringLiteral("p1.jpg"));
        QVERIFY(fileOnDisk() == m_photo);
        // The row was not finished: a new queue finds it still to download,
        // and finishes it.
        newQueue();
        QCOMPARE(stateOf(QStringLiteral("p1")), State::QueuedDownload);
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(m_storage->held.size(), 1, 5000);
        m_storage->release();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
        QVERIFY(fileOnDisk() == m_photo);
    }
};

QTEST_GUILESS_MAIN(tst_QueueCommit)
#include "tst_queuecommit.moc"
