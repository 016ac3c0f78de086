#include "qattachmentqueue_p.h"

#include "qattachmentfileverifier_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentreconciler_p.h"
#include "qfilesystemattachmentstorage.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfuturewatcher.h>
#include <QtCore/qpromise.h>
#include <QtCore/qthreadpool.h>

#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>
#include <algorithm>
#include <tuple>
#include <typeinfo>

using State = QAttachmentState::State;

namespace {
// One step of table work handles at most this many rows or items (a few
// milliseconds); a turn runs steps until sliceBudgetNs is used.
constexpr int ReadPageRows = 256;
constexpr qsizetype PlanItems = 1024;
constexpr qsizetype ChunkRows = 256; // rows written per transaction
// Expiry removes two files per row: fewer rows per transaction.
constexpr int ExpiryChunkRows = 64;
// The start-up check's sweep looks at this many listed names per step (most
// of them owned by a row: a hash lookup each).
constexpr qsizetype SweepNames = 8192;
// The turn of the call that starts the work runs at least this many steps,
// whatever the time: a small watched set is then done when the call returns.
constexpr int FirstTurnSteps = 8;
// The start-up check of a small table (one page of rows) is done in the turn
// of startSync(), and the reconciliation after it as far as FirstTurnSteps
// would take it.
constexpr int VerifyFirstTurnSteps = FirstTurnSteps + 4;
// clearQueue() deletes the rows of a table of up to this many rows before it
// returns (callers see them gone; their files follow in slices); a larger
// table is cleared in slices after.
constexpr int ClearFirstTurnRows = 4096;
// A watched set that changes while the previous one is planned restarts the
// plan, at most this often; then the plan is written and planned again after.
constexpr int MaxPlanRestarts = 3;
constexpr int MaxBusyRetryMs = 1000;
// The rows a plan was made from are freed on another thread from this many
// (freeing 100,000 of them stalled the app's thread for 40-100 ms).
constexpr qsizetype FreeElsewhereRows = 8192;
// Each phase starts with the sizes above and halves them (down to 1/4)
// while its steps take longer than this, doubling them back while they take
// less than a third of it: a step stays short on a loaded machine or a slow
// disk, where 64 file removals or a commit can take tens of milliseconds.
constexpr qint64 StepTargetNs = 3'000'000;
constexpr int MaxStepShift = 2;

qsizetype scaled(qsizetype size, int shift)
{
    return qMax<qsizetype>(1, size >> shift);
}

using StepResult = QAttachmentQueuePrivate::StepResult;

// The writes of a step of table work, in one transaction of their own:
// More when they were committed; Busy when another connection holds a lock
// (the transaction could not begin, or a write or the commit met the lock):
// nothing was written, and the step is tried again from the event loop;
// Failed otherwise, `*problem` saying why. Either way the store forgets the
// rows it wrote: the next step does not take them for other writers'.
StepResult writeInTransaction(QAttachmentStore &store,
                              const std::function<bool(QString *problem)> &write, QString *problem)
{
    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(store);
        if (transaction.isBusy())
            return StepResult::Busy;
        *problem = transaction.errorString();
        ok = transaction.isOpen() && write(problem) && transaction.commit(problem);
        if (!ok && store.lastFailureWasBusy()) {
            transaction.rollback();
            store.takeTouched();
            return StepResult::Busy;
        }
    }
    store.takeTouched(); // its own writes
    return ok ? StepResult::More : StepResult::Failed;
}

// Frees `values` (taken from the caller, left empty) on a pool thread: a
// large listing or table takes milliseconds to free.
template<typename... T>
void freeOnPoolThread(T &...values)
{
    QThreadPool::globalInstance()->start(
        [held = std::make_tuple(std::exchange(values, {})...)]() mutable { held = {}; });
}

} // namespace

struct QAttachmentQueuePrivate::TableWork
{
    enum class Phase { Read, Plan, Write, Replan, Expire, Clear, Verify };
    Phase phase = Phase::Read;
    Phase started = Phase::Read; // what the work was started for
    // Read: every row (insertion order), by id; a row that went away while
    // the table was read stays as an invalid attachment. Rows that fail
    // validation are reported and their ids never changed.
    QVariant cursor;
    QList<QAttachment> rows;
    QHash<QString, qsizetype> index;
    QSet<QString> leftAlone;
    // Plan: made over `rows` from the watched set as it was when planning began.
    std::unique_ptr<QAttachmentReconciler::Planner> planner;
    int planRestarts = 0;
    // Write: new rows, then changed rows, in chunks.
    QList<QAttachment> inserts;
    qsizetype insertsDone = 0;
    QList<QAttachmentStore::Change> updates;
    qsizetype updatesDone = 0;
    QSet<QString> watchedIds;
    bool changedRows = false;
    // Replan: rows others wrote after they were read, planned again (archived
    // when no longer watched) once the plan is written.
    QSet<QString> replan;
    // Expire: when the plan changed rows, or when asked.
    bool expire = false;
    QAttachmentStore::ExpiryCursor expiry;
    int expired = 0;
    int busyRetries = 0;
    TableWorkTurn turn;
    quint64 generation = 0;
    // Per phase: how far its step sizes are halved (see StepTargetNs).
    int stepShift[7] = {0, 0, 0, 0, 0, 0, 0};
    // Clear: rows deleted so far; the ids the queue wrote after the call
    // (saveFile, deleteFile) are in `replan` and are kept. The files of the
    // deleted rows go once every row is deleted.
    int cleared = 0;
    bool rowsCleared = false;
    QList<QAttachment> clearFiles;
    // Verify: the start-up check of local files. The first page of rows,
    // read before the listing, tells a small table (listed at once) from a
    // large one (listed on a thread of its own); then the rows a page per
    // step, then the files no row owns, a chunk per step, then the partial
    // files.
    enum class VerifyStage { Start, Listing, Rows, Orphans, Partials };
    VerifyStage verifyStage = VerifyStage::Start;
    std::shared_ptr<QAttachmentFileVerifier> verifier;
    std::unique_ptr<QFutureWatcher<std::shared_ptr<QAttachmentFileVerifier>>> listing;
    QList<QAttachment> firstPage;
    bool firstPageIsLast = false;
    QStringList partialNames;
    qsizetype swept = 0; // names of the current sweep looked at
    int missing = 0;
    int orphans = 0;
    int partials = 0;
    int shift() const { return stepShift[int(phase)]; }
};

