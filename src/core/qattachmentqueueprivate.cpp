#include "qattachmentqueue_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qfilesystemattachmentstorage.h"

#include <QtCore/qdatetime.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

QAttachmentJob::~QAttachmentJob()
{
    // The transfer may still read from or write to the device: it goes first.
    delete transfer;
    device.reset();
}

QAttachmentQueuePrivate::QAttachmentQueuePrivate(QAttachmentQueue *q)
    : q_ptr(q)
    , runStartedMs(QDateTime::currentMSecsSinceEpoch())
{
    clock.start();
    for (QTimer *timer : {&pumpTimer, &flushTimer, &countsTimer, &watchTimer}) {
        timer->setSingleShot(true);
        timer->setInterval(0);
    }
    retryTimer.setSingleShot(true);
    QObject::connect(&pumpTimer, &QTimer::timeout, q, [this] { pump(); });
    QObject::connect(&retryTimer, &QTimer::timeout, q, [this] { pump(); });
    QObject::connect(&flushTimer, &QTimer::timeout, q, [this] { flushCompletions(); });
    QObject::connect(&countsTimer, &QTimer::timeout, q, [this] { updateCounts(); });
    QObject::connect(&watchTimer, &QTimer::timeout, q, [q] { q->refreshWatchQuery(); });
    QObject::connect(&periodicTimer, &QTimer::timeout, q, [this, q] {
        // Writes from other connections are not notified: the tick catches them.
        q->triggerSync();
        schedulePump();
    });
}

QAttachmentQueuePrivate::~QAttachmentQueuePrivate() = default;

QSqlDatabase QAttachmentQueuePrivate::database() const
{
    return connectionName.isEmpty()
        ? QSqlDatabase::database(QLatin1String(QSqlDatabase::defaultConnection), false)
        : QSqlDatabase::database(connectionName, false);
}

QAttachmentLocalStorage *QAttachmentQueuePrivate::storage() const
{
    return externalStorage ? externalStorage : ownedStorage.get();
}

QString QAttachmentQueuePrivate::localName(const QAttachment &attachment) const
{
    return attachment.localUri().isEmpty() ? downloadName(attachment) : attachment.localUri();
}

QString QAttachmentQueuePrivate::downloadName(const QAttachment &attachment)
{
    return QAttachmentNames::localNameFor(attachment.id(), attachment.filename());
}

bool QAttachmentQueuePrivate::ensureReady(QString *errorString)
{
    const QSqlDatabase db = database();
    // The app may close or remove its connection at any time: one cheap
    // check here gives one clear error instead of one per failing statement.
    if (ready && db.isOpen())
        return true;
    ready = false;
    QString problem;
    if (!storage()) {
        problem = QStringLiteral("no local storage: set localDirectory or localStorage");
    } else if (!db.isValid()) {
        problem = QStringLiteral("no database connection named \"%1\"").arg(connectionName);
    } else if (!db.isOpen()) {
        problem = QStringLiteral("the database connection \"%1\" is not open").arg(connectionName);
    } else if (!storage()->initialize(&problem)) {
        problem = QStringLiteral("local storage unusable: %1").arg(problem);
    } else if (!table.create(db, &problem)) {
        problem = QStringLiteral("cannot create the queue table: %1").arg(problem);
    }
    if (!problem.isEmpty()) {
        const bool invalid = !storage() || !table.validate().isEmpty();
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
    pending.clear();
    pendingDirty = true;
    previouslyWatched.clear();
    restoreAllWatched = true;
}

QAttachment QAttachmentQueuePrivate::rowFromQuery(const QSqlQuery &query)
{
    QAttachment row(query.value(0).toString(), query.value(1).toString());
    row.setLocalUri(query.value(2).toString());
    row.setTimestamp(query.value(3).toLongLong());
    row.setSize(query.value(4).isNull() ? -1 : query.value(4).toLongLong());
    row.setMediaType(query.value(5).toString());
    // Rows are only written by the queue, but the file is the app's: a value
    // outside the enum is reported (acceptRow), never mistaken for a state.
    bool isInt = false;
    const int stored = query.value(6).toInt(&isInt);
    const auto state = isInt ? QAttachmentState::fromInt(stored) : std::nullopt;
    row.setState(state.value_or(QAttachmentState::Invalid));
    row.setHasSynced(query.value(7).toInt() != 0);
    row.setMetaData(query.value(8).toString());
    return row;
}

bool QAttachmentQueuePrivate::exec(QSqlQuery &query, const QString &sql, const QVariantList &params,
                                   QString *errorString) const
{
    bool ok = query.prepare(sql);
    if (ok) {
        for (const QVariant &value : params)
            query.addBindValue(value);
        ok = query.exec();
    }
    if (!ok && errorString)
        *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text());
    return ok;
}

