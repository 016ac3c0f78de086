#ifndef HELDCOMMITSTORAGE_H
#define HELDCOMMITSTORAGE_H

#include <fakeremotequeuesuite.h>
#include <qfilesystemattachmentstorage.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>

#include <utility>

// Local storage on a directory that holds every asynchronous commit until
// release(), to look at a queue while commits are in flight.
class HeldCommitStorage : public QFileSystemAttachmentStorage
{
public:
    using QFileSystemAttachmentStorage::QFileSystemAttachmentStorage;

    struct Held
    {
        QString name;
        qint64 size = 0;
        QPointer<QObject> context;
        CommitCallback callback;
    };
    // The commits held now, in the order they came.
    QList<Held> held;
    // The most commits held at once.
    int mostHeld = 0;

    void commitPartialAsync(const QString &name, qint64 size, QObject *context,
                            CommitCallback callback) override
    {
        held.append({name, size, context, std::move(callback)});
        mostHeld = qMax(mostHeld, int(held.size()));
    }
    // Runs the held commits for real; a context gone meanwhile hears nothing.
    void release()
    {
        const QList<Held> commits = std::exchange(held, {});
        for (const Held &commit : commits)
            QFileSystemAttachmentStorage::commitPartialAsync(
                commit.name, commit.size, commit.context.data(),
                commit.context ? commit.callback : CommitCallback());
    }
    // Returns once the commit of `name` is done and its outcome posted.
    void waitForCommit(const QString &name)
    {
        partialSize(name);
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
};

// FakeRemoteQueueSuite whose queue keeps its files in a HeldCommitStorage
// (m_storage) on filesDir(). A suite calls openFixture() in init() and
// closeFixture() in cleanup().
class HeldCommitQueueSuite : public FakeRemoteQueueSuite
{
protected:
    HeldCommitStorage *m_storage = nullptr;

    // The fixture, the storage and a queue on it; false when the directory
    // cannot be made.
    bool openFixture()
    {
        if (!FakeRemoteQueueSuite::openFixture())
            return false;
        m_storage = new HeldCommitStorage(filesDir());
        newQueue();
        return true;
    }
    void closeFixture()
    {
        // The queue goes before the storage it commits to.
        delete m_queue;
        m_queue = nullptr;
        delete m_storage;
        m_storage = nullptr;
        FakeRemoteQueueSuite::closeFixture();
    }
    // A new queue (the one before deleted) on the storage.
    void newQueue()
    {
        QueueSetup setup;
        setup.localStorage = m_storage;
        setUpQueue(setup);
    }
};

#endif // HELDCOMMITSTORAGE_H