QAttachmentQueuePrivate::QAttachmentQueuePrivate(QAttachmentQueue *q)
    : q_ptr(q)
    , runStartedMs(QDateTime::currentMSecsSinceEpoch())
    , statuses(q)
{
    scheduler = std::make_unique<QAttachmentScheduler>(*this);
    store.setCommitObserver([this] { checkpointer.noteCommit(); });
    watcher = std::make_unique<QAttachmentWatcher>(
        q, [this](const QString &table) { onDatabaseNotification(table); },
        [this] { onExternalChange(); });
    for (QTimer *timer : {&countsTimer, &watchTimer}) {
        timer->setSingleShot(true);
        timer->setInterval(0);
    }
    QObject::connect(&countsTimer, &QTimer::timeout, q, [this] { updateCounts(); });
    QObject::connect(&watchTimer, &QTimer::timeout, q, [this] { refreshWatchQuery(); });
    tableWorkTimer.setSingleShot(true);
    QObject::connect(&tableWorkTimer, &QTimer::timeout, q, [this] { runTableWork(); });
}

QAttachmentQueuePrivate::~QAttachmentQueuePrivate() = default;

QAttachmentLocalStorage *QAttachmentQueuePrivate::storage() const
{
    return externalStorage ? externalStorage : ownedStorage.get();
}

QString QAttachmentQueuePrivate::localName(const QAttachment &attachment)
{
    return attachment.localUri().isEmpty() ? downloadName(attachment) : attachment.localUri();
}

QString QAttachmentQueuePrivate::downloadName(const QAttachment &attachment)
{
    return QAttachmentNames::localNameFor(attachment.id(), attachment.filename());
}

// The table's set-up waits for another connection's lock as briefly as a
// save does, not for the connection's busy timeout on the app's thread: a
// first use then fails as busy, and the next call tries again.
bool QAttachmentQueuePrivate::createTableBriefly(QString *errorString)
{
    const QAttachmentStore::BusyLimit shortWait(store, QAttachmentStore::BusyTimeoutMs);
    return store.createTable(errorString);
}

bool QAttachmentQueuePrivate::ensureReady(QString *errorString)
{
    const QSqlDatabase db = store.database();
    // The app may close or remove its connection at any time: one cheap
    // check here gives one clear error instead of one per failing statement.
    if (ready && db.isOpen())
        return true;
    ready = false;
    store.dropStatements();
    QString problem;
    if (!storage()) {
        problem = QStringLiteral("no local storage: set localDirectory or localStorage");
    } else if (!db.isValid()) {
        problem = QStringLiteral("no database connection named \"%1\"").arg(store.connectionName());
    } else if (!db.isOpen()) {
        problem = QStringLiteral("the database connection \"%1\" is not open")
                      .arg(store.connectionName());
    } else if (!storage()->initialize(&problem)) {
        problem = QStringLiteral("local storage unusable: %1").arg(problem);
    } else if (!createTableBriefly(&problem)) {
        problem = QStringLiteral("cannot create the queue table: %1").arg(problem);
    }
    if (!problem.isEmpty()) {
        const bool invalid = !storage() || !store.table().validate().isEmpty();
        reportError(invalid ? QAttachmentError::InvalidInput : QAttachmentError::DatabaseError,
                    problem);
        if (errorString)
            *errorString = problem;
        return false;
    }
    ready = true;
    updateCheckpointer();
    return true;
}

void QAttachmentQueuePrivate::updateCheckpointer()
{
    const QString connection = store.database().connectionName();
    if (!backgroundCheckpoints || !ready) {
        checkpointer.stop();
        return;
    }
    if (checkpointer.isRunning() && checkpointer.connectionName() == connection)
        return;
    QString why;
    if (!checkpointer.start(connection, &why))
        qCDebug(lcQueue) << "checkpoints stay with the connection:" << why;
}

void QAttachmentQueuePrivate::invalidateReady()
{
    ready = false;
    // Statements prepared on the connection go with it: after close() the
    // app may remove the connection without one left in use.
    store.dropStatements();
    checkpointer.stop();
    dropTableWork();
    scheduler->clearPending(true);
    previouslyWatched.clear();
    restoreAllWatched = true;
    statuses.clear();
}

void QAttachmentQueuePrivate::reconfigure(const std::function<void()> &change,
                                          const std::function<void()> &notify)
{
    const bool wasSyncing = syncing;
    stopSyncing();
    change();
    invalidateReady();
    notify();
    if (wasSyncing)
        startSync();
}

QString QAttachmentQueuePrivate::newExtension(const QString &given) const
{
    if (!given.isEmpty())
        return given;
    return defaultFileExtension.isEmpty() ? QStringLiteral("dat") : defaultFileExtension;
}

QString QAttachmentQueuePrivate::problemWithNewId(const QString &id, const QString &extension) const
{
    const QString problem = QAttachmentNames::problemWith(id, QStringLiteral("attachment id"));
    return problem.isEmpty() ? QAttachmentNames::problemWithExtension(extension) : problem;
}

QString QAttachmentQueuePrivate::newLocalName(const QString &id, const QString &filename,
                                              const QString &mediaType, QString *problem) const
{
    *problem = QAttachmentNames::problemWith(filename, QStringLiteral("filename"));
    // It goes into a Content-Type header: nothing may add a header line.
    if (problem->isEmpty() && !mediaType.isEmpty())
        *problem = QAttachmentNames::problemWithMediaType(mediaType);
    if (!problem->isEmpty())
        return {};
    // Unique per attachment, whatever the (remote) filename is.
    const QString name = QAttachmentNames::localNameFor(id, filename);
    if (name.isEmpty())
        *problem = QStringLiteral("no safe local file name can be made for %1").arg(id);
    return name;
}

bool QAttachmentQueuePrivate::writeWithHook(const std::function<bool(QString *)> &write,
                                            const QAttachmentQueue::UpdateHook &hook,
                                            const QAttachment &attachment, QString *errorString)
{
    if (!hook)
        return store.writeOneStatement(write, errorString);
    QAttachmentStore::WriteTransaction transaction(store);
    if (!transaction.isOpen()) {
        if (errorString)
            *errorString = transaction.errorString();
        return false;
    }
    if (!write(errorString))
        return false;
    if (hook) {
        QAttachmentTransaction tx(store.database());
        const bool accepted = hook(tx, attachment);
        if (tx.hasError() || !accepted) {
            if (errorString)
                *errorString
                    = tx.hasError() ? tx.errorString() : QStringLiteral("the update hook declined");
            return false;
        }
    }
    return transaction.commit(errorString);
}

QString QAttachmentQueuePrivate::rowProblem(const QAttachment &row) const
{
    using namespace QAttachmentNames;
    QString problem = problemWith(row.id(), QStringLiteral("id"));
    if (problem.isEmpty())
        problem = problemWith(row.filename(), QStringLiteral("filename"));
    if (problem.isEmpty() && !row.localUri().isEmpty())
        problem = problemWith(row.localUri(), QStringLiteral("local_uri"));
    if (problem.isEmpty() && localNameForSafeId(row.id(), row.filename()).isEmpty())
        problem = QStringLiteral("no safe local file name can be made from it");
    if (problem.isEmpty() && !row.mediaType().isEmpty())
        problem = problemWithMediaType(row.mediaType());
    if (problem.isEmpty() && row.state() == QAttachmentState::Invalid)
        problem = QStringLiteral("its state is not one of 0 to 4");
    return problem;
}