std::optional<QAttachment> QAttachmentQueuePrivate::readRow(const QString &id,
                                                            QString *errorString) const
{
    QSqlQuery query(database());
    if (!exec(query, QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE id = ?").arg(t()),
              {id}, errorString))
        return std::nullopt;
    if (!query.next())
        return QAttachment();
    return rowFromQuery(query);
}

bool QAttachmentQueuePrivate::beginWrite(bool *ownTransaction, QString *errorString)
{
    QSqlDatabase db = database();
    // Inside a transaction the app opened on this connection, our writes join
    // it; otherwise they get one of their own.
    *ownTransaction = db.transaction();
    if (*ownTransaction)
        return true;
    QSqlQuery probe(db);
    if (probe.exec(QStringLiteral("SELECT 1")))
        return true;
    if (errorString)
        *errorString = QStringLiteral("cannot begin a transaction: %1").arg(db.lastError().text());
    return false;
}

bool QAttachmentQueuePrivate::endWrite(bool ownTransaction, bool commit, QString *errorString)
{
    if (!ownTransaction)
        return commit;
    QSqlDatabase db = database();
    if (commit) {
        if (db.commit())
            return true;
        if (errorString)
            *errorString = QStringLiteral("commit failed: %1").arg(db.lastError().text());
    }
    db.rollback();
    return false;
}

