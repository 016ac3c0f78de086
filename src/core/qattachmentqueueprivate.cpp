#include "qattachmentqueue_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentreconciler_p.h"

#include <QtCore/qdatetime.h>
#include <QtNetwork/qnetworkinformation.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

using State = QAttachmentState::State;

QAttachmentQueuePrivate::QAttachmentQueuePrivate(QAttachmentQueue *q)
    : q_ptr(q)
    , runStartedMs(QDateTime::currentMSecsSinceEpoch())
{
    scheduler = std::make_unique<QAttachmentScheduler>(*this);
    watcher = std::make_unique<QAttachmentWatcher>(
        q, [this](const QString &table) { onDatabaseNotification(table); });
    for (QTimer *timer : {&countsTimer, &watchTimer}) {
        timer->setSingleShot(true);
        timer->setInterval(0);
    }
    QObject::connect(&countsTimer, &QTimer::timeout, q, [this] { updateCounts(); });
    QObject::connect(&watchTimer, &QTimer::timeout, q, [this] { refreshWatchQuery(); });
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
    scheduler->clearPending(true);
    previouslyWatched.clear();
    restoreAllWatched = true;
    knownRows.clear();
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

// --- status ------------------------------------------------------------------------

void QAttachmentQueuePrivate::emitChanged(const QAttachment &attachment)
{
    Q_Q(QAttachmentQueue);
    knownRows.insert(attachment.id(), attachment);
    emit q->attachmentChanged(attachment);
    emitStatusChanged(attachment.id());
}

void QAttachmentQueuePrivate::emitRemoved(const QString &id)
{
    Q_Q(QAttachmentQueue);
    knownRows.remove(id);
    emit q->attachmentRemoved(id);
    emitStatusChanged(id);
}

void QAttachmentQueuePrivate::emitStatusChanged(const QString &id)
{
    Q_Q(QAttachmentQueue);
    emit q->statusChanged(id);
}

QAttachmentStatus QAttachmentQueuePrivate::status(const QString &id) const
{
    QAttachmentStatus result;
    const auto known = knownRows.constFind(id);
    if (known != knownRows.cend()) {
        result.setAttachment(*known);
    } else if (const_cast<QAttachmentQueuePrivate *>(this)->ensureReady(nullptr)) {
        result.setAttachment(store.row(id, nullptr).value_or(QAttachment()));
    }
    const auto [done, total] = scheduler->liveProgressOf(id);
    result.setBytes(done, total);
    result.setLastError(scheduler->lastError(id));
    const qint64 next = scheduler->nextRetryMs(id);
    if (next >= 0)
        result.setNextRetry(QDateTime::fromMSecsSinceEpoch(next));
    return result;
}

// --- syncing -----------------------------------------------------------------------

bool QAttachmentQueuePrivate::startSync()
{
    Q_Q(QAttachmentQueue);
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

    // A hint only: in containers the backends often report nothing useful.
    static bool networkInformationTried = false;
    if (!networkInformationTried) {
        networkInformationTried = true;
        QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability);
    }
    QNetworkInformation *info = QNetworkInformation::instance();
    if (info && !networkConnection) {
        networkConnection = QObject::connect(
            info, &QNetworkInformation::reachabilityChanged, q,
            [this](QNetworkInformation::Reachability reachability) {
                if (reachability == QNetworkInformation::Reachability::Online && syncing) {
                    scheduler->retryNow();
                    scheduler->schedule();
                }
            });
    }

    verifyLocalFiles();
    restoreAllWatched = true;
    setSyncing(true);
    subscribeWatchTables();
    scheduler->invalidatePending();
    if (!watchQuery.isEmpty())
        runWatchQuery(nullptr);
    reconcile();
    expireCache();
    scheduler->setPeriodic(syncInterval);
    scheduler->startDue();
    updateCounts();
    return true;
}

