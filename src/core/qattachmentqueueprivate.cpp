#include "qattachmentqueue_p.h"

#include "qattachmentfileverifier_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentreconciler_p.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qelapsedtimer.h>

#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>
#include <algorithm>

using State = QAttachmentState::State;

namespace {
// One event-loop turn of table work stops after this long; one transaction
// writes at most ChunkRows rows.
constexpr qint64 SliceBudgetNs = 8'000'000;
constexpr qsizetype ChunkRows = 256;
// Expiry removes two files per row: fewer rows per transaction.
constexpr qsizetype ExpiryChunkRows = 64;
constexpr int MaxBusyRetryMs = 1000;
} // namespace

struct QAttachmentQueuePrivate::TableWork
{
    // Reconciliation: new rows, then changed rows, written in chunks.
    QList<QAttachment> inserts;
    qsizetype insertsDone = 0;
    QList<QAttachmentStore::Change> updates;
    qsizetype updatesDone = 0;
    QSet<QString> watchedIds;
    // Every row as read for the plan (insertion order): what expiry starts
    // from; the ids of those that failed validation are never expired.
    QList<QAttachment> rows;
    QSet<QString> leftAlone;
    QList<QAttachmentStore::Change> applied;
    // Expiry: archived rows beyond the cache limit, deleted in chunks.
    bool expiring = false;
    QList<QAttachment> expired;
    qsizetype expiredDone = 0;
    int busyRetries = 0;
};

QAttachmentQueuePrivate::QAttachmentQueuePrivate(QAttachmentQueue *q)
    : q_ptr(q)
    , runStartedMs(QDateTime::currentMSecsSinceEpoch())
    , statuses(q)
{
    scheduler = std::make_unique<QAttachmentScheduler>(*this);
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

bool QAttachmentQueuePrivate::ensureReady(QString *errorString)
{
    const QSqlDatabase db = store.database();
    // The app may close or remove its connection at any time: one cheap
    // check here gives one clear error instead of one per failing statement.
    if (ready && db.isOpen())
        return true;
    ready = false;
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
    } else if (!store.createTable(&problem)) {
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
    return true;
}

void QAttachmentQueuePrivate::invalidateReady()
{
    ready = false;
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
    QList<QAttachment> rows;
    if (!store.allRows(&rows, &problem) || !store.deleteAll(&problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return false;
    }
    if (!storage()->clear(&problem))
        reportError(QAttachmentError::LocalStorageError, problem);
    scheduler->forgetAll();
    // The table is empty: nothing is pending, and idle can say so at once.
    scheduler->clearPending(false);
    for (const QAttachment &row : std::as_const(rows))
        emitRemoved(row.id());
    updateCounts();
    updateIdle();
    return problem.isEmpty();
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
    verifyLocalFiles();
    restoreAllWatched = true;
    setSyncing(true);
    subscribeWatchTables();
    scheduler->invalidatePending();
    if (!watchQuery.isEmpty())
        runWatchQuery(nullptr);
    reconcile();
    if (!hasTableWork()) // else it expires once the reconciliation is written
        expireCache();
    scheduler->setPeriodic(syncInterval);
    scheduler->startDue();
    updateCounts();
    return true;
}

void QAttachmentQueuePrivate::stopSyncing()
{
    dropTableWork();
    scheduler->stopTimers();
    watchTimer.stop();
    unsubscribeWatchTables();
    scheduler->abortAll();
    scheduler->flush();
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
    if (!hasTableWork()) // else it expires once the reconciliation is written
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
    QList<QAttachment> rows;
    if (!store.expiredRows(archivedCacheLimit, &rows, &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return -1;
    }
    QList<QAttachment> expired;
    for (const QAttachment &row : std::as_const(rows)) {
        if (acceptRow(row))
            expired.append(row);
    }
    if (expired.isEmpty())
        return 0;

    QList<QAttachment> deleted;
    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(store);
        problem = transaction.errorString();
        ok = transaction.isOpen() && store.deleteArchived(expired, &problem, &deleted)
            && transaction.commit(&problem);
    }
    if (!ok) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("expiring archived attachments failed: %1").arg(problem));
        return -1;
    }
    // Rows first, files after: a crash in between leaves a stray file, never
    // a row whose file is gone.
    removeExpiredFiles(deleted);
    qCDebug(lcQueue) << "expired" << deleted.size() << "archived attachments";
    return int(deleted.size());
}

// --- the start-up check of local files ----------------------------------------------

