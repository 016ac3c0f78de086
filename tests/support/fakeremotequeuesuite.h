#ifndef FAKEREMOTEQUEUESUITE_H
#define FAKEREMOTEQUEUESUITE_H

#include <fakeremotestorage.h>
#include <qattachmentqueue.h>

#include <QtCore/qobject.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qvariant.h>
#include <QtSql/qsqldatabase.h>

class QAttachmentLocalStorage;

// How FakeRemoteQueueSuite::setUpQueue() configures a queue beyond the
// database and the remote.
struct FakeRemoteQueueSetup
{
    // Where the queue keeps its files; empty: filesDir().
    QString localDirectory;
    // Used instead of a local directory when set (owned by the suite).
    QAttachmentLocalStorage *localStorage = nullptr;
    // Retries after 20 ms, at most 200 ms apart, instead of the defaults.
    bool quickRetries = true;
    // false: the queue starts offline (nothing transfers).
    bool online = true;

    // For suites that look at the queue's own work on its table alone:
    // offline, with the default retries.
    static FakeRemoteQueueSetup tableWorkOnly()
    {
        FakeRemoteQueueSetup setup;
        setup.quickRetries = false;
        setup.online = false;
        return setup;
    }
};

// The fixture of the suites that drive one queue against the in-memory fake
// remote: a temporary directory holding a fresh SQLite database, the fake
// remote, and a queue on both that syncs on demand only. A suite calls
// openFixture() in init() and closeFixture() in cleanup().
class FakeRemoteQueueSuite : public QObject
{
protected:
    using QueueSetup = FakeRemoteQueueSetup;

    QTemporaryDir *m_dir = nullptr;
    QString m_connection;
    FakeRemoteStorage *m_remote = nullptr;
    QAttachmentQueue *m_queue = nullptr;

    // Makes the directory, opens the database in it and creates the fake
    // remote; false when the directory cannot be made.
    bool openFixture();
    // Deletes the queue and the remote, closes the database, removes the directory.
    void closeFixture();

    // Makes `queue` the suite's queue (deleting the one before) and sets it up
    // on the suite's database and fake remote, with a sync interval of 0.
    void setUpQueue(QAttachmentQueue *queue, const QueueSetup &setup);
    void setUpQueue(QAttachmentQueue *queue) { setUpQueue(queue, QueueSetup()); }
    void setUpQueue(const QueueSetup &setup = {}) { setUpQueue(new QAttachmentQueue, setup); }

    QSqlDatabase db() const { return QSqlDatabase::database(m_connection); }
    QString filesDir() const { return m_dir->path() + QStringLiteral("/files"); }
    QAttachmentState::State stateOf(const QString &id) const
    {
        return m_queue->attachment(id).state();
    }
    // The first column of the first row `sql` returns; -1 when it fails.
    int rowCount(const QString &sql) const;
    // Runs `sql` with `params` bound in order; aborts the test program when it fails.
    void exec(const QString &sql, const QVariantList &params = {});
    // Runs `sql`; false (and a warning naming the statement) when it fails.
    bool tryExec(const QString &sql);
};

#endif // FAKEREMOTEQUEUESUITE_H