void QAttachmentQueuePrivate::stopSyncing()
{
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

    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(store);
        problem = transaction.errorString();
        ok = transaction.isOpen() && store.deleteArchived(expired, &problem)
            && transaction.commit(&problem);
    }
    if (!ok) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("expiring archived attachments failed: %1").arg(problem));
        return -1;
    }
    // Rows first, files after: a crash in between leaves a stray file, never
    // a row whose file is gone.
    QAttachmentLocalStorage *files = storage();
    for (const QAttachment &row : std::as_const(expired)) {
        files->remove(localName(row));
        files->removePartial(downloadName(row));
        scheduler->forget(row.id());
        emitRemoved(row.id());
    }
    qCDebug(lcQueue) << "expired" << expired.size() << "archived attachments";
    return int(expired.size());
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
    QAttachmentLocalStorage *files = storage();
    const QStringList names = files->fileNames();
    const QSet<QString> present(names.cbegin(), names.cend());
    const bool listed = !names.isEmpty();

    QSet<QString> owned; // files and partial files some row may still need
    QList<QAttachment> missing;
    for (const QAttachment &row : std::as_const(rows)) {
        if (!rowProblem(row).isEmpty()) {
            // Left alone, and so are the files it names.
            owned.insert(row.localUri());
            owned.insert(row.filename());
            continue;
        }
        const QString download = QAttachmentNames::localNameForSafeId(row.id(), row.filename());
        owned.insert(row.localUri().isEmpty() ? download : row.localUri());
        if (row.state() == State::QueuedDownload)
            owned.insert(download);
        if (row.state() != State::Synced && row.state() != State::QueuedUpload)
            continue;
        const bool there = !row.localUri().isEmpty()
            && (listed ? present.contains(row.localUri()) : files->exists(row.localUri()));
        if (!there)
            missing.append(row);
    }
    rows.clear();

    // A crash between saveFile's file and its row, or between a row's removal
    // and its file's, leaves a file nobody owns. Files written since this
    // queue started may belong to a row about to be committed: they stay.
    int orphans = 0;
    for (const QString &name : names) {
        if (owned.contains(name))
            continue;
        const qint64 modified = files->lastModified(name);
        if (modified >= 0 && modified < runStartedMs && files->remove(name))
            ++orphans;
    }
    // A partial file only belongs to a row that is still downloading.
    int partials = 0;
    const QStringList partialNames = files->partialNames();
    for (const QString &name : partialNames) {
        if (!owned.contains(name) && files->removePartial(name))
            ++partials;
    }
    if (orphans || partials)
        qCInfo(lcQueue) << "removed" << orphans << "files and" << partials
                        << "partial downloads that no attachment owns";
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
}

void QAttachmentQueuePrivate::unsubscribeWatchTables()
{
    watcher->unsubscribe(store.database());
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
    input = {};
    for (const QAttachmentReconciler::Problem &bad : std::as_const(plan.problems)) {
        if (!reportedBadIds.contains(bad.id)) {
            reportedBadIds.insert(bad.id);
            reportError(QAttachmentError::InvalidInput, bad.message);
        }
    }

    const QList<QAttachmentStore::Change> updates = plan.restores + plan.archives;
    if (plan.changesRows()) {
        // The updates are conditional on the state read above: a transfer
        // finishing in between keeps its result.
        bool ok = false;
        {
            QAttachmentStore::WriteTransaction transaction(store);
            problem = transaction.errorString();
            ok = transaction.isOpen() && store.insertWatched(plan.inserts, &problem)
                && store.applyChanges(updates, &problem) && transaction.commit(&problem);
        }
        if (!ok) {
            reportError(
                QAttachmentError::DatabaseError,
                QStringLiteral("reconciling the watched attachments failed: %1").arg(problem));
            return;
        }
        qCDebug(lcQueue) << "reconciled:" << plan.inserts.size() << "new," << updates.size()
                         << "changed";
        for (const QAttachmentStore::Change &change : updates) {
            scheduler->abortIfStale(change.row.id(), change.row.state());
            scheduler->forget(change.row.id());
            // A download that will not run again leaves no partial file behind.
            if (change.expected == State::QueuedDownload
                && change.row.state() != State::QueuedDownload)
                storage()->removePartial(downloadName(change.row));
        }
        for (const QAttachment &row : std::as_const(plan.inserts))
            emitChanged(row);
        for (const QAttachmentStore::Change &change : updates)
            emitChanged(change.row);
        scheduler->invalidatePending();
        scheduleCounts();
        scheduler->schedule();
    }
    previouslyWatched = std::move(plan.watchedIds);
    restoreAllWatched = false;
    if (!updates.isEmpty())
        expireCache();
}
