#ifndef QATTACHMENTCHECKPOINTER_P_H
#define QATTACHMENTCHECKPOINTER_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qstring.h>

#include <memory>

// Moves SQLite's WAL checkpoints off the thread of the queue's connection.
//
// In WAL mode SQLite copies the log back into the database file (and syncs
// it) inside the commit that takes the log past `wal_autocheckpoint` pages
// (1,000 by default): on a disk that commit takes 100-200 ms, on the thread
// that committed. When the queue's database is a file in WAL mode, start()
// opens a connection of its own to the same file on a worker thread and turns
// the auto-checkpoint of the queue's connection off (`PRAGMA
// wal_autocheckpoint = 0`); the worker then runs PASSIVE checkpoints (which
// never wait for readers or writers: with a reader in the way they copy less)
// when the queue's commits (noteCommit()) took the log past PagesBound frames
// not yet copied (read from the wal-index, the -shm file), when the queue has
// nothing left to do (checkpointSoon()), and every few seconds to cover
// commits the app makes on the same connection. stop() closes the
// worker's connection, ends its thread and gives the queue's connection its
// auto-checkpoint back.
//
// In-memory and non-WAL databases are left alone (start() returns false).
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentCheckpointer
{
public:
    // After the queue's commits, the log is looked at within this long, and
    // checkpointed when it holds this many frames not yet copied back...
    static constexpr int CommitDelayMs = 250;
    static constexpr qint64 PagesBound = 1000;
    // ... and runs at least this often while the checkpointer runs.
    static constexpr int SweepMs = 2000;

    QAttachmentCheckpointer();
    ~QAttachmentCheckpointer();
    QAttachmentCheckpointer(const QAttachmentCheckpointer &) = delete;
    QAttachmentCheckpointer &operator=(const QAttachmentCheckpointer &) = delete;

    // Starts for the open connection `connectionName` (called in the thread
    // that opened it) when its database is a file in WAL mode and a second
    // connection to it opens. False when it does not run (`why` says why).
    bool start(const QString &connectionName, QString *why = nullptr);
    // Ends the worker (waiting for a checkpoint in progress, if any) and
    // restores the connection's auto-checkpoint when it is still open.
    void stop();
    bool isRunning() const;
    QString connectionName() const;

    // The queue committed: a checkpoint follows within CommitDelayMs.
    void noteCommit();
    // Nothing left to do for now: a checkpoint at once.
    void checkpointSoon();

    // What the worker did; tests read it.
    struct Stats
    {
        int checkpoints = 0; // PASSIVE checkpoints that ran
        int busy = 0; // of them, those another checkpoint was in the way of
        qint64 framesInLog = -1; // the last one's log size, in frames
        qint64 framesCopied = 0; // frames copied by all of them, summed
        QString lastError;
    };
    Stats stats() const;
    // The auto-checkpoint setting the queue's connection had before start().
    int restoredAutoCheckpoint() const;

private:
    class Worker;
    std::unique_ptr<Worker> m_worker;
    QString m_connectionName;
    int m_restore = 1000;
};

#endif // QATTACHMENTCHECKPOINTER_P_H
