// What the thread rules of doc/threads.md rest on: a queue (with its
// connection and storages) runs in a worker thread and the GUI thread follows
// it through queued signals; a model refuses a queue of another thread.

#include <fakeremotestorage.h>
#include <qattachmentmodel.h>
#include <qattachmentqueue.h>
#include <testsupport.h>

#include <QtCore/qregularexpression.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qthread.h>
#include <QtTest/qtest.h>

class tst_Threads : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queueInAWorkerThreadIsFollowedFromTheGuiThread()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QThread worker;
        worker.start();
        QObject inWorker;
        inWorker.moveToThread(&worker);
        const auto run = [&](const std::function<void()> &step) {
            QMetaObject::invokeMethod(&inWorker, step, Qt::BlockingQueuedConnection);
        };

        // Everything of the queue is made in the worker: connection, storages, queue.
        QString connection;
        FakeRemoteStorage *remote = nullptr;
        QAttachmentQueue *queue = nullptr;
        run([&] {
            connection = TestSupport::openDatabase(dir.path(), QStringLiteral("worker"));
            remote = new FakeRemoteStorage;
            queue = new QAttachmentQueue;
            queue->setConnectionName(connection);
            queue->setLocalDirectory(dir.path() + QStringLiteral("/files"));
            queue->setRemoteStorage(remote);
            queue->setSyncInterval(0);
            queue->startSync();
        });
        QCOMPARE(queue->thread(), &worker);

        // The GUI thread: queued connections, values copied across.
        QList<QAttachment> seen;
        QList<QThread *> receivedIn;
        connect(queue, &QAttachmentQueue::attachmentChanged, this, [&](const QAttachment &row) {
            seen << row;
            receivedIn << QThread::currentThread();
        });
        QAttachmentModel model;
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("queue lives in another thread"));
        model.setQueue(queue);
        QCOMPARE(model.queue(), nullptr);

        QString id;
        run([&] {
            id = queue
                     ->saveFile(QByteArray("from the worker"), QStringLiteral("text/plain"),
                                QStringLiteral("txt"))
                     .id();
        });
        QTRY_VERIFY_WITH_TIMEOUT(!seen.isEmpty() && seen.last().id() == id
                                     && seen.last().state() == QAttachmentState::Synced,
                                 10000);
        for (QThread *thread : std::as_const(receivedIn))
            QCOMPARE(thread, QThread::currentThread());
        QByteArray uploaded;
        run([&] { uploaded = remote->objects.value(id + QStringLiteral(".txt")); });
        QCOMPARE(uploaded, QByteArray("from the worker"));

        run([&] {
            delete queue;
            delete remote;
            TestSupport::closeDatabase(connection);
        });
        worker.quit();
        QVERIFY(worker.wait(10000));
    }
};

QTEST_GUILESS_MAIN(tst_Threads)
#include "tst_threads.moc"