void QAttachmentQueuePrivate::verifyLocalFiles()
{
    // One read of the table and one listing of the storage: start-up stays
    // linear in the number of rows, with no file system call per row.
    QList<QAttachment> rows;
    QString problem;
    if (!store.allRows(&rows, &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    QAttachmentFileVerifier::Result result = QAttachmentFileVerifier::verify(
        rows, *storage(), runStartedMs,
        [this](const QAttachment &row) { return rowProblem(row).isEmpty(); });
    rows.clear();
    if (result.orphans || result.partials)
        qCInfo(lcQueue) << "removed" << result.orphans << "files and" << result.partials
                        << "partial downloads that no attachment owns";
    QList<QAttachment> &missing = result.missing;
    if (missing.isEmpty())
        return;

    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(store);
        problem = transaction.errorString();
        ok = transaction.isOpen() && store.archiveWithoutFile(missing, now, &problem)
            && transaction.commit(&problem);
    }
    if (!ok) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("archiving rows without local files failed: %1").arg(problem));
        return;
    }
    qCInfo(lcQueue) << missing.size() << "attachments lost their local file and were archived";
    for (QAttachment &row : missing) {
        row.setState(State::Archived);
        row.setLocalUri(QString());
        row.setHasSynced(false);
        row.setTimestamp(now);
        emitChanged(row);
    }
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
    if (!store.pendingCounts(&uploads, &downloads, &deletes, &problem)) {
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
    std::optional<QList<QWatchedAttachmentItem>> items
        = QAttachmentWatcher::run(store.database(), watchQuery, &problem, &invalid);
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
    Q_Q(QAttachmentQueue);
    if (!syncing || !watched || !ready)
        return;
    if (tableWork) {
        // One reconciliation at a time: the next one plans from the table as
        // this one leaves it, with the watched set as it is then.
        reconcileAgain = true;
        return;
    }
    QString problem;
    QAttachmentReconciler::Input input;
    if (!store.allRows(&input.rows, &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    for (const QAttachment &row : std::as_const(input.rows)) {
        // Rows that fail validation: reported, never changed.
        if (!acceptRow(row))
            input.leftAlone.insert(row.id());
    }
    input.watched = *watched;

    QAttachmentReconciler::Options options;
    options.downloadAttachments = downloadAttachments;
    options.defaultFileExtension = defaultFileExtension;
    options.previouslyWatched = previouslyWatched;
    options.restoreAllWatched = restoreAllWatched;
    options.now = QDateTime::currentMSecsSinceEpoch();
    options.resolveFilename = [q](const QString &id, const QString &extension) {
        return q->resolveNewAttachmentFilename(id, extension);
    };
    const QStringList toCheck = QAttachmentReconciler::localFilesToCheck(input, options);
    for (const QString &name : toCheck) {
        if (storage()->exists(name))
            input.presentFiles.insert(name);
    }

    QAttachmentReconciler::Plan plan = QAttachmentReconciler::plan(input, options);
    QList<QAttachment> allRows = std::move(input.rows);
    QSet<QString> leftAlone = std::move(input.leftAlone);
    input = {};
    for (const QAttachmentReconciler::Problem &bad : std::as_const(plan.problems)) {
        if (!reportedBadIds.contains(bad.id)) {
            reportedBadIds.insert(bad.id);
            reportError(QAttachmentError::InvalidInput, bad.message);
        }
    }

    // The changes are applied in slices (runTableWork()): the first at once,
    // the rest from the event loop. A small watched set is done before this
    // returns, as before; 100,000 changes never hold the thread for long.
    auto work = std::make_unique<TableWork>();
    work->inserts = std::move(plan.inserts);
    work->updates = plan.restores + plan.archives;
    work->watchedIds = std::move(plan.watchedIds);
    work->rows = std::move(allRows);
    work->leftAlone = std::move(leftAlone);
    tableWork = std::move(work);
    runTableWork();
}

// --- long work on the table, in slices ------------------------------------------------

void QAttachmentQueuePrivate::dropTableWork()
{
    tableWork.reset();
    tableWorkTimer.stop();
    reconcileAgain = false;
}

void QAttachmentQueuePrivate::runTableWork()
{
    tableWorkTimer.stop();
    QElapsedTimer clock;
    clock.start();
    while (tableWork) {
        const StepResult result = tableWorkStep();
        if (result == StepResult::Busy) {
            // Another connection holds the write lock: try again from the
            // event loop, less often the longer it lasts.
            const int delay = qMin(
                MaxBusyRetryMs, QAttachmentStore::BusyTimeoutMs << qMin(tableWork->busyRetries, 6));
            ++tableWork->busyRetries;
            qCDebug(lcQueue) << "the database is busy; table work continues in" << delay << "ms";
            tableWorkTimer.start(delay);
            updateIdle();
            return;
        }
        if (result == StepResult::Failed) {
            dropTableWork();
            break;
        }
        if (result == StepResult::Done) {
            tableWork.reset();
            break;
        }
        tableWork->busyRetries = 0;
        if (clock.nsecsElapsed() >= SliceBudgetNs) {
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
    TableWork &work = *tableWork;
    if (!work.expiring) {
        const qsizetype inserts = qMin(ChunkRows, work.inserts.size() - work.insertsDone);
        const qsizetype updates = qMin(ChunkRows - inserts, work.updates.size() - work.updatesDone);
        if (inserts + updates > 0) {
            const QList<QAttachment> newRows = work.inserts.mid(work.insertsDone, inserts);
            const QList<QAttachmentStore::Change> changes
                = work.updates.mid(work.updatesDone, updates);
            QList<QAttachmentStore::Change> applied;
            QString problem;
            bool ok = false;
            {
                // The updates are conditional on the state read for the plan:
                // a transfer finishing in between keeps its result.
                QAttachmentStore::WriteTransaction transaction(store);
                if (transaction.isBusy())
                    return StepResult::Busy;
                problem = transaction.errorString();
                ok = transaction.isOpen() && store.insertWatched(newRows, &problem)
                    && store.applyChanges(changes, &problem, &applied)
                    && transaction.commit(&problem);
            }
            if (!ok) {
                reportError(
                    QAttachmentError::DatabaseError,
                    QStringLiteral("reconciling the watched attachments failed: %1").arg(problem));
                return StepResult::Failed;
            }
            work.insertsDone += inserts;
            work.updatesDone += updates;
            for (const QAttachmentStore::Change &change : std::as_const(applied)) {
                scheduler->abortIfStale(change.row.id(), change.row.state());
                scheduler->forget(change.row.id());
                // A download that will not run again leaves no partial file behind.
                if (change.expected == State::QueuedDownload
                    && change.row.state() != State::QueuedDownload)
                    storage()->removePartial(downloadName(change.row));
            }
            for (const QAttachment &row : newRows)
                emitChanged(row);
            for (const QAttachmentStore::Change &change : std::as_const(applied))
                emitChanged(change.row);
            work.applied += applied;
            if (work.insertsDone < work.inserts.size() || work.updatesDone < work.updates.size())
                return StepResult::More;
            // Once for the whole plan: reading the pending rows again after
            // every chunk would cost more than writing them.
            scheduler->invalidatePending();
            scheduleCounts();
            scheduler->schedule();
            qCDebug(lcQueue) << "reconciled:" << work.inserts.size() << "new,"
                             << work.applied.size() << "changed";
        }
        // Every change is written: the next reconciliation compares with this one.
        previouslyWatched = std::move(work.watchedIds);
        restoreAllWatched = false;
        if (work.applied.isEmpty())
            return StepResult::Done;
        work.expiring = true;
        work.expired = expiredAfter(work.rows, work.leftAlone, work.applied);
        work.rows.clear();
        work.applied.clear();
        return work.expired.isEmpty() ? StepResult::Done : StepResult::More;
    }

    const qsizetype count = qMin(ExpiryChunkRows, work.expired.size() - work.expiredDone);
    const QList<QAttachment> chunk = work.expired.mid(work.expiredDone, count);
    QList<QAttachment> deleted;
    QString problem;
    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(store);
        if (transaction.isBusy())
            return StepResult::Busy;
        problem = transaction.errorString();
        ok = transaction.isOpen() && store.deleteArchived(chunk, &problem, &deleted)
            && transaction.commit(&problem);
    }
    if (!ok) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("expiring archived attachments failed: %1").arg(problem));
        return StepResult::Failed;
    }
    work.expiredDone += count;
    // Rows first, files after: a crash in between leaves a stray file, never
    // a row whose file is gone. Only rows still archived were deleted.
    removeExpiredFiles(deleted);
    if (work.expiredDone < work.expired.size())
        return StepResult::More;
    qCDebug(lcQueue) << "expired" << work.expired.size() << "archived attachments";
    return StepResult::Done;
}

QList<QAttachment>
QAttachmentQueuePrivate::expiredAfter(const QList<QAttachment> &rows,
                                      const QSet<QString> &leftAlone,
                                      const QList<QAttachmentStore::Change> &applied)
{
    // The archived rows as the table now holds them (the rows read for the
    // plan, with the changes written since), newest first as the store's
    // expiredRows() orders them: by timestamp, then by insertion order.
    QHash<QString, const QAttachment *> changed;
    changed.reserve(applied.size());
    for (const QAttachmentStore::Change &change : applied)
        changed.insert(change.row.id(), &change.row);
    struct Archived
    {
        qint64 timestamp;
        qsizetype order;
        const QAttachment *row;
    };
    QList<Archived> archived;
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const QAttachment *row = changed.value(rows.at(i).id(), &rows.at(i));
        if (row->state() == State::Archived && !leftAlone.contains(row->id()))
            archived.append({row->timestamp(), i, row});
    }
    if (archived.size() <= archivedCacheLimit)
        return {};
    std::sort(archived.begin(), archived.end(), [](const Archived &a, const Archived &b) {
        return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.order > b.order;
    });
    QList<QAttachment> expired;
    expired.reserve(archived.size() - archivedCacheLimit);
    for (qsizetype i = archivedCacheLimit; i < archived.size(); ++i)
        expired.append(*archived.at(i).row);
    return expired;
}

void QAttachmentQueuePrivate::removeExpiredFiles(const QList<QAttachment> &deleted)
{
    QAttachmentLocalStorage *files = storage();
    for (const QAttachment &row : deleted) {
        files->remove(localName(row));
        files->removePartial(downloadName(row));
        scheduler->forget(row.id());
        emitRemoved(row.id());
    }
}
