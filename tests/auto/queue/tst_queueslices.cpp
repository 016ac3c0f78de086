// The app's thread never waits long for the queue: reconciliation and expiry
// of many rows are written in slices with the event loop running in between,
// and a database locked by another connection makes the queue's writes give
// up quickly ("busy") and try again later instead of blocking.

#include <fakeremotestorage.h>
#include <qattachmentqueue.h>
#include <testsupport.h>

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;

class tst_QueueSlices : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir *m_dir = nullptr;
    QString m_connection;
    FakeRemoteStorage *m_remote = nullptr;
    QAttachmentQueue *m_queue = nullptr;

    QSqlDatabase db() const { return QSqlDatabase::database(m_connection); }
    int rowCount(const QString &sql) const
    {
        QSqlQuery query(db());
        if (!query.exec(sql) || !query.next())
            return -1;
        return query.value(0).toInt();
    }
    static QList<QWatchedAttachmentItem> manyItems(int count)
    {
        QList<QWatchedAttachmentItem> items;
        items.reserve(count);
        for (int i = 0; i < count; ++i)
            items.append(
                QWatchedAttachmentItem(QStringLiteral("id-%1").arg(i), QStringLiteral("jpg")));
        return items;
    }

    // Counts the ticks of a zero-delay timer that fire while the queue still
    // writes table work (it is not idle then, offline as it is).
    struct TickCounter
    {
        explicit TickCounter(QAttachmentQueue *queue)
        {
            timer.setInterval(0);
            QObject::connect(&timer, &QTimer::timeout, [this, queue] {
                ++ticks;
                if (!queue->isIdle())
                    ++ticksWhileWorking;
            });
            timer.start();
        }
        QTimer timer;
        int ticks = 0;
        int ticksWhileWorking = 0;
    };

private Q_SLOTS:
    void init()
    {
        m_dir = new QTemporaryDir;
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
        m_remote = new FakeRemoteStorage;
        m_queue = new QAttachmentQueue;
        m_queue->setConnectionName(m_connection);
        m_queue->setLocalDirectory(m_dir->path() + QStringLiteral("/files"));
        m_queue->setRemoteStorage(m_remote);
        m_queue->setSyncInterval(0);
        // Offline: nothing transfers, so only the queue's table work makes it busy.
        m_queue->setOnline(false);
    }
    void cleanup()
    {
        delete m_queue;
        m_queue = nullptr;
        delete m_remote;
        m_remote = nullptr;
        TestSupport::closeDatabase(m_connection);
        delete m_dir;
        m_dir = nullptr;
    }

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
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 30000);
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
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 30000);
        {
            QSqlQuery query(db());
            QVERIFY(query.exec(
                QStringLiteral("UPDATE attachments_queue SET state = 3, has_synced = 1")));
        }
        QSignalSpy removed(m_queue, &QAttachmentQueue::attachmentRemoved);
        TickCounter counter(m_queue);
        m_queue->setWatchedAttachments({});
        QVERIFY(!m_queue->isIdle());
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 30000);
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
        // A new watched set arrives while the first is still being written.
        m_queue->setWatchedAttachments(manyItems(10));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 30000);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")),
                 10);
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 4")),
                 Count - 10);
    }

    void lockedDatabaseMakesSaveFileBusyNotBlocked()
    {
        QVERIFY(m_queue->startSync());
        // Another connection to the same file holds the write lock.
        const QString other = m_connection + QStringLiteral("-other");
        {
            QSqlDatabase second = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), other);
            second.setDatabaseName(db().databaseName());
            QVERIFY(second.open());
            QSqlQuery lock(second);
            QVERIFY2(lock.exec(QStringLiteral("BEGIN IMMEDIATE")),
                     qPrintable(lock.lastError().text()));
        }
        QElapsedTimer clock;
        clock.start();
        QString problem;
        const QAttachment saved
            = m_queue->saveFile(QByteArray("locked out"), QStringLiteral("text/plain"),
                                QStringLiteral("txt"), {}, {}, &problem);
        const qint64 waited = clock.elapsed();
        QVERIFY(!saved.isValid());
        QVERIFY2(problem.contains(QStringLiteral("busy")), qPrintable(problem));
        // Qt's busy timeout is 5 s; the queue gives up far sooner.
        QVERIFY2(waited < 2500, qPrintable(QString::number(waited)));

        // Work that is not the app's own call waits for the lock and is done
        // once it goes.
        m_queue->setWatchedAttachments(manyItems(5));
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue")), 0);
        QVERIFY(!m_queue->isIdle());
        {
            QSqlDatabase second = QSqlDatabase::database(other, false);
            QSqlQuery(second).exec(QStringLiteral("ROLLBACK"));
            second.close();
        }
        QSqlDatabase::removeDatabase(other);
        QTRY_COMPARE_WITH_TIMEOUT(
            rowCount(QStringLiteral("SELECT COUNT(*) FROM attachments_queue WHERE state = 0")), 5,
            10000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 10000);
        // And saving works again.
        QVERIFY(m_queue->saveFile(QByteArray("now"), QStringLiteral("text/plain")).isValid());
    }
};

QTEST_MAIN(tst_QueueSlices)
#include "tst_queueslices.moc"
