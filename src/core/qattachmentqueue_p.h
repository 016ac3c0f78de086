#ifndef QATTACHMENTQUEUE_P_H
#define QATTACHMENTQUEUE_P_H

#include "qattachmentcheckpointer_p.h"
#include "qattachmentqueue.h"
#include "qattachmentremotestorage.h"
#include "qattachmentscheduler_p.h"
#include "qattachmentstatus.h"
#include "qattachmentstatustracker_p.h"
#include "qattachmentstore_p.h"
#include "qattachmentwatcher_p.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>

#include <functional>
#include <memory>
#include <optional>

class QAttachmentLocalStorage;
class QAttachmentRemoteStorage;

// The state behind QAttachmentQueue: its settings, the collaborators that do
// the work (the store for SQL, the reconciler for the watched set, the
// scheduler for transfers) and what ties them together: readiness, watching,
// the start-up check of local files, counts and per-attachment status.
class QAttachmentQueuePrivate
{
public:
    Q_DECLARE_PUBLIC(QAttachmentQueue)

    explicit QAttachmentQueuePrivate(QAttachmentQueue *q);
    ~QAttachmentQueuePrivate();

    // --- database ---------------------------------------------------------
    // Opens the storage and creates the table on first use (saveFile works
    // before startSync). Reports failures through errorOccurred.
    bool ensureReady(QString *errorString);
    bool createTableBriefly(QString *errorString);
    void invalidateReady();
    // Moves WAL checkpoints of the queue's connection to a thread of their
    // own (QAttachmentCheckpointer) when backgroundCheckpoints is on and the
    // database is a file in WAL mode; otherwise stops doing so.
    void updateCheckpointer();
    // A row read back from the table is checked like one coming in: a
    // tampered or corrupt row is reported (once) and left alone.
    QString rowProblem(const QAttachment &row) const;
    bool acceptRow(const QAttachment &row);
    // One row write and the app's update hook in one transaction. `write`
    // is a single statement: without a hook it runs on its own.
    bool writeWithHook(const std::function<bool(QString *)> &write,
                       const QAttachmentQueue::UpdateHook &hook, const QAttachment &attachment,
                       QString *errorString);
    void reportError(QAttachmentError::Code code, const QString &message);
    // Reports a problem that recurs (a failing watch query, a table that
    // cannot be written) once, until clearRecurring(key) says it went away.
    void reportRecurring(const QString &key, QAttachmentError::Code code, const QString &message);
    void clearRecurring(const QString &key);

    // Stops syncing, applies `change`, forgets what it knew of the table,
    // `notify`s and starts again if it was syncing.
    void reconfigure(const std::function<void()> &change, const std::function<void()> &notify);

    // --- new attachments ----------------------------------------------------
    // The extension of a saved file: given, else defaultFileExtension, else `dat`.
    QString newExtension(const QString &given) const;
    QString problemWithNewId(const QString &id, const QString &extension) const;
    // The local file name of a new attachment; empty (and `problem`) when its
    // filename or media type is unsafe.
    QString newLocalName(const QString &id, const QString &filename, const QString &mediaType,
                         QString *problem) const;

    // --- local files ------------------------------------------------------
    QAttachmentLocalStorage *storage() const;
    // Where the attachment's file is (its local_uri, else where it goes).
    static QString localName(const QAttachment &attachment);
    // Where a download of the attachment is written.
    static QString downloadName(const QAttachment &attachment);

    // --- syncing ----------------------------------------------------------
    bool startSync();
    void stopSyncing();
    void triggerSync();
    void refreshWatchQuery();
    int expireCache();

    // --- watching and reconciliation --------------------------------------
    void reconcile();
    bool runWatchQuery(QString *errorString);
    void subscribeWatchTables();
    void unsubscribeWatchTables();
    void onDatabaseNotification(const QString &table);
    // Checks for other connections' commits every pollInterval (or stops).
    void startPolling();
    void onExternalChange();
    // At start: rows that lost their file are archived; files and partial
    // files that no row owns (left by a crash) are removed. Table work of its
    // own (see verifyStep), that goes on to reconcile and expire.
    void verifyLocalFiles();
    // The start-up check runs: no transfer starts until it is done.
    POWERSYNC_ATTACHMENTS_TEST_EXPORT bool checkingFiles() const;

