#ifndef QATTACHMENTQUEUE_P_H
#define QATTACHMENTQUEUE_P_H

#include "qattachmentqueue.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqldatabase.h>

#include <memory>
#include <optional>

class QAttachmentLocalStorage;
class QAttachmentRemoteStorage;
class QSqlQuery;

// One transfer in flight and the local file device it streams from or into.
// The devices must outlive the transfer, so both are released together.
class QAttachmentJob : public QObject
{
    Q_OBJECT

public:
    ~QAttachmentJob() override;

    QAttachment attachment; // the row as it was when the transfer started
    QAttachmentTransfer::Kind kind = QAttachmentTransfer::Upload;
    QAttachmentState::State startState = QAttachmentState::QueuedUpload;
    QAttachmentTransfer *transfer = nullptr;
    std::unique_ptr<QIODevice> device;
    bool abandoned = false; // aborted by the queue: the outcome is ignored
    QAttachmentError localError; // failed before any transfer could start

    // The outcome, decided once when the transfer ends (a download is on
    // disk under its final name by then). Writing it to the table may fail
    // and be tried again; the transfer is never run again for that.
    bool settled = false;
    QAttachmentError outcome;
    bool giveUp = false; // the error handler gave up: the row is archived
    bool unrecorded = false; // a write of the outcome failed and was reported
};

// The rows queries read, in this column order (see rowFromQuery()).
#define PSA_ROW_COLUMNS \
    "id, filename, local_uri, timestamp, size, media_type, state, has_synced, meta_data"

class QAttachmentQueuePrivate
{
    Q_DECLARE_PUBLIC(QAttachmentQueue)

public:
    explicit QAttachmentQueuePrivate(QAttachmentQueue *q);
    ~QAttachmentQueuePrivate();

    // --- database ---------------------------------------------------------
    QSqlDatabase database() const;
    // Opens the storage and creates the table on first use (saveFile works
    // before startSync). Reports failures through errorOccurred.
    bool ensureReady(QString *errorString);
    void invalidateReady();
    QString t() const { return table.name(); }
    static QAttachment rowFromQuery(const QSqlQuery &query);
    // A row read back from the table is checked like one coming in: a
    // tampered or corrupt row is reported (once) and left alone.
    QString rowProblem(const QAttachment &row) const;
    bool acceptRow(const QAttachment &row);
    std::optional<QAttachment> readRow(const QString &id, QString *errorString) const;
    // Runs `sql` with positional parameters; false (and errorString) on failure.
    bool exec(QSqlQuery &query, const QString &sql, const QVariantList &params,
              QString *errorString) const;
    bool beginWrite(bool *ownTransaction, QString *errorString);
    bool endWrite(bool ownTransaction, bool commit, QString *errorString);
    // One statement and the app's update hook in one transaction.
    bool writeWithHook(const QString &sql, const QVariantList &params,
                       const QAttachmentQueue::UpdateHook &hook, const QAttachment &attachment,
                       QString *errorString);
    void reportError(QAttachmentError::Code code, const QString &message);
    // Reports a problem that recurs (a failing watch query, a table that
    // cannot be written) once, until clearRecurring(key) says it went away.
    void reportRecurring(const QString &key, QAttachmentError::Code code, const QString &message);
    void clearRecurring(const QString &key);

    // --- local files ------------------------------------------------------
    QAttachmentLocalStorage *storage() const;
    // Where the attachment's file is (its local_uri, else where it goes).
    QString localName(const QAttachment &attachment) const;
    // Where a download of the attachment is written.
    static QString downloadName(const QAttachment &attachment);

    // --- watching and reconciliation --------------------------------------
    void reconcile();
    bool runWatchQuery(QString *errorString);
    void subscribeWatchTables();
    void unsubscribeWatchTables();
    void onDatabaseNotification(const QString &table);
    // At start: rows that lost their file are archived; files and partial
    // files that no row owns (left by a crash) are removed.
    void verifyLocalFiles();
    void guardWatchTable(const QString &table, bool guard);

