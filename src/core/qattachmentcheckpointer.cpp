#include "qattachmentcheckpointer_p.h"

#include "qattachmentlogging_p.h"

#include <QtCore/qatomic.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qmutex.h>
#include <QtCore/qsemaphore.h>
#include <QtCore/qthread.h>
#include <QtCore/qwaitcondition.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#include <cstring>

namespace {

QAtomicInteger<quint64> workerSerial;

bool pragmaValue(QSqlDatabase &db, const QString &sql, QVariant *value)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    if (!query.exec(sql) || !query.next())
        return false;
    *value = query.value(0);
    query.finish();
    return true;
}

} // namespace

// The thread and its connection. Everything it shares with the queue's
// thread is behind `mutex`.
class QAttachmentCheckpointer::Worker : public QThread
{
public:
    Worker(const QString &source, const QString &databaseFile)
        : m_source(source)
        , m_shmPath(databaseFile.isEmpty() ? QString() : databaseFile + QStringLiteral("-shm"))
        , m_name(QStringLiteral("psa-checkpointer-%1").arg(++workerSerial))
    { }

    ~Worker() override { finish(); }

    // Starts the thread and waits for its connection to open (a few
    // milliseconds, once): false when it did not.
    bool begin(QString *why)
    {
        start(QThread::LowPriority);
        m_opened.acquire();
        if (!m_openError.isEmpty()) {
            if (why)
                *why = m_openError;
            wait();
            return false;
        }
        return true;
    }

    void finish()
    {
        {
            QMutexLocker lock(&m_mutex);
            m_stopping = true;
            m_wake.wakeAll();
        }
        wait();
    }

    void note(bool now)
    {
        QMutexLocker lock(&m_mutex);
        const bool first = !m_dirty;
        if (now)
            m_now = true;
        else if (first)
            m_dirtySince.setRemainingTime(CommitDelayMs);
        m_dirty = true;
        // The worker may be asleep until the next sweep: it learns of the
        // nearer deadline (or of `now`).
        if (now || first)
            m_wake.wakeAll();
    }