bool QAttachmentQueuePrivate::acceptRow(const QAttachment &row)
{
    const QString problem = rowProblem(row);
    if (problem.isEmpty())
        return true;
    // Ids of bad rows may themselves be hostile: quoted, control characters escaped.
    const QString key = QStringLiteral("row:") + row.id();
    reportRecurring(key, QAttachmentError::InvalidInput,
                    QStringLiteral("row %1 of %2 is left alone: %3")
                        .arg(QString::fromLatin1(row.id().toUtf8().toPercentEncoding(" ")),
                             store.tableName(), problem));
    return false;
}

void QAttachmentQueuePrivate::reportError(QAttachmentError::Code code, const QString &message)
{
    Q_Q(QAttachmentQueue);
    qCWarning(lcQueue).noquote() << message;
    emit q->errorOccurred(QAttachmentError(code, message));
}

void QAttachmentQueuePrivate::reportRecurring(const QString &key, QAttachmentError::Code code,
                                              const QString &message)
{
    auto it = recurringProblems.find(key);
    if (it != recurringProblems.end() && *it == message)
        return;
    recurringProblems.insert(key, message);
    reportError(code, message);
}

void QAttachmentQueuePrivate::clearRecurring(const QString &key)
{
    recurringProblems.remove(key);
}

// --- saving and clearing ------------------------------------------------------------

QAttachment QAttachmentQueuePrivate::addSaved(QIODevice *data, const QString &id,
                                              const QString &filename, const QString &localName,
                                              const QString &mediaType, const QString &metaData,
                                              const QAttachmentQueue::UpdateHook &hook,
                                              QString *problem)
{
    // The file first: a row must never point at a file that is not there.
    QAttachmentLocalStorage *files = storage();
    const qint64 size = files->save(localName, data, problem);
    if (size < 0) {
        *problem = QStringLiteral("cannot store %1: %2").arg(filename, *problem);
        return {};
    }
    QAttachment attachment(id, filename, State::QueuedUpload);
    attachment.setLocalUri(localName);
    attachment.setMediaType(mediaType);
    attachment.setSize(size);
    attachment.setMetaData(metaData);
    attachment.setTimestamp(QDateTime::currentMSecsSinceEpoch());
    if (!writeWithHook([&](QString *error) { return store.insert(attachment, error); }, hook,
                       attachment, problem)) {
        files->remove(localName);
        *problem = QStringLiteral("nothing saved: %1").arg(*problem);
        return {};
    }
    qCDebug(lcQueue) << "saved" << attachment;
    scheduler->addPending(attachment);
    emitChanged(attachment);
    scheduleCounts();
    scheduler->schedule();
    return attachment;
}

bool QAttachmentQueuePrivate::clearQueue()
{
    QString problem;
    if (!ensureReady(&problem))
        return false;
    scheduler->abortAll();
    // Nothing pending is started while the rows go away.
    scheduler->clearPending(false);
    // A reconciliation being written is dropped and runs again once the
    // table is empty, from the table as it is then.
    const bool reconciling = tableWork && tableWork->phase != TableWork::Phase::Clear
        && tableWork->phase != TableWork::Phase::Expire;
    dropTableWork();
    const bool ok = startTableWorkAt(int(TableWork::Phase::Clear));
    if (!tableWork) // cleared in this turn: the counts say so at once
        updateCounts();
    if (reconciling) {
        if (tableWork)
            reconcileAgain = true;
        else
            reconcile();
    }
    return ok;
}

// --- syncing -----------------------------------------------------------------------

bool QAttachmentQueuePrivate::startSync()
{
    if (syncing)
        return true;
    if (!remote) {
        reportError(QAttachmentError::InvalidInput,
                    QStringLiteral("startSync: no remote storage is set"));
        return false;
    }
    QString problem;
    if (!ensureReady(&problem))
        return false;

    scheduler->followNetwork();
    restoreAllWatched = true;
    setSyncing(true);
    subscribeWatchTables();
    scheduler->invalidatePending();
    if (!watchQuery.isEmpty())
        runWatchQuery(nullptr);
    // The check of local files, then reconciliation and expiry, as one piece
    // of table work: its first turn now, the rest from the event loop. No
    // transfer starts before the check is done.
    verifyLocalFiles();
    scheduler->setPeriodic(syncInterval);
    scheduler->startDue();
    updateCounts();
    return true;
}

void QAttachmentQueuePrivate::stopSyncing()
{
    // A clearing goes on (it needs no sync); reconciliation and expiry run
    // again at the next start.
    if (tableWork && tableWork->phase == TableWork::Phase::Clear)
        reconcileAgain = false;
    else
        dropTableWork();
    scheduler->stopTimers();
    watchTimer.stop();
    unsubscribeWatchTables();
    // Results waiting to be written are written: their transfers are done.
    scheduler->flush(QAttachmentScheduler::StartNothing);
    scheduler->abortAll();
    setSyncing(false);
    updateIdle();
}

void QAttachmentQueuePrivate::triggerSync()
{
    if (!syncing)
        return;
    if (!watchQuery.isEmpty())
        runWatchQuery(nullptr);
    reconcile();
    if (hasTableWork()) // it expires once the reconciliation is written
        tableWork->expire = true;
    else
        expireCache();
    scheduler->invalidatePending();
    scheduler->schedule();
}

void QAttachmentQueuePrivate::refreshWatchQuery()
{
    if (!syncing || watchQuery.isEmpty())
        return;
    if (runWatchQuery(nullptr))
        reconcile();
}

int QAttachmentQueuePrivate::expireCache()
{
    QString problem;
    if (!ensureReady(&problem))
        return -1;
    if (tableWork) {
        // Reconciliation runs: it expires once its plan is written. A
        // clearing leaves nothing to expire.
        if (tableWork->phase != TableWork::Phase::Clear)
            tableWork->expire = true;
        return 0;
    }
    // Expiry as table work: a page of rows and their files per step, the
    // first steps now, the rest from the event loop.
    const int before = expiredTotal;
    if (!startTableWorkAt(int(TableWork::Phase::Expire)))
        return -1;
    return expiredTotal - before;
}

// --- the start-up check of local files ----------------------------------------------

void QAttachmentQueuePrivate::verifyLocalFiles()
{
    if (tableWork && tableWork->phase == TableWork::Phase::Clear) {
        // A clearing goes on: it removes the rows and their files, and the
        // reconciliation follows it.
        reconcileAgain = true;
        return;
    }
    // An expiry started before (expireCache() works without syncing) is
    // done again after the check: each of its steps is whole.
    dropTableWork();
    startTableWorkAt(int(TableWork::Phase::Verify));
}