bool QAttachmentQueuePrivate::writeWithHook(const QString &sql, const QVariantList &params,
                                            const QAttachmentQueue::UpdateHook &hook,
                                            const QAttachment &attachment, QString *errorString)
{
    bool own = false;
    if (!beginWrite(&own, errorString))
        return false;
    QSqlQuery query(database());
    bool ok = exec(query, sql, params, errorString);
    if (ok && hook) {
        QAttachmentTransaction tx(database());
        const bool accepted = hook(tx, attachment);
        if (tx.hasError() || !accepted) {
            ok = false;
            if (errorString)
                *errorString
                    = tx.hasError() ? tx.errorString() : QStringLiteral("the update hook declined");
        }
    }
    return endWrite(own, ok, errorString) && ok;
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
    reportRecurring(
        key, QAttachmentError::InvalidInput,
        QStringLiteral("row %1 of %2 is left alone: %3")
            .arg(QString::fromLatin1(row.id().toUtf8().toPercentEncoding(" ")), t(), problem));
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

void QAttachmentQueuePrivate::emitChanged(const QAttachment &attachment)
{
    Q_Q(QAttachmentQueue);
    emit q->attachmentChanged(attachment);
}

void QAttachmentQueuePrivate::verifyLocalFiles()
{
    // One read of the table and one listing of the storage: start-up stays
    // linear in the number of rows, with no file system call per row.
    QSqlDatabase db = database();
    QSqlQuery query(db);
    query.setForwardOnly(true);
    QString problem;
    if (!exec(query, QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1").arg(t()), {}, &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    QAttachmentLocalStorage *files = storage();
    const QStringList names = files->fileNames();
    const QSet<QString> present(names.cbegin(), names.cend());
    const bool listed = !names.isEmpty();

    QSet<QString> owned; // files and partial files some row may still need
    QList<QAttachment> missing;
    while (query.next()) {
        QAttachment row = rowFromQuery(query);
        if (!rowProblem(row).isEmpty()) {
            // Left alone, and so are the files it names.
            owned.insert(row.localUri());
            owned.insert(row.filename());
            continue;
        }
        const QString download = QAttachmentNames::localNameForSafeId(row.id(), row.filename());
        owned.insert(row.localUri().isEmpty() ? download : row.localUri());
        if (row.state() == QAttachmentState::QueuedDownload)
            owned.insert(download);
        if (row.state() != QAttachmentState::Synced
            && row.state() != QAttachmentState::QueuedUpload)
            continue;
        const bool there = !row.localUri().isEmpty()
            && (listed ? present.contains(row.localUri()) : files->exists(row.localUri()));
        if (!there)
            missing.append(row);
    }
    query.finish();

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
    bool own = false;
    if (!beginWrite(&own, &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    QSqlQuery update(db);
    update.prepare(QStringLiteral("UPDATE %1 SET state = ?, local_uri = NULL, has_synced = 0, "
                                  "timestamp = ? WHERE id = ?")
                       .arg(t()));
    bool ok = true;
    for (QAttachment &row : missing) {
        update.addBindValue(QAttachmentState::toInt(QAttachmentState::Archived));
        update.addBindValue(now);
        update.addBindValue(row.id());
        if (!update.exec()) {
            ok = false;
            problem = update.lastError().text();
            break;
        }
        row.setState(QAttachmentState::Archived);
        row.setLocalUri(QString());
        row.setHasSynced(false);
        row.setTimestamp(now);
    }
    if (!endWrite(own, ok, &problem) || !ok) {
        reportError(QAttachmentError::DatabaseError,
                    QStringLiteral("archiving rows without local files failed: %1").arg(problem));
        return;
    }
    qCInfo(lcQueue) << missing.size() << "attachments lost their local file and were archived";
    for (const QAttachment &row : std::as_const(missing))
        emitChanged(row);
}

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

void QAttachmentQueuePrivate::startFlush()
{
    // While a failed write backs off, new results wait with it.
    if (!flushTimer.isActive())
        flushTimer.start(0);
}

void QAttachmentQueuePrivate::updateCounts()
{
    Q_Q(QAttachmentQueue);
    countsTimer.stop();
    if (!ready)
        return;
    countsClock.start();
    QSqlQuery query(database());
    query.setForwardOnly(true);
    QString problem;
    if (!exec(
            query,
            QStringLiteral("SELECT state, COUNT(*) FROM %1 WHERE state IN (?, ?, ?) GROUP BY state")
                .arg(t()),
            {QAttachmentState::toInt(QAttachmentState::QueuedDownload),
             QAttachmentState::toInt(QAttachmentState::QueuedUpload),
             QAttachmentState::toInt(QAttachmentState::QueuedDelete)},
            &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    int uploads = 0, downloads = 0, deletes = 0;
    while (query.next()) {
        const int count = query.value(1).toInt();
        switch (QAttachmentState::fromInt(query.value(0).toInt())
                    .value_or(QAttachmentState::Archived)) {
        case QAttachmentState::QueuedUpload:
            uploads = count;
            break;
        case QAttachmentState::QueuedDownload:
            downloads = count;
            break;
        case QAttachmentState::QueuedDelete:
            deletes = count;
            break;
        default:
            break;
        }
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
    bool now = jobs.isEmpty() && finishedJobs.isEmpty();
    if (now && syncing && online && remote) {
        if (pendingDirty || pumpTimer.isActive())
            now = false;
        for (const QAttachment &row : std::as_const(pending)) {
            if (!now)
                break;
            const auto retry = retries.constFind(row.id());
            if (retry == retries.cend() || retry->notBefore <= clock.elapsed())
                now = false;
        }
    }
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