    Stats stats() const
    {
        QMutexLocker lock(&m_mutex);
        return m_stats;
    }

protected:
    void run() override
    {
        {
            QSqlDatabase db = QSqlDatabase::cloneDatabase(m_source, m_name);
            if (!db.open())
                m_openError = db.lastError().text().isEmpty()
                    ? QStringLiteral("a second connection to the database did not open")
                    : db.lastError().text();
            m_opened.release();
            if (m_openError.isEmpty())
                loop(db);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }

private:
    void loop(QSqlDatabase &db)
    {
        QDeadlineTimer sweep(SweepMs);
        QMutexLocker lock(&m_mutex);
        while (!m_stopping) {
            // Wake for the earliest of: a commit's delay running out, the
            // sweep, a request for one now, or stop.
            QDeadlineTimer until = sweep;
            if (m_dirty && m_dirtySince < until)
                until = m_dirtySince;
            if (!m_now)
                m_wake.wait(&m_mutex, until);
            if (m_stopping)
                break;
            const bool now = m_now;
            const bool sweepDue = sweep.hasExpired();
            const bool commitDue = m_dirty && m_dirtySince.hasExpired();
            if (!now && !sweepDue && !commitDue)
                continue;
            m_now = false;
            if (commitDue)
                m_dirty = false; // the next commit asks again
            lock.unlock();
            // After commits: only once the log holds PagesBound frames not
            // yet copied (each completed checkpoint makes the next writer
            // restart the log, which syncs its header on the writer's
            // thread). When idle and at the sweep: whatever is left.
            const qint64 pending = pendingFrames();
            const bool run
                = (now || sweepDue) ? pending != 0 : (pending < 0 || pending >= PagesBound);
            if (run)
                checkpoint(db);
            lock.relock();
            if (run || sweepDue)
                sweep.setRemainingTime(SweepMs);
        }
    }

    // Frames in the log not yet copied into the database, read from the
    // wal-index (the -shm file; its header and checkpoint info are laid out
    // in SQLite's "WAL-mode file format"); -1 when it cannot be read.
    qint64 pendingFrames() const
    {
        if (m_shmPath.isEmpty())
            return -1;
        QFile shm(m_shmPath);
        if (!shm.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
            return -1;
        char header[104];
        if (shm.read(header, sizeof header) != qint64(sizeof header))
            return -1;
        // Two copies of the header (at 0 and 48) that agree, version
        // 3007000, initialised: otherwise a writer is in the middle of it.
        if (memcmp(header, header + 48, 48) != 0)
            return -1;
        quint32 version = 0, maxFrame = 0, backfilled = 0;
        memcpy(&version, header, 4);
        memcpy(&maxFrame, header + 16, 4);
        memcpy(&backfilled, header + 96, 4);
        if (version != 3007000 || header[12] != 1 || backfilled > maxFrame)
            return -1;
        return qint64(maxFrame) - qint64(backfilled);
    }

    void checkpoint(QSqlDatabase &db)
    {
        // PASSIVE: as many frames as no reader needs, never waiting for a
        // reader or writer. Returns (busy, frames in the log, frames copied
        // so far since the log was last restarted).
        QSqlQuery query(db);
        query.setForwardOnly(true);
        const bool ok
            = query.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)")) && query.next();
        const int busy = ok ? query.value(0).toInt() : 0;
        const qint64 log = ok ? query.value(1).toLongLong() : -1;
        const qint64 copied = ok ? query.value(2).toLongLong() : 0;
        const QString error = ok ? QString() : query.lastError().text();
        query.finish();
        QMutexLocker lock(&m_mutex);
        if (!ok) {
            m_stats.lastError = error;
            return;
        }
        ++m_stats.checkpoints;
        if (busy)
            ++m_stats.busy;
        // A log that shrank was restarted: its frames count from zero again.
        const qint64 before = log < m_lastLog ? 0 : m_lastCopied;
        m_stats.framesCopied += qMax<qint64>(0, copied - before);
        m_stats.framesInLog = log;
        m_lastLog = log;
        m_lastCopied = copied;
    }

    const QString m_source;
    const QString m_shmPath;
    const QString m_name;
    QSemaphore m_opened;
    QString m_openError; // written before m_opened is released

    mutable QMutex m_mutex;
    QWaitCondition m_wake;
    bool m_stopping = false;
    bool m_now = false;
    bool m_dirty = false;
    QDeadlineTimer m_dirtySince;
    Stats m_stats;
    qint64 m_lastLog = 0;
    qint64 m_lastCopied = 0;
};

QAttachmentCheckpointer::QAttachmentCheckpointer() = default;

QAttachmentCheckpointer::~QAttachmentCheckpointer()
{
    stop();
}

bool QAttachmentCheckpointer::start(const QString &connectionName, QString *why)
{
    stop();
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    auto fail = [why](const QString &reason) {
        if (why)
            *why = reason;
        return false;
    };
    if (!db.isOpen())
        return fail(QStringLiteral("the connection is not open"));
    QVariant mode;
    if (!pragmaValue(db, QStringLiteral("PRAGMA journal_mode"), &mode)
        || mode.toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
        return fail(QStringLiteral("the database is not in WAL mode"));
    // An in-memory or temporary database has no file another connection
    // could open (and is never in WAL mode; checked all the same).
    QString file;
    {
        QSqlQuery list(db);
        list.setForwardOnly(true);
        if (list.exec(QStringLiteral("PRAGMA database_list"))) {
            const int nameColumn = 1, fileColumn = 2;
            while (list.next()) {
                if (list.value(nameColumn).toString() == QLatin1String("main"))
                    file = list.value(fileColumn).toString();
            }
        }
        list.finish();
        if (file.isEmpty())
            return fail(QStringLiteral("the database is not a file"));
    }
    QVariant autoCheckpoint;
    if (!pragmaValue(db, QStringLiteral("PRAGMA wal_autocheckpoint"), &autoCheckpoint))
        return fail(db.lastError().text());

    auto worker = std::make_unique<Worker>(connectionName, file);
    QString problem;
    if (!worker->begin(&problem))
        return fail(problem);
    QSqlQuery off(db);
    if (!off.exec(QStringLiteral("PRAGMA wal_autocheckpoint = 0"))) {
        worker->finish();
        return fail(off.lastError().text());
    }
    m_restore = autoCheckpoint.toInt();
    m_connectionName = connectionName;
    m_worker = std::move(worker);
    qCDebug(lcQueue) << "checkpoints of" << connectionName << "run on a thread of their own";
    return true;
}

void QAttachmentCheckpointer::stop()
{
    if (!m_worker)
        return;
    m_worker->finish();
    m_worker.reset();
    // The app may have closed or removed its connection meanwhile.
    QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (db.isOpen()) {
        QSqlQuery restore(db);
        restore.exec(QStringLiteral("PRAGMA wal_autocheckpoint = %1").arg(m_restore));
    }
    m_connectionName.clear();
}

bool QAttachmentCheckpointer::isRunning() const
{
    return m_worker != nullptr;
}

QString QAttachmentCheckpointer::connectionName() const
{
    return m_connectionName;
}

void QAttachmentCheckpointer::noteCommit()
{
    if (m_worker)
        m_worker->note(false);
}

void QAttachmentCheckpointer::checkpointSoon()
{
    if (m_worker)
        m_worker->note(true);
}

QAttachmentCheckpointer::Stats QAttachmentCheckpointer::stats() const
{
    return m_worker ? m_worker->stats() : Stats();
}

int QAttachmentCheckpointer::restoredAutoCheckpoint() const
{
    return m_restore;
}