bool QAttachmentQueuePrivate::checkingFiles() const
{
    return tableWork && tableWork->phase == TableWork::Phase::Verify;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::verifyStep()
{
    TableWork &work = *tableWork;
    switch (work.verifyStage) {
    case TableWork::VerifyStage::Start: {
        // One page of rows first: a table that fits in it is checked in this
        // step's turn, a larger one waits for the listing, made on a thread
        // of its own (100,000 names take tens of milliseconds).
        const int limit = int(scaled(ReadPageRows, work.shift()));
        QList<QAttachment> page;
        QVariant cursor;
        QString problem;
        {
            QAttachmentStore::BusyLimit busyLimit(store, 0);
            if (!store.rowsPage(&cursor, limit, &page, &problem)) {
                if (store.lastFailureWasBusy())
                    return StepResult::Busy;
                reportError(QAttachmentError::DatabaseError, problem);
                return StepResult::Failed;
            }
        }
        work.firstPage = std::move(page);
        work.firstPageIsLast = work.firstPage.size() < limit;
        work.cursor = cursor;
        QAttachmentLocalStorage *files = storage();
        // Not a subclass: its own listing may differ.
        const bool onDisk = files && typeid(*files) == typeid(QFileSystemAttachmentStorage);
        if (onDisk && !work.firstPageIsLast) {
            listFilesInBackground(static_cast<QFileSystemAttachmentStorage *>(files)->rootPath());
            work.verifyStage = TableWork::VerifyStage::Listing;
            return StepResult::Wait;
        }
        work.verifier = std::make_shared<QAttachmentFileVerifier>(files->fileNames());
        work.verifyStage = TableWork::VerifyStage::Rows;
        return StepResult::More;
    }
    case TableWork::VerifyStage::Listing:
        return StepResult::Wait;
    case TableWork::VerifyStage::Rows:
        return verifyRowsStep();
    case TableWork::VerifyStage::Orphans:
    case TableWork::VerifyStage::Partials:
        return verifySweepStep();
    }
    return StepResult::Failed;
}

void QAttachmentQueuePrivate::listFilesInBackground(const QString &root)
{
    // The thread touches nothing of the queue: a storage of its own over the
    // same directory lists it, and the verifier it builds comes back through
    // the future. A check stopped meanwhile drops the watcher, and with it
    // the result.
    using Verifier = std::shared_ptr<QAttachmentFileVerifier>;
    TableWork &work = *tableWork;
    const quint64 generation = work.generation;
    auto promise = std::make_shared<QPromise<Verifier>>();
    work.listing = std::make_unique<QFutureWatcher<Verifier>>();
    QObject::connect(work.listing.get(), &QFutureWatcherBase::finished, q_ptr, [this, generation] {
        if (!tableWork || tableWork->generation != generation
            || tableWork->verifyStage != TableWork::VerifyStage::Listing || !tableWork->listing)
            return;
        const QFuture<Verifier> future = tableWork->listing->future();
        tableWork->verifier = future.resultCount() > 0 ? future.result() : Verifier();
        if (!tableWork->verifier) // no listing: the storage is asked per row
            tableWork->verifier = std::make_shared<QAttachmentFileVerifier>(QStringList());
        tableWork->verifyStage = TableWork::VerifyStage::Rows;
        runTableWork();
    });
    work.listing->setFuture(promise->future());
    promise->start();
    QThreadPool::globalInstance()->start([promise, root] {
        promise->addResult(std::make_shared<QAttachmentFileVerifier>(
            QFileSystemAttachmentStorage(root).fileNames()));
        promise->finish();
    });
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::verifyRowsStep()
{
    TableWork &work = *tableWork;
    const int limit = int(scaled(ReadPageRows, work.shift()));
    QList<QAttachment> page;
    QVariant cursor = work.cursor;
    bool last = false;
    const bool first = !work.firstPage.isEmpty() || work.firstPageIsLast;
    QString problem;
    QAttachmentStore::BusyLimit busyLimit(store, 0);
    if (first) {
        page = work.firstPage;
        last = work.firstPageIsLast;
    } else {
        if (!store.rowsPage(&cursor, limit, &page, &problem)) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
        last = page.size() < limit;
    }
    QAttachmentLocalStorage *files = storage();
    QList<QAttachment> missing = work.verifier->addRows(
        page, *files, [this](const QAttachment &row) { return rowProblem(row).isEmpty(); });
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!missing.isEmpty()) {
        // Read and written in one step: nothing the app does comes between.
        const StepResult written = writeInTransaction(
            store, [&](QString *why) { return store.archiveWithoutFile(missing, now, why); },
            &problem);
        if (written == StepResult::Busy)
            return StepResult::Busy; // the page is read again
        if (written == StepResult::Failed) {
            reportError(
                QAttachmentError::DatabaseError,
                QStringLiteral("archiving rows without local files failed: %1").arg(problem));
            return StepResult::Failed;
        }
        for (QAttachment &row : missing) {
            row.setState(State::Archived);
            row.setLocalUri(QString());
            row.setHasSynced(false);
            row.setTimestamp(now);
            scheduler->forget(row.id());
            workChanged.append(row);
        }
        work.missing += int(missing.size());
    }
    work.turn.rowsChecked += int(page.size());
    if (first) {
        work.firstPage = {};
        work.firstPageIsLast = false;
    } else {
        work.cursor = cursor;
    }
    if (last) {
        work.verifyStage = TableWork::VerifyStage::Orphans;
        work.swept = 0;
    }
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::verifySweepStep()
{
    // A chunk of file system calls per step; names a row owns cost nothing.
    TableWork &work = *tableWork;
    QAttachmentLocalStorage *files = storage();
    const qsizetype chunk = scaled(ExpiryChunkRows, work.shift());
    const qsizetype end = work.swept + scaled(SweepNames, work.shift());
    qsizetype calls = 0;
    if (work.verifyStage == TableWork::VerifyStage::Orphans) {
        // A crash between saveFile's file and its row, or between a row's
        // removal and its file's, leaves a file nobody owns. A file written
        // since the queue was made may belong to a row about to be committed.
        const QStringList &names = work.verifier->listedNames();
        while (work.swept < names.size() && work.swept < end && calls < chunk) {
            const QString &name = names.at(work.swept++);
            if (work.verifier->owns(name))
                continue;
            ++calls;
            const qint64 modified = files->lastModified(name);
            if (modified >= 0 && modified < runStartedMs && files->remove(name))
                ++work.orphans;
        }
        if (work.swept < names.size())
            return StepResult::More;
        work.partialNames = files->partialNames();
        work.swept = 0;
        work.verifyStage = TableWork::VerifyStage::Partials;
        return StepResult::More;
    }
    // A partial file only belongs to a row that is still downloading.
    while (work.swept < work.partialNames.size() && work.swept < end && calls < chunk) {
        const QString &name = work.partialNames.at(work.swept++);
        if (work.verifier->owns(name))
            continue;
        ++calls;
        if (files->removePartial(name))
            ++work.partials;
    }
    if (work.swept < work.partialNames.size())
        return StepResult::More;
    if (work.orphans || work.partials)
        qCInfo(lcQueue) << "removed" << work.orphans << "files and" << work.partials
                        << "partial downloads that no attachment owns";
    if (work.missing)
        qCInfo(lcQueue) << work.missing << "attachments lost their local file and were archived";
    return afterVerify();
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::afterVerify()
{
    TableWork &work = *tableWork;
    // Transfers may start now: what they read is checked.
    workReschedule = true;
    const bool expire = work.expire;
    const quint64 generation = work.generation;
    const bool changed = work.missing > 0;
    const TableWorkTurn turn = work.turn;
    // The listing of a large storage is freed on another thread: 100,000
    // names take milliseconds to free.
    const bool large = work.listing != nullptr;
    work.listing.reset();
    if (large && work.verifier)
        freeOnPoolThread(work.verifier);
    work = TableWork();
    work.generation = generation;
    work.turn = turn;
    work.expire = expire || changed;
    work.started = TableWork::Phase::Verify;
    if (syncing && watched && ready) {
        work.phase = TableWork::Phase::Read;
        return StepResult::More;
    }
    if (!work.expire)
        return StepResult::Done;
    work.phase = TableWork::Phase::Expire;
    return StepResult::More;
}

// --- bookkeeping ---------------------------------------------------------------------

void QAttachmentQueuePrivate::scheduleCounts()
{
    if (countsTimer.isActive())
        return;
    // Recounting queries every queued row: while transfers finish back to
    // back, once per interval keeps it from growing with the queue.
    constexpr qint64 CountsIntervalMs = 50;
    const qint64 since = countsClock.isValid() ? countsClock.elapsed() : CountsIntervalMs;
    countsTimer.start(int(qMax<qint64>(0, CountsIntervalMs - since)));
}

void QAttachmentQueuePrivate::updateCounts()
{
    Q_Q(QAttachmentQueue);
    countsTimer.stop();
    if (!ready)
        return;
    countsClock.start();
    int uploads = 0, downloads = 0, deletes = 0;
    QString problem;
    bool ok = false;
    {
        // Another connection's lock makes the counts wait for the next try.
        const QAttachmentStore::ReadLimit noWait(store, 0);
        ok = store.pendingCounts(&uploads, &downloads, &deletes, &problem);
    }
    if (!ok && store.lastFailureWasBusy()) {
        countsTimer.start(250);
        return;
    }
    if (!ok) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    if (uploads != pendingUploads) {
        pendingUploads = uploads;
        emit q->pendingUploadsChanged();
    }
    if (downloads != pendingDownloads) {
        pendingDownloads = downloads;
        emit q->pendingDownloadsChanged();
    }
    if (deletes != pendingDeletes) {
        pendingDeletes = deletes;
        emit q->pendingDeletesChanged();
    }
}

void QAttachmentQueuePrivate::updateIdle()
{
    Q_Q(QAttachmentQueue);
    // The failures are counted here because every change of the scheduler's
    // work ends here.
    const int nowFailing = scheduler->failingCount();
    if (nowFailing != failing) {
        failing = nowFailing;
        emit q->failingChanged();
    }
    const bool now = scheduler->isIdle();
    if (now == idle)
        return;
    idle = now;
    // Nothing left to do for now: a good moment to copy the log back.
    if (idle)
        checkpointer.checkpointSoon();
    emit q->idleChanged();
}

void QAttachmentQueuePrivate::setSyncing(bool value)
{
    Q_Q(QAttachmentQueue);
    if (syncing == value)
        return;
    syncing = value;
    emit q->syncingChanged();
}

// --- watching and reconciliation --------------------------------------------------

bool QAttachmentQueuePrivate::runWatchQuery(QString *errorString)
{
    QString problem;
    bool invalid = false;
    bool busy = false;
    std::optional<QList<QWatchedAttachmentItem>> items;
    {
        // With a rollback journal another connection's write can hold the
        // app's tables: the query runs again a moment later, the watched set
        // kept as it was meanwhile.
        const QAttachmentStore::ReadLimit shortWait(store, QAttachmentStore::BusyTimeoutMs);
        items = QAttachmentWatcher::run(store.database(), watchQuery, &problem, &invalid, &busy);
    }
    if (!items && busy) {
        qCDebug(lcQueue) << "the database is busy; the watch query runs again in 250 ms";
        if (syncing)
            watchTimer.start(250);
        if (errorString)
            *errorString = QStringLiteral("the database is busy: %1").arg(problem);
        return false;
    }
    if (!items) {
        reportRecurring(QStringLiteral("watch"),
                        invalid ? QAttachmentError::InvalidInput : QAttachmentError::DatabaseError,
                        problem);
        if (errorString)
            *errorString = problem;
        return false;
    }
    watched = std::move(items);
    clearRecurring(QStringLiteral("watch"));
    return true;
}

void QAttachmentQueuePrivate::subscribeWatchTables()
{
    watcher->subscribe(store.database(), watchTables);
    startPolling();
}

void QAttachmentQueuePrivate::unsubscribeWatchTables()
{
    watcher->stopPolling();
    watcher->unsubscribe(store.database());
}

void QAttachmentQueuePrivate::startPolling()
{
    watcher->startPolling(store.database().connectionName(), pollInterval);
}

void QAttachmentQueuePrivate::onExternalChange()
{
    // Another connection committed: what it changed is unknown, and the watch
    // query (re-run once for a burst) tells whether the watched set moved.
    if (syncing && !watchQuery.isEmpty() && !watchTimer.isActive())
        watchTimer.start();
}

void QAttachmentQueuePrivate::onDatabaseNotification(const QString &table)
{
    // A hint to re-query soon: notifications carry no detail, and a burst of
    // writes should cost one query.
    if (syncing && watcher->isSubscribed(table) && !watchTimer.isActive())
        watchTimer.start();
}

void QAttachmentQueuePrivate::reconcile()
{
    if (!syncing || !watched || !ready)
        return;
    if (tableWork) {
        // One reconciliation at a time. While the table is read, the rows
        // read so far serve the new watched set as well; while it is planned,
        // the plan starts over with the new set or options (nothing is
        // written yet). Once writing began, the plan is written and the next
        // one planned from the table as this one leaves it, with the watched
        // set as it is then.
        TableWork &work = *tableWork;
        if (work.phase == TableWork::Phase::Read || work.phase == TableWork::Phase::Verify)
            return;
        if (work.phase == TableWork::Phase::Plan && work.planRestarts < MaxPlanRestarts) {
            const QAttachmentReconciler::Planner *planner = work.planner.get();
            if (planner
                && (planner->watched() != *watched
                    || planner->options().downloadAttachments != downloadAttachments
                    || planner->options().defaultFileExtension != defaultFileExtension)) {
                ++work.planRestarts;
                work.planner.reset();
            }
            return;
        }
        reconcileAgain = true;
        return;
    }
    startTableWork();
}

// --- long work on the table, in slices ------------------------------------------------

void QAttachmentQueuePrivate::startTableWork()
{
    tableWork = std::make_unique<TableWork>();
    tableWork->generation = ++tableWorkGenerations;
    // From now on the store notes which rows others write.
    store.setTracking(true);
    runTableWork(true);
}

bool QAttachmentQueuePrivate::startTableWorkAt(int phase)
{
    tableWork = std::make_unique<TableWork>();
    tableWork->generation = ++tableWorkGenerations;
    tableWork->phase = TableWork::Phase(phase);
    tableWork->started = tableWork->phase;
    // The start-up check expires too, after the reconciliation that follows it.
    tableWork->expire = tableWork->phase == TableWork::Phase::Expire
        || tableWork->phase == TableWork::Phase::Verify;
    store.setTracking(true);
    tableWorkFailed = false;
    runTableWork(true);
    return !tableWorkFailed;
}

void QAttachmentQueuePrivate::dropTableWork()
{
    tableWork.reset();
    tableWorkTimer.stop();
    reconcileAgain = false;
    store.setTracking(false);
}

void QAttachmentQueuePrivate::flushTableWorkSignals()
{
    // Signals run the app's code, which may change the watched set, stop
    // syncing or write: never in the middle of a step.
    if (std::exchange(workReschedule, false)) {
        scheduler->invalidatePending();
        scheduleCounts();
        scheduler->schedule();
    }
    const QList<QAttachment> changed = std::exchange(workChanged, {});
    const QStringList removed = std::exchange(workRemoved, {});
    for (const QAttachment &row : changed)
        emitChanged(row);
    for (const QString &id : removed)
        emitRemoved(id);
}

void QAttachmentQueuePrivate::runTableWork(bool first)
{
    tableWorkTimer.stop();
    QElapsedTimer clock;
    clock.start();
    if (tableWork)
        tableWork->turn = {};
    while (tableWork) {
        const quint64 generation = tableWork->generation;
        const int phase = int(tableWork->phase);
        QElapsedTimer stepClock;
        stepClock.start();
        const StepResult result = tableWorkStep();
        if (tableWork && tableWork->generation == generation && result == StepResult::More
            && !(first && tableWork->phase == TableWork::Phase::Clear)) {
            const qint64 took = stepClock.nsecsElapsed();
            int &shift = tableWork->stepShift[phase];
            if (took > StepTargetNs && shift < MaxStepShift)
                ++shift;
            else if (took < StepTargetNs / 3 && shift > 0)
                --shift;
        }
        TableWorkTurn turn = tableWork->turn;
        ++turn.steps;
        tableWork->turn = turn;
        const bool finished = result == StepResult::Failed || result == StepResult::Done;
        if (result == StepResult::Failed)
            tableWorkFailed = true;
        if (finished) {
            const bool again = reconcileAgain;
            dropTableWork();
            reconcileAgain = result == StepResult::Done && again;
        }
        flushTableWorkSignals();
        if (!finished && (!tableWork || tableWork->generation != generation))
            return; // stopped or started over by the app's code
        if (finished) {
            turn.done = true;
            if (tableWorkObserver)
                tableWorkObserver(turn);
            break;
        }
        if (result == StepResult::Wait) {
            // Another thread works for the next step: it resumes the work.
            if (tableWorkObserver)
                tableWorkObserver(turn);
            updateIdle();
            return;
        }
        if (result == StepResult::Busy) {
            if (tableWorkObserver)
                tableWorkObserver(turn);
            // Another connection holds a lock: try again from the event loop,
            // less often the longer it lasts.
            const int delay = qMin(
                MaxBusyRetryMs, QAttachmentStore::BusyTimeoutMs << qMin(tableWork->busyRetries, 6));
            ++tableWork->busyRetries;
            qCDebug(lcQueue) << "the database is busy; table work continues in" << delay << "ms";
            tableWorkTimer.start(delay);
            updateIdle();
            return;
        }
        tableWork->busyRetries = 0;
        // The turn of the call that started the work runs a few steps
        // whatever the time (and clears a small table whole).
        // Expiry alone: one step (a small cache); clearing: its rows up to
        // ClearFirstTurnRows, and one step of their files.
        const TableWork::Phase started = tableWork->started;
        const int minSteps = started == TableWork::Phase::Read ? FirstTurnSteps
            : started == TableWork::Phase::Verify              ? VerifyFirstTurnSteps
            : started == TableWork::Phase::Clear               ? 2
                                                               : 1;
        const bool firstTurnDone = !first
            || (turn.steps >= minSteps
                && (tableWork->phase != TableWork::Phase::Clear || tableWork->rowsCleared
                    || tableWork->cleared >= ClearFirstTurnRows));
        if (clock.nsecsElapsed() >= sliceBudgetNs && firstTurnDone) {
            if (tableWorkObserver)
                tableWorkObserver(turn);
            tableWorkTimer.start(0);
            updateIdle();
            return;
        }
    }
    updateIdle();
    if (!tableWork && reconcileAgain) {
        reconcileAgain = false;
        reconcile();
    }
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::tableWorkStep()
{
    const StepResult touched = takeTouchedRows();
    if (touched != StepResult::More)
        return touched;
    switch (tableWork->phase) {
    case TableWork::Phase::Read:
        return readStep();
    case TableWork::Phase::Plan:
        return planStep();
    case TableWork::Phase::Write:
        return writeStep();
    case TableWork::Phase::Replan:
        return replanStep();
    case TableWork::Phase::Expire:
        return expireStep();
    case TableWork::Phase::Clear:
        return clearStep();
    case TableWork::Phase::Verify:
        return verifyStep();
    }
    return StepResult::Failed;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::takeTouchedRows()
{
    TableWork &work = *tableWork;
    if (work.phase == TableWork::Phase::Verify) {
        // The check reads and writes a page in one step; the reconciliation
        // after it reads the whole table anew.
        store.takeTouched();
        return StepResult::More;
    }
    bool everything = false;
    work.replan.unite(store.takeTouched(&everything));
    if (everything
        && (work.phase == TableWork::Phase::Read || work.phase == TableWork::Phase::Plan)) {
        // The table was emptied (clearQueue): read it again from the start.
        const bool expire = work.expire;
        const quint64 generation = work.generation;
        work = TableWork();
        work.expire = expire;
        work.generation = generation;
        return StepResult::More;
    }
    // After the read, the plan may be made from what these rows were before:
    // once it is written (its writes are conditional on the state it read),
    // they are planned again as they are then.
    if (work.phase != TableWork::Phase::Read || work.replan.isEmpty())
        return StepResult::More;
    // While the table is read, rows read already are read again; the others
    // come with their page (or, on a view whose key is before the cursor,
    // are planned again after the writes).
    QAttachmentStore::BusyLimit limit(store, 0);
    for (auto it = work.replan.begin(); it != work.replan.end();) {
        const auto at = work.index.constFind(*it);
        if (at == work.index.cend()) {
            ++it;
            continue;
        }
        QString problem;
        const std::optional<QAttachment> row = store.row(*it, &problem);
        if (!row) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
        work.rows[*at] = *row; // invalid when it went away
        work.leftAlone.remove(*it);
        if (row->isValid() && !acceptRow(*row))
            work.leftAlone.insert(*it);
        it = work.replan.erase(it);
    }
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::readStep()
{
    TableWork &work = *tableWork;
    QList<QAttachment> page;
    QString problem;
    {
        QAttachmentStore::BusyLimit limit(store, 0);
        if (!store.rowsPage(&work.cursor, int(scaled(ReadPageRows, work.shift())), &page,
                            &problem)) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
    }
    work.turn.rowsRead += int(page.size());
    for (const QAttachment &row : std::as_const(page)) {
        // Rows that fail validation: reported, never changed.
        if (!acceptRow(row))
            work.leftAlone.insert(row.id());
        const auto at = work.index.constFind(row.id());
        if (at != work.index.cend()) {
            work.rows[*at] = row; // a view's row read again after a write moved it
            continue;
        }
        work.index.insert(row.id(), work.rows.size());
        work.rows.append(row);
    }
    if (page.size() < scaled(ReadPageRows, work.shift()))
        work.phase = TableWork::Phase::Plan;
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::planStep()
{
    Q_Q(QAttachmentQueue);
    TableWork &work = *tableWork;
    if (!work.planner) {
        QAttachmentReconciler::Options options;
        options.downloadAttachments = downloadAttachments;
        options.defaultFileExtension = defaultFileExtension;
        options.previouslyWatched = previouslyWatched;
        options.restoreAllWatched = restoreAllWatched;
        options.now = QDateTime::currentMSecsSinceEpoch();
        options.resolveFilename = [q](const QString &id, const QString &extension) {
            return q->resolveNewAttachmentFilename(id, extension);
        };
        QAttachmentLocalStorage *files = storage();
        options.fileExists = [files](const QString &name) { return files->exists(name); };
        work.planner = std::make_unique<QAttachmentReconciler::Planner>(
            work.rows, work.index, work.leftAlone, *watched, std::move(options));
    }
    const qsizetype before = work.planner->planned();
    const bool done = work.planner->step(scaled(PlanItems, work.shift()));
    work.turn.itemsPlanned += int(work.planner->planned() - before);
    if (!done)
        return StepResult::More;

    QAttachmentReconciler::Plan plan = work.planner->takePlan();
    work.planner.reset();
    for (const QAttachmentReconciler::Problem &bad : std::as_const(plan.problems)) {
        if (!reportedBadIds.contains(bad.id)) {
            reportedBadIds.insert(bad.id);
            reportError(QAttachmentError::InvalidInput, bad.message);
        }
    }
    work.inserts = std::move(plan.inserts);
    work.updates = plan.restores + plan.archives;
    work.watchedIds = std::move(plan.watchedIds);
    // The rows served the plan; what others write from now on is planned again.
    if (work.rows.size() >= FreeElsewhereRows) {
        freeOnPoolThread(work.rows, work.index);
    } else {
        work.rows = {};
        work.index = {};
    }
    work.phase = TableWork::Phase::Write;
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::writeStep()
{
    TableWork &work = *tableWork;
    const qsizetype chunk = scaled(ChunkRows, work.shift());
    const qsizetype inserts = qMin(chunk, work.inserts.size() - work.insertsDone);
    const qsizetype updates = qMin(chunk - inserts, work.updates.size() - work.updatesDone);
    if (inserts + updates > 0) {
        const QList<QAttachment> newRows = work.inserts.mid(work.insertsDone, inserts);
        const QList<QAttachmentStore::Change> changes = work.updates.mid(work.updatesDone, updates);
        QList<QAttachment> inserted;
        QList<QAttachmentStore::Change> applied;
        QString problem;
        StepResult written = StepResult::Failed;
        {
            // Inserts only where no row appeared since, updates only over
            // the state read for the plan: a transfer finishing or a file
            // saved in between keeps its result.
            QAttachmentStore::BusyLimit limit(store, 0);
            written = writeInTransaction(
                store,
                [&](QString *why) {
                    return store.insertWatched(newRows, why, &inserted)
                        && store.applyChanges(changes, why, &applied);
                },
                &problem);
        }
        if (written == StepResult::Busy)
            return StepResult::Busy;
        if (written == StepResult::Failed) {
            reportError(
                QAttachmentError::DatabaseError,
                QStringLiteral("reconciling the watched attachments failed: %1").arg(problem));
            return StepResult::Failed;
        }
        work.insertsDone += inserts;
        work.updatesDone += updates;
        work.turn.rowsWritten += int(inserts + updates);
        for (const QAttachmentStore::Change &change : std::as_const(applied)) {
            scheduler->abortIfStale(change.row.id(), change.row.state());
            scheduler->forget(change.row.id());
            // A download that will not run again leaves no partial file behind.
            if (change.expected == State::QueuedDownload
                && change.row.state() != State::QueuedDownload)
                storage()->removePartial(downloadName(change.row));
        }
        workChanged += inserted;
        for (const QAttachmentStore::Change &change : std::as_const(applied))
            workChanged.append(change.row);
        if (!applied.isEmpty())
            work.changedRows = true;
        if (work.insertsDone < work.inserts.size() || work.updatesDone < work.updates.size())
            return StepResult::More;
        qCDebug(lcQueue) << "reconciled:" << work.inserts.size() << "new," << work.updates.size()
                         << "changes planned";
    }
    // Every change is written: the next reconciliation compares with this one.
    previouslyWatched = std::move(work.watchedIds);
    restoreAllWatched = false;
    // Once for the whole plan: reading the pending rows again after every
    // chunk would cost more than writing them.
    if (!work.inserts.isEmpty() || !work.updates.isEmpty())
        workReschedule = true;
    work.inserts = {};
    work.updates = {};
    work.phase = TableWork::Phase::Replan;
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::replanStep()
{
    TableWork &work = *tableWork;
    if (work.replan.isEmpty()) {
        if (!work.expire && !work.changedRows)
            return StepResult::Done;
        work.phase = TableWork::Phase::Expire;
        return StepResult::More;
    }
    // Rows others wrote after the table was read, as they are now: those no
    // longer watched are archived by the rules of the plan. Rows archived
    // meanwhile stay so (an error handler gave up on them).
    QList<QAttachmentStore::Change> changes;
    QString problem;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    std::optional<QAttachmentStore::BusyLimit> limit(std::in_place, store, 0);
    QSet<QString> later;
    int handled = 0;
    for (const QString &id : std::as_const(work.replan)) {
        if (handled++ >= scaled(ChunkRows, work.shift())) {
            later.insert(id);
            continue;
        }
        if (previouslyWatched.contains(id))
            continue;
        const std::optional<QAttachment> row = store.row(id, &problem);
        if (!row) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
        if (!row->isValid() || !acceptRow(*row) || !QAttachmentReconciler::archivesUnwatched(*row))
            continue;
        QAttachment archived = *row;
        archived.setState(State::Archived);
        archived.setTimestamp(now);
        changes.append({archived, row->state()});
    }
    QList<QAttachmentStore::Change> applied;
    StepResult written = StepResult::More;
    if (!changes.isEmpty()) {
        written = writeInTransaction(
            store, [&](QString *why) { return store.applyChanges(changes, why, &applied); },
            &problem);
        if (written == StepResult::Busy)
            return StepResult::Busy;
    }
    limit.reset();
    store.takeTouched(); // its own writes
    if (written == StepResult::Failed) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("reconciling the watched attachments failed: %1").arg(problem));
        return StepResult::Failed;
    }
    work.replan = std::move(later);
    work.turn.rowsWritten += int(applied.size());
    for (const QAttachmentStore::Change &change : std::as_const(applied)) {
        scheduler->abortIfStale(change.row.id(), change.row.state());
        scheduler->forget(change.row.id());
        if (change.expected == State::QueuedDownload)
            storage()->removePartial(downloadName(change.row));
        workChanged.append(change.row);
    }
    if (!applied.isEmpty()) {
        qCDebug(lcQueue) << "archived" << applied.size() << "rows written during reconciliation";
        work.changedRows = true;
        workReschedule = true;
    }
    return StepResult::More;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::expireStep()
{
    TableWork &work = *tableWork;
    QList<QAttachment> page;
    QList<QAttachment> deleted;
    QString problem;
    StepResult written = StepResult::Failed;
    {
        QAttachmentStore::BusyLimit limit(store, 0);
        QAttachmentStore::ExpiryCursor cursor = work.expiry;
        if (!store.expiredPage(archivedCacheLimit, &cursor,
                               int(scaled(ExpiryChunkRows, work.shift())), &page, &problem)) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
        QList<QAttachment> expired;
        for (const QAttachment &row : std::as_const(page)) {
            if (acceptRow(row))
                expired.append(row);
        }
        written = writeInTransaction(
            store, [&](QString *why) { return store.deleteArchived(expired, why, &deleted); },
            &problem);
        if (written == StepResult::Busy)
            return StepResult::Busy;
        if (written == StepResult::More)
            work.expiry = cursor; // the page is done
    }
    if (written == StepResult::Failed) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("expiring archived attachments failed: %1").arg(problem));
        return StepResult::Failed;
    }
    // Rows first, files after: a crash in between leaves a stray file, never
    // a row whose file is gone. Only rows still archived were deleted.
    QAttachmentLocalStorage *files = storage();
    for (const QAttachment &row : std::as_const(deleted)) {
        files->remove(localName(row));
        files->removePartial(downloadName(row));
        scheduler->forget(row.id());
        workRemoved.append(row.id());
    }
    work.expired += int(deleted.size());
    expiredTotal += int(deleted.size());
    work.turn.rowsExpired += int(deleted.size());
    if (page.size() == scaled(ExpiryChunkRows, work.shift()))
        return StepResult::More;
    if (work.expired > 0)
        qCDebug(lcQueue) << "expired" << work.expired << "archived attachments";
    return StepResult::Done;
}

QAttachmentQueuePrivate::StepResult QAttachmentQueuePrivate::clearStep()
{
    TableWork &work = *tableWork;
    QAttachmentLocalStorage *files = storage();
    if (work.rowsCleared) {
        // The files of the deleted rows, a chunk per step: no row owns them
        // any more, and no new row can have their names (ids are new, and
        // reconciliation waits for the clearing to end).
        const qsizetype chunk = qMin(scaled(ExpiryChunkRows, work.shift()), work.clearFiles.size());
        for (qsizetype i = 0; i < chunk; ++i) {
            const QAttachment &row = work.clearFiles.at(i);
            files->remove(localName(row));
            files->removePartial(downloadName(row));
        }
        work.clearFiles.remove(0, chunk);
        if (!work.clearFiles.isEmpty())
            return StepResult::More;
        QString problem;
        if (work.replan.isEmpty()) {
            // Every row is gone: whatever else is in the storage goes too.
            if (!files->clear(&problem)) {
                reportError(QAttachmentError::LocalStorageError, problem);
                tableWorkFailed = true; // clearQueue() returns false when it ends in this turn
            }
            scheduler->forgetAll();
            scheduler->clearPending(false);
        } else {
            workReschedule = true; // the rows saved meanwhile are pending
        }
        scheduleCounts();
        qCDebug(lcQueue) << "cleared" << work.cleared << "attachments";
        return StepResult::Done;
    }

    const int limit = int(scaled(ReadPageRows, work.shift()));
    QList<QAttachment> page;
    QList<QAttachment> doomed;
    QString problem;
    StepResult written = StepResult::Failed;
    QVariant cursor = work.cursor;
    {
        QAttachmentStore::BusyLimit busyLimit(store, 0);
        if (!store.rowsPage(&cursor, limit, &page, &problem)) {
            if (store.lastFailureWasBusy())
                return StepResult::Busy;
            reportError(QAttachmentError::DatabaseError, problem);
            return StepResult::Failed;
        }
        // Rows the queue wrote after the call (a file saved meanwhile) stay.
        for (const QAttachment &row : std::as_const(page)) {
            if (!work.replan.contains(row.id()))
                doomed.append(row);
        }
        written = writeInTransaction(
            store, [&](QString *why) { return store.deleteRows(doomed, why); }, &problem);
        if (written == StepResult::Busy)
            return StepResult::Busy;
    }
    if (written == StepResult::Failed) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("clearing the queue failed: %1").arg(problem));
        return StepResult::Failed;
    }
    work.cursor = cursor;
    // Rows first, files after (in the next steps). A row that fails
    // validation names no file the queue would remove; the storage's clear()
    // at the end takes those.
    for (const QAttachment &row : std::as_const(doomed)) {
        if (rowProblem(row).isEmpty())
            work.clearFiles.append(row);
        scheduler->abortIfStale(row.id(), State::Invalid);
        scheduler->forget(row.id());
        workRemoved.append(row.id());
    }
    work.cleared += int(doomed.size());
    work.turn.rowsCleared += int(doomed.size());
    if (page.size() < limit)
        work.rowsCleared = true;
    return StepResult::More;
}
