#include "qattachmentqueue_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
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
    return attachment.localUri().isEmpty() ? attachment.filename() : attachment.localUri();
}

bool QAttachmentQueuePrivate::ensureReady(QString *errorString)
{
    if (ready)
        return true;
    QString problem;
    const QSqlDatabase db = database();
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
    // outside the enum is reported, never mistaken for a state.
    const auto state = QAttachmentState::fromInt(query.value(6).toInt());
    row.setState(state.value_or(QAttachmentState::Archived));
    if (!state)
        qCWarning(lcQueue) << "row" << row.id() << "has invalid state" << query.value(6)
                           << "- treated as archived";
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

void QAttachmentQueuePrivate::reportError(QAttachmentError::Code code, const QString &message)
{
    Q_Q(QAttachmentQueue);
    qCWarning(lcQueue).noquote() << message;
    emit q->errorOccurred(QAttachmentError(code, message));
}

void QAttachmentQueuePrivate::emitChanged(const QAttachment &attachment)
{
    Q_Q(QAttachmentQueue);
    emit q->attachmentChanged(attachment);
}

void QAttachmentQueuePrivate::verifyLocalFiles()
{
    // A row that claims a local file must have it; one that lost it is
    // archived so that, if still referenced, it is downloaded again.
    QSqlDatabase db = database();
    QSqlQuery query(db);
    query.setForwardOnly(true);
    QString problem;
    if (!exec(query,
              QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE state IN (?, ?)").arg(t()),
              {QAttachmentState::toInt(QAttachmentState::Synced),
               QAttachmentState::toInt(QAttachmentState::QueuedUpload)},
              &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    QAttachmentLocalStorage *files = storage();
    QList<QAttachment> missing;
    while (query.next()) {
        QAttachment row = rowFromQuery(query);
        if (row.localUri().isEmpty() || !files->exists(row.localUri()))
            missing.append(row);
    }
    query.finish();
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
    if (!flushTimer.isActive())
        flushTimer.start();
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
