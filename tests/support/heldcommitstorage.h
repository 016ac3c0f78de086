#ifndef HELDCOMMITSTORAGE_H
#define HELDCOMMITSTORAGE_H

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

#endif // HELDCOMMITSTORAGE_H