    // --- transfers ----------------------------------------------------------
    void schedulePump();
    void pump();
    void startJob(const QAttachment &row);
    void onJobFinished(QAttachmentJob *job);
    void startFlush();
    void flushCompletions();
    // Decides a finished job's outcome, once: keeps a download's file, asks
    // the error handler about a failure.
    void settleJob(QAttachmentJob *job);
    // Writes a settled outcome; false when the row could not be written
    // (`problem` says why). Side effects go to `after`, run once committed.
    bool recordJob(QAttachmentJob *job, QList<std::function<void()>> *after, QString *problem);
    enum class FailureDecision { Retry, GiveUp };
    FailureDecision decideFailure(QAttachmentJob *job, const QAttachmentError &error);
    // The pause before attempt `attempts + 1`, with jitter, within the caps.
    qint64 backoff(int attempts) const;
    // The longest pause between two attempts: maxRetryDelay, and no more
    // than syncInterval when that is set.
    qint64 retryCap() const;
    void abortJob(const QString &id);
    void abortJobIfStale(const QString &id, QAttachmentState::State newState);
    void abortAll();
    void releaseJob(QAttachmentJob *job);
    void clearRetries();

    // --- bookkeeping ----------------------------------------------------------
    void scheduleCounts();
    void updateCounts();
    void updateIdle();
    void setSyncing(bool syncing);
    void emitChanged(const QAttachment &attachment);

    QAttachmentQueue *q_ptr;

    QString connectionName;
    QAttachmentQueueTable table;
    QString localDirectory;
    std::unique_ptr<QAttachmentLocalStorage> ownedStorage;
    QAttachmentLocalStorage *externalStorage = nullptr;
    QPointer<QAttachmentRemoteStorage> remote;
    QAttachmentErrorHandler *errorHandler = nullptr;

    int syncInterval = 30000;
    int archivedCacheLimit = 100;
    bool downloadAttachments = true;
    int maxConcurrentTransfers = 6;
    int maxAttempts = 0;
    int retryDelay = 1000;
    int maxRetryDelay = 300000;
    bool online = true;
    QString watchQuery;
    QStringList watchTables;
    QString defaultFileExtension;

    bool ready = false;
    bool syncing = false;
    bool idle = true;
    int pendingUploads = 0;
    int pendingDownloads = 0;
    int pendingDeletes = 0;

    // The watched set: from the watch query or pushed by the app. Unknown until
    // either delivers, and nothing is archived before it is known.
    std::optional<QList<QWatchedAttachmentItem>> watched;
    // Ids watched at the previous reconciliation. An archived row is restored
    // when its id becomes watched, not while it stays watched: otherwise a
    // "give up" on a watched attachment would be undone at once.
    QSet<QString> previouslyWatched;
    bool restoreAllWatched = true;
    QSet<QString> reportedBadIds;
    QHash<QString, QString> recurringProblems; // key -> message last reported
    qint64 runStartedMs = 0; // wall clock; files older than this with no row are orphans
    int recordFailures = 0; // consecutive failed writes of finished transfers
    QStringList subscribedTables;
    QMetaObject::Connection driverConnection;
    QMetaObject::Connection networkConnection;

    // Pending work by id, in the order it became due; refreshed from the table
    // when something other than a finished transfer changed it.
    QList<QAttachment> pending;
    bool pendingDirty = true;

    struct Retry
    {
        int attempts = 0;
        qint64 notBefore = 0; // on `clock`
        QAttachmentError error;
    };
    QHash<QString, Retry> retries;
    QHash<QString, QAttachmentJob *> jobs;
    QList<QAttachmentJob *> finishedJobs;
    QElapsedTimer clock;

    QTimer pumpTimer; // zero-delay: coalesces "start what can start"
    QTimer retryTimer; // fires when the earliest backoff ends
    QTimer flushTimer; // writes finished transfers in one transaction; backs off when that fails
    QTimer countsTimer; // recounts pending work, at most once per interval
    QElapsedTimer countsClock; // since the last recount
    QTimer periodicTimer; // syncInterval
    QTimer watchTimer; // zero-delay: re-runs the watch query after table changes
};

#endif // QATTACHMENTQUEUE_P_H
