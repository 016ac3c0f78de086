#ifndef QATTACHMENTSTORE_P_H
#define QATTACHMENTSTORE_P_H

#include "qattachment.h"
#include "qattachmentqueuetable.h"
#include "qattachmentstate.h"

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

class QSqlQuery;

// Every SQL statement on the queue table, and nothing else: the queue, the
// scheduler and the operations read and write rows only through it. Rows are
// read by column name. Writes that name the state they expect
// (`WHERE id = ? AND state = ?`) say whether they were applied through one
// function, wasApplied().
//
// The table may be a view that takes writes through INSTEAD OF triggers, as
// the local-only table of a PowerSync schema is (QAttachmentQueueTable::
// toPowerSyncTable()). createTable() finds out which: on a view it creates,
// alters and indexes nothing and only checks the columns are there; writes
// then use no UPSERT and no rowid, and conditional writes are decided with
// RETURNING, since SQLite counts no changed rows through a trigger.
//
// The statements it runs are prepared once and kept, by their SQL text, for
// the next call (at most MaxKeptStatements, the least recently used going
// first): each is reset after use, so that no read or lock stays open
// between calls. They are dropped when the connection, the table or what
// createTable() found changes, and by dropStatements(); one whose
// connection was closed since is prepared again.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentStore
{
public:
    QAttachmentStore() = default;
    ~QAttachmentStore() = default;
    QAttachmentStore(const QAttachmentStore &) = delete;
    QAttachmentStore &operator=(const QAttachmentStore &) = delete;

    static constexpr int MaxKeptStatements = 32;
    // Forgets the prepared statements (the queue does when it closes).
    void dropStatements() const
    {
        m_kept.clear();
        m_keptDriver.clear();
    }
    // How many prepared statements it keeps now.
    int keptStatements() const { return int(m_kept.size()); }

    // What a write that expects a state did.
    enum class Result {
        Failed, // the statement failed (errorString says why)
        Applied, // the row was in the expected state and was written
        Skipped, // the row had left that state (or is gone): nothing written
    };

    // One write transaction, committed by commit() and rolled back when it
    // goes out of scope without one. Inside a transaction the app opened on
    // the connection, the writes join it and commit with it. A transaction of
    // its own waits for other connections' locks for BusyTimeoutMs at most,
    // from BEGIN to COMMIT: its statements (and an update hook's) run under
    // that limit.
    class WriteTransaction
    {
    public:
        explicit WriteTransaction(const QAttachmentStore &store);
        ~WriteTransaction();
        WriteTransaction(const WriteTransaction &) = delete;
        WriteTransaction &operator=(const WriteTransaction &) = delete;

        // Whether the transaction could begin (errorString() says why not).
        bool isOpen() const { return m_open; }
        // It could not begin because another connection holds the database's
        // write lock (waited for at most BusyTimeoutMs): try again later.
        bool isBusy() const { return m_busy; }
        QString errorString() const { return m_errorString; }
        // Commits; false (and errorString) when that failed and all was rolled back.
        bool commit(QString *errorString = nullptr);
        void rollback();

    private:
        void restoreBusyTimeout();

        const QAttachmentStore &m_store;
        QSqlDatabase m_database;
        QString m_errorString;
        int m_restore = -1; // the connection's busy timeout, while it is shortened
        bool m_open = false;
        bool m_own = false;
        bool m_done = false;
        bool m_busy = false;
    };

    // How long the queue's own write transactions wait for another
    // connection's write lock before they give up as busy (instead of the
    // connection's busy timeout, 5 s by default in Qt, on the app's thread).
    static constexpr int BusyTimeoutMs = 25;

    // While it lives, statements on the connection wait at most `msecs` for
    // another connection's lock (0: not at all) instead of the connection's
    // busy timeout, which it restores. Work that can be tried again from the
    // event loop runs under BusyLimit(store, 0).
    class BusyLimit
    {
    public:
        BusyLimit(const QAttachmentStore &store, int msecs);
        ~BusyLimit();
        BusyLimit(const BusyLimit &) = delete;
        BusyLimit &operator=(const BusyLimit &) = delete;

    private:
        const QAttachmentStore &m_store;
        QSqlDatabase m_database;
        int m_restore = -1;
    };
    // Runs `write`, which must be one statement, outside a transaction of the
    // store's own: SQLite makes a statement atomic, so a save or a delete
    // without the app's hook needs no BEGIN and COMMIT around it. It waits
    // for another connection's lock for BusyTimeoutMs at most, as a
    // WriteTransaction does, and says "busy" when that lock stayed.
    bool writeOneStatement(const std::function<bool(QString *)> &write, QString *errorString);

    // While it lives, reads on the connection wait at most `msecs` for
    // another connection's lock. It costs nothing in WAL mode, where a read
    // never waits (the journal mode is read by createTable()).
    class ReadLimit
    {
    public:
        ReadLimit(const QAttachmentStore &store, int msecs);

    private:
        std::optional<BusyLimit> m_limit;
    };

    // Whether the last statement of the store that failed failed because
    // another connection held a lock (SQLITE_BUSY or SQLITE_LOCKED).
    bool lastFailureWasBusy() const { return m_lastBusy; }
    static bool isBusyError(const QSqlError &error);

    // Ids of the rows this store wrote while tracking is on: long work that
    // read rows in several event-loop turns learns which of them changed
    // meanwhile. `everything` (when given) tells that all rows went (deleteAll).
    void setTracking(bool on)
    {
        m_tracking = on;
        m_touched.clear();
        m_touchedAll = false;
    }
    bool isTracking() const { return m_tracking; }
    QSet<QString> takeTouched(bool *everything = nullptr)
    {
        if (everything)
            *everything = std::exchange(m_touchedAll, false);
        return std::exchange(m_touched, {});
    }

    // Called after each transaction of the store's own commits (the queue
    // schedules a checkpoint off its thread with it).
    void setCommitObserver(std::function<void()> observer) { m_onCommit = std::move(observer); }

    QString connectionName() const { return m_connectionName; }
    void setConnectionName(const QString &name)
    {
        m_connectionName = name;
        dropStatements();
    }
    const QAttachmentQueueTable &table() const { return m_table; }
    void setTable(const QAttachmentQueueTable &table)
    {
        m_table = table;
        m_target.clear();
        m_isView = false;
        dropStatements();
    }
    QString tableName() const { return m_table.name(); }
    QSqlDatabase database() const;
    // Creates or upgrades the table (QAttachmentQueueTable::create()), or
    // checks the view that stands for it; the statements that follow use
    // what it found.
    bool createTable(QString *errorString);
    // What createTable() found: the name rows are read and written through,
    // and whether it is a view.
    QString targetName() const { return t(); }
    bool isView() const { return m_isView; }
    // `target` and `isView` (when given) say what the table was found to be.
    static bool createTable(const QAttachmentQueueTable &table, const QSqlDatabase &database,
                            QString *errorString, QString *target = nullptr,
                            bool *isView = nullptr);

    // --- reads ----------------------------------------------------------------
    // The row of `id`; an invalid attachment when there is none, no value on
    // a database error.
    std::optional<QAttachment> row(const QString &id, QString *errorString) const;
    // Every row, in insertion order.
    bool allRows(QList<QAttachment> *rows, QString *errorString) const;
    // At most `limit` rows after `*cursor` (a null cursor: from the first),
    // in a stable order (rowid on a table, id on a view), the cursor moved
    // past them: keyset pagination, one short statement per page, so that a
    // long read never holds a statement open across event-loop turns.
    bool rowsPage(QVariant *cursor, int limit, QList<QAttachment> *rows,
                  QString *errorString) const;
    // Where a paged read of expired rows stands.
    struct ExpiryCursor
    {
        bool started = false;
        qint64 timestamp = 0;
        QVariant key;
    };
    // At most `limit` of the archived rows beyond the newest `keep`, newest
    // first, in the order of expiredRows(), continuing after `*cursor`.
    bool expiredPage(int keep, ExpiryCursor *cursor, int limit, QList<QAttachment> *rows,
                     QString *errorString) const;
    // Rows waiting for a transfer, in the order they became due.
    bool pendingRows(QList<QAttachment> *rows, QString *errorString) const;
    // Archived rows beyond the newest `keep`, oldest last.
    bool expiredRows(int keep, QList<QAttachment> *rows, QString *errorString) const;
    // Rows in each queued state.
    bool pendingCounts(int *uploads, int *downloads, int *deletes, QString *errorString) const;

    // --- writes (inside a WriteTransaction, or each on its own) ------------
    bool insert(const QAttachment &row, QString *errorString);
    // Inserts rows of watched attachments (no local file yet), each only
    // where no row has its id; `inserted`, when given, receives the rows that
    // were written. Into a table, InsertBatch rows at a time go in one
    // statement when the table holds none of their ids.
    bool insertWatched(const QList<QAttachment> &rows, QString *errorString,
                       QList<QAttachment> *inserted = nullptr);
    static constexpr qsizetype InsertBatch = 32;
    bool markQueuedDelete(const QString &id, qint64 timestamp, QString *errorString);
    // Rows whose file is gone: archived, local_uri cleared, has_synced 0.
    bool archiveWithoutFile(const QList<QAttachment> &rows, qint64 timestamp, QString *errorString);
    // state, local_uri, has_synced and timestamp of each row, where the row is
    // still in the state expected for it.
    struct Change
    {
        QAttachment row; // the new values
        QAttachmentState::State expected;
    };
    // `applied`, when given, receives the changes that were written.
    bool applyChanges(const QList<Change> &changes, QString *errorString,
                      QList<Change> *applied = nullptr);
    // Deletes archived rows (those still archived); `deleted`, when given,
    // receives the rows that were deleted.
    bool deleteArchived(const QList<QAttachment> &rows, QString *errorString,
                        QList<QAttachment> *deleted = nullptr);
    bool deleteAll(QString *errorString);
    // Deletes the rows of these ids, whatever their state.
    bool deleteRows(const QList<QAttachment> &rows, QString *errorString);

    // The results of transfers, each written only over the state the transfer
    // started from.
    Result recordUploaded(const QString &id, qint64 timestamp, QAttachmentState::State expected,
                          QString *errorString);
    Result recordDownloaded(const QString &id, const QString &localUri, qint64 size,
                            qint64 timestamp, QAttachmentState::State expected,
                            QString *errorString);
    Result recordDeleted(const QString &id, QAttachmentState::State expected, QString *errorString);
    Result recordGivenUp(const QString &id, qint64 timestamp, QAttachmentState::State expected,
                         QString *errorString);

    // --- paged reads of pending work ---------------------------------------
    // Where a paged read of the rows waiting for a transfer stands: after the
    // row (timestamp, key) last read; `nullTimestamp` when that row's
    // timestamp was NULL (such rows come first).
    struct PendingCursor
    {
        bool started = false;
        bool nullTimestamp = false;
        qint64 timestamp = 0;
        QVariant key;
    };
    // At most `limit` rows waiting for a transfer after `*cursor`, in the
    // order of pendingRows() (timestamp, then rowid on a table or id on a
    // view, whatever their state), the cursor moved past them. Each state is
    // read through the (state, timestamp) index from where the cursor stands,
    // so that a page costs the same at the end of 100,000 rows as at the start.
    bool pendingPage(PendingCursor *cursor, int limit, QList<QAttachment> *rows,
                     QString *errorString) const;

private:
    void touch(const QString &id)
    {
        if (m_tracking)
            m_touched.insert(id);
    }
    // Binds `params` to the statement kept for `sql` on `db` (prepared on
    // first use) and runs it; no statement (errorString, lastFailureWasBusy())
    // when that failed. A kept statement that fails for another reason than a
    // lock is prepared again and run once more (`retry`), the failure of the
    // new one being the answer. The caller finish()es the statement it got.
    std::shared_ptr<QSqlQuery> run(const QSqlDatabase &db, const QString &sql,
                                   const QVariantList &params, QString *errorString,
                                   bool retry = true) const;
    // The statement kept for `sql` on `db`, prepared when there is none or
    // the one kept cannot run any more; `reused` tells which.
    std::shared_ptr<QSqlQuery> statement(const QSqlDatabase &db, const QString &sql, bool *reused,
                                         QString *errorString) const;
    // How many of `rows`' ids the table holds.
    bool countIds(const QSqlDatabase &db, const QList<QAttachment> &rows, int *held,
                  QString *errorString) const;
    // Inserts `rows` (none in the table, no id twice) in one statement.
    bool insertBatch(const QSqlDatabase &db, const QList<QAttachment> &rows, QString *errorString);
    // `lastKey`, when given, receives column psa_key of the last row read.
    bool readRows(const QString &sql, const QVariantList &params, QList<QAttachment> *rows,
                  QString *errorString, QVariant *lastKey = nullptr) const;
    Result execConditional(const QString &sql, const QVariantList &params, QString *errorString);
    // Whether the conditional statement `query` just ran changed its row: the
    // row it returned on a view (RETURNING), the rows it counted on a table.
    bool wasApplied(QSqlQuery &query) const;
    QString t() const { return m_target.isEmpty() ? m_table.name() : m_target; }
    // The tie-breaker of orderings: rowid on a table; a view has none.
    QString order() const { return m_isView ? QStringLiteral("id") : QStringLiteral("rowid"); }

    QString m_connectionName;
    std::function<void()> m_onCommit;
    QAttachmentQueueTable m_table;
    QString m_target; // the table or view written, once createTable() found it
    bool m_isView = false;
    mutable bool m_lastBusy = false;
    bool m_readsMayWait = true; // not in WAL mode
    mutable QSqlError m_lastError; // of the last statement that failed
    bool m_tracking = false;
    bool m_touchedAll = false;
    QSet<QString> m_touched;

    struct KeptStatement
    {
        std::shared_ptr<QSqlQuery> query;
        quint64 lastUse = 0;
    };
    mutable QHash<QString, KeptStatement> m_kept;
    mutable QPointer<QObject> m_keptDriver; // the driver they were prepared on
    mutable quint64 m_useClock = 0;
};

#endif // QATTACHMENTSTORE_P_H