    // --- long work on the table, in slices --------------------------------------
    // Reconciliation reads the table a page at a time, plans a bounded number
    // of items at a time, writes its plan a chunk of rows per transaction,
    // then expires archived rows beyond the cache limit a chunk at a time:
    // steps of a few milliseconds, as many per event-loop turn as fit in
    // sliceBudgetNs, the first turn at once (a small watched set is done when
    // the call returns), the rest from the event loop. A step that finds the
    // database locked by another connection (it never waits for it) is tried
    // again later.
    struct TableWork;
    // Wait: a thread of its own does the next step's work; the turn ends
    // and the work goes on when it is done.
    enum class StepResult { More, Done, Busy, Failed, Wait };
    void startTableWork();
    void runTableWork(bool first = false);
    StepResult tableWorkStep();
    StepResult readStep();
    StepResult planStep();
    StepResult writeStep();
    StepResult replanStep();
    StepResult expireStep();
    StepResult clearStep();
    StepResult verifyStep();
    StepResult verifyRowsStep();
    StepResult verifySweepStep();
    void listFilesInBackground(const QString &root);
    // After the start-up check: reconciliation when the watched set is
    // known, expiry when asked, else done.
    StepResult afterVerify();
    // Starts table work at `phase` (expiry or clearing alone), its first
    // turn at once; false when that turn failed.
    bool startTableWorkAt(int phase);
    // Rows other writers changed since the last step: re-read while the
    // table is being read, planned again once it is written.
    StepResult takeTouchedRows();
    void dropTableWork();
    // The signals and rescheduling of the step that just ran.
    void flushTableWorkSignals();
    bool hasTableWork() const { return tableWork != nullptr; }

    // What one event-loop turn of table work did; tests watch it.
    struct TableWorkTurn
    {
        int steps = 0;
        int rowsRead = 0;
        int itemsPlanned = 0;
        int rowsWritten = 0;
        int rowsExpired = 0;
        int rowsCleared = 0;
        int rowsChecked = 0;
        bool done = false;
    };
    static QAttachmentQueuePrivate *get(QAttachmentQueue *queue) { return queue->d_func(); }

    // --- bookkeeping ----------------------------------------------------------
    void scheduleCounts();
    void updateCounts();
    void updateIdle();
    void setSyncing(bool syncing);
    // The row changed: attachmentChanged, and the status follows.
    void emitChanged(const QAttachment &attachment)
    {
        statuses.changed(
            attachment,
            q_ptr->isSignalConnected(QMetaMethod::fromSignal(&QAttachmentQueue::statusChanged)));
    }
    // The row is gone: attachmentRemoved, and the status follows.
    void emitRemoved(const QString &id) { statuses.removed(id); }
    void emitStatusChanged(const QString &id) { statuses.statusChanged(id); }

    // --- saving and clearing -------------------------------------------------
    // Stores `data` under `localName`, then inserts the row and runs the hook
    // in one transaction; an invalid attachment (and `problem`) on failure.
    QAttachment addSaved(QIODevice *data, const QString &id, const QString &filename,
                         const QString &localName, const QString &mediaType,
                         const QString &metaData, const QAttachmentQueue::UpdateHook &hook,
                         QString *problem);
    bool clearQueue();

    QAttachmentQueue *q_ptr;

    QAttachmentStore store;
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
    int pollInterval = 250;
    QString defaultFileExtension;
    bool backgroundCheckpoints = false;

    bool ready = false;
    bool syncing = false;
    bool idle = true;
    int failing = 0;
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
    std::unique_ptr<QAttachmentWatcher> watcher;
    QAttachmentStatusTracker statuses;

    std::unique_ptr<QAttachmentScheduler> scheduler;
    QAttachmentCheckpointer checkpointer;

    QTimer countsTimer; // recounts pending work, at most once per interval
    QElapsedTimer countsClock; // since the last recount
    QTimer watchTimer; // zero-delay: re-runs the watch query after table changes
    std::unique_ptr<TableWork> tableWork; // reconciliation being written, in slices
    QTimer tableWorkTimer; // the next slice, or a retry while the database is busy
    bool reconcileAgain = false; // asked for while a reconciliation was being written
    qint64 sliceBudgetNs = 8'000'000; // the length of one turn of table work
    quint64 tableWorkGenerations = 0;
    QList<QAttachment> workChanged; // signals of the step that ran, sent after it
    QStringList workRemoved;
    bool workReschedule = false;
    std::function<void(const TableWorkTurn &)> tableWorkObserver; // for tests
    int expiredTotal = 0; // rows expired by table work, ever (expireCache() counts with it)
    bool tableWorkFailed = false; // the last table work ended in a failure
};

#endif // QATTACHMENTQUEUE_P_H
