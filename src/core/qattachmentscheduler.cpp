// Runs the transfers: up to maxConcurrentTransfers at once, results written
// in batches, each only if its row is still in the state the transfer started
// from, failures retried with backoff or handed to the error handler.

#include "qattachmentqueue_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qrandom.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#include <functional>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

std::optional<Kind> kindFor(State state)
{
    switch (state) {
    case State::QueuedUpload:
        return Kind::Upload;
    case State::QueuedDownload:
        return Kind::Download;
    case State::QueuedDelete:
        return Kind::Delete;
    default:
        return std::nullopt;
    }
}

} // namespace

void QAttachmentQueuePrivate::schedulePump()
{
    if (!syncing)
        return;
    // Restarting an active zero-delay timer moves it behind every other one:
    // an app saving a file per event-loop turn would starve the pump.
    if (!pumpTimer.isActive())
        pumpTimer.start();
    updateIdle();
}

void QAttachmentQueuePrivate::pump()
{
    pumpTimer.stop();
    if (!syncing || !online || !remote || !ready) {
        updateIdle();
        return;
    }
    if (pendingDirty) {
        QSqlQuery query(database());
        query.setForwardOnly(true);
        QString problem;
        if (!exec(query,
                  QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE state IN (?, ?, ?) "
                                 "ORDER BY timestamp, rowid")
                      .arg(t()),
                  {QAttachmentState::toInt(State::QueuedDownload),
                   QAttachmentState::toInt(State::QueuedUpload),
                   QAttachmentState::toInt(State::QueuedDelete)},
                  &problem)) {
            reportError(QAttachmentError::DatabaseError, problem);
            return;
        }
        pending.clear();
        while (query.next()) {
            QAttachment row = rowFromQuery(query);
            // Running rows are in `jobs`; a failure puts them back.
            if (!jobs.contains(row.id()) && acceptRow(row))
                pending.append(std::move(row));
        }
        pendingDirty = false;
    }

    // Only the front of the list is looked at: with thousands of rows pending,
    // walking (and copying) all of them after every finished transfer would
    // cost more than the transfers.
    const qint64 now = clock.elapsed();
    qsizetype freeSlots = maxConcurrentTransfers - jobs.size();
    QList<QAttachment> toStart;
    QList<qsizetype> taken;
    for (qsizetype i = 0; i < pending.size() && freeSlots > 0; ++i) {
        const QAttachment &row = pending.at(i);
        if (row.state() == State::QueuedDownload && !downloadAttachments)
            continue;
        if (jobs.contains(row.id())) {
            taken.append(i); // running: a failure puts it back
            continue;
        }
        const auto retry = retries.constFind(row.id());
        if (retry != retries.cend() && retry->notBefore > now)
            continue;
        --freeSlots;
        toStart.append(row);
        taken.append(i);
    }
    if (!taken.isEmpty() && taken.last() == taken.size() - 1) {
        pending.remove(0, taken.size()); // the usual case, cheap at the front
    } else {
        for (auto it = taken.crbegin(); it != taken.crend(); ++it)
            pending.removeAt(*it);
    }
    // The earliest end of a backoff; rows that are running wait for nothing.
    qint64 nextDue = -1;
    for (auto it = retries.cbegin(); it != retries.cend(); ++it) {
        if (it->notBefore > now && !jobs.contains(it.key()))
            nextDue = nextDue < 0 ? it->notBefore : qMin(nextDue, it->notBefore);
    }
    for (const QAttachment &row : std::as_const(toStart))
        startJob(row);
    if (nextDue >= 0)
        retryTimer.start(int(qMax<qint64>(0, nextDue - now)));
    updateIdle();
}

void QAttachmentQueuePrivate::startJob(const QAttachment &row)
{
    Q_Q(QAttachmentQueue);
    const std::optional<Kind> kind = kindFor(row.state());
    if (!kind)
        return;
    QAttachmentLocalStorage *files = storage();
    QString problem;
    std::unique_ptr<QIODevice> device;
    if (*kind == Kind::Upload) {
        device = files->openForReading(localName(row), &problem);
    } else if (*kind == Kind::Download) {
        device = files->openPartial(downloadName(row), &problem);
    }
    auto *job = new QAttachmentJob;
    job->attachment = row;
    job->kind = *kind;
    job->startState = row.state();
    job->device = std::move(device);
    jobs.insert(row.id(), job);

    if (*kind != Kind::Delete && !job->device) {
        // Failing through the normal path lets the error handler decide.
        job->localError
            = QAttachmentError(QAttachmentError::LocalStorageError,
                               QStringLiteral("local file of %1: %2").arg(row.id(), problem));
        finishedJobs.append(job);
        startFlush();
        emit q->activeTransfersChanged();
        return;
    }

    switch (*kind) {
    case Kind::Upload:
        job->transfer = remote->upload(row, job->device.get());
        break;
    case Kind::Download:
        job->transfer = remote->download(row, job->device.get());
        break;
    case Kind::Delete:
        job->transfer = remote->remove(row);
        break;
    }
    if (!job->transfer) {
        job->localError
            = QAttachmentError(QAttachmentError::InvalidInput,
                               QStringLiteral("the remote storage started no transfer"));
        finishedJobs.append(job);
        startFlush();
        emit q->activeTransfersChanged();
        return;
    }
    qCDebug(lcTransfer) << "start" << *kind << row.id();
    const QString id = row.id();
    QObject::connect(job->transfer, &QAttachmentTransfer::progress, q,
                     [q, id, k = *kind](qint64 done, qint64 total) {
                         emit q->transferProgress(id, k, done, total);
                     });
    QObject::connect(job->transfer, &QAttachmentTransfer::finished, q,
                     [this, job] { onJobFinished(job); });
    emit q->activeTransfersChanged();
    emit q->transferStarted(id, *kind);
}

void QAttachmentQueuePrivate::onJobFinished(QAttachmentJob *job)
{
    if (job->abandoned)
        return;
    finishedJobs.append(job);
    // Results that arrive together are written in one transaction.
    startFlush();
}

void QAttachmentQueuePrivate::flushCompletions()
{
    Q_Q(QAttachmentQueue);
    flushTimer.stop();
    if (finishedJobs.isEmpty())
        return;
    const QList<QAttachmentJob *> batch = std::exchange(finishedJobs, {});
    for (QAttachmentJob *job : batch)
        settleJob(job);
    QList<std::function<void()>> after;
    QString problem;
    bool own = false;
    const bool began = beginWrite(&own, &problem);
    bool ok = began;
    for (QAttachmentJob *job : batch) {
        if (ok && !recordJob(job, &after, &problem))
            ok = false;
    }
    if (began && !endWrite(own, ok, &problem))
        ok = false;
    if (!ok) {
        // The transfers are done and their results kept: only the write is
        // tried again, after a pause that grows while the table stays
        // unwritable (read-only, full, locked). Each try counts as an attempt.
        ++recordFailures;
        const QString message
            = QStringLiteral("recording finished transfers failed: %1").arg(problem);
        reportRecurring(QStringLiteral("record"), QAttachmentError::DatabaseError, message);
        const QAttachmentError error(QAttachmentError::DatabaseError, message);
        for (QAttachmentJob *job : batch) {
            Retry &retry = retries[job->attachment.id()];
            ++retry.attempts;
            if (job->outcome.isError() || job->unrecorded)
                continue;
            // Views showing the transfer need to learn that it did not land.
            job->unrecorded = true;
            retry.error = error;
            emit q->transferFailed(job->attachment.id(), job->kind, error, true);
        }
        finishedJobs = batch + finishedJobs;
        flushTimer.start(int(backoff(recordFailures)));
        updateIdle();
        return;
    }
    if (recordFailures > 0) {
        recordFailures = 0;
        clearRecurring(QStringLiteral("record"));
    }
    for (QAttachmentJob *job : batch) {
        jobs.remove(job->attachment.id());
        releaseJob(job);
    }
    for (const auto &step : std::as_const(after))
        step();
    emit q->activeTransfersChanged();
    scheduleCounts();
    pump();
}

void QAttachmentQueuePrivate::settleJob(QAttachmentJob *job)
{
    if (job->settled)
        return;
    job->settled = true;
    QAttachmentError error = job->localError;
    if (!error.isError() && job->transfer)
        error = job->transfer->error();
    if (!error.isError() && job->kind == Kind::Download) {
        // Complete on disk under its final name before the row says synced.
        // The device goes first: its writes must all have reached the file.
        const qint64 length = job->device->pos();
        job->device.reset();
        QString problem;
        if (!storage()->commitPartial(downloadName(job->attachment), length, &problem))
            error = QAttachmentError(QAttachmentError::LocalStorageError,
                                     QStringLiteral("cannot keep the download: %1").arg(problem));
        job->attachment.setSize(length);
    }
    job->outcome = error;
    if (error.isError() && !(error.code() == QAttachmentError::Cancelled && job->abandoned))
        job->giveUp = decideFailure(job, error) == FailureDecision::GiveUp;
}

bool QAttachmentQueuePrivate::recordJob(QAttachmentJob *job, QList<std::function<void()>> *after,
                                        QString *dbProblem)
{
    Q_Q(QAttachmentQueue);
    QAttachment row = job->attachment;
    const QString id = row.id();
    QSqlQuery query(database());
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QAttachmentError &error = job->outcome;
    QString &problem = *dbProblem;

    if (!error.isError()) {
        const int startState = QAttachmentState::toInt(job->startState);
        switch (job->kind) {
        case Kind::Upload:
            row.setState(State::Synced);
            row.setHasSynced(true);
            row.setTimestamp(now);
            if (!exec(query,
                      QStringLiteral("UPDATE %1 SET state = ?, has_synced = 1, timestamp = ? "
                                     "WHERE id = ? AND state = ?")
                          .arg(t()),
                      {QAttachmentState::toInt(State::Synced), now, id, startState}, &problem))
                return false;
            break;
        case Kind::Download:
            row.setState(State::Synced);
            row.setHasSynced(true);
            row.setLocalUri(downloadName(row));
            row.setTimestamp(now);
            if (!exec(query,
                      QStringLiteral("UPDATE %1 SET state = ?, has_synced = 1, local_uri = ?, "
                                     "size = ?, timestamp = ? WHERE id = ? AND state = ?")
                          .arg(t()),
                      {QAttachmentState::toInt(State::Synced), row.localUri(), row.size(), now, id,
                       startState},
                      &problem))
                return false;
            break;
        case Kind::Delete:
            if (!exec(query, QStringLiteral("DELETE FROM %1 WHERE id = ? AND state = ?").arg(t()),
                      {id, startState}, &problem))
                return false;
            break;
        }
        const bool applied = query.numRowsAffected() > 0;
        after->append([this, id] { retries.remove(id); });
        qCDebug(lcTransfer) << "done" << job->kind << id
                            << (applied ? "" : "(row changed meanwhile)");
        if (job->kind == Kind::Upload) {
            if (applied)
                after->append([this, q, row] {
                    emitChanged(row);
                    emit q->uploadFinished(row);
                });
        } else if (job->kind == Kind::Download) {
            if (applied) {
                after->append([this, q, row] {
                    emitChanged(row);
                    emit q->downloadFinished(row);
                });
            } else {
                // Unreferenced or deleted meanwhile: the file belongs to no row.
                after->append([this, id, name = downloadName(row)] {
                    const std::optional<QAttachment> now = readRow(id, nullptr);
                    if (!now || now->localUri() != name)
                        storage()->remove(name);
                });
            }
        } else if (applied) {
            after->append([this, q, row] {
                storage()->remove(localName(row));
                storage()->removePartial(downloadName(row));
                emit q->deleteFinished(row.id());
                emit q->attachmentRemoved(row.id());
            });
        }
        return true;
    }

    if (error.code() == QAttachmentError::Cancelled && job->abandoned)
        return true;
    qCDebug(lcTransfer) << "failed" << job->kind << id << error << "give up:" << job->giveUp;
    if (job->giveUp) {
        // Given up: archived, so that the row stops being worked on; a
        // download's partial file goes with it.
        row.setState(State::Archived);
        row.setTimestamp(now);
        if (!exec(
                query,
                QStringLiteral("UPDATE %1 SET state = ?, timestamp = ? WHERE id = ? AND state = ?")
                    .arg(t()),
                {QAttachmentState::toInt(State::Archived), now, id,
                 QAttachmentState::toInt(job->startState)},
                &problem))
            return false;
        const bool applied = query.numRowsAffected() > 0;
        after->append([this, q, row, error, applied, kind = job->kind] {
            retries.remove(row.id());
            if (kind == Kind::Download)
                storage()->removePartial(downloadName(row));
            emit q->transferFailed(row.id(), kind, error, false);
            if (applied)
                emitChanged(row);
        });
        return true;
    }
    after->append([this, q, id, error, row = job->attachment, kind = job->kind] {
        pending.append(row); // waits for its backoff
        emit q->transferFailed(id, kind, error, true);
    });
    return true;
}

qint64 QAttachmentQueuePrivate::retryCap() const
{
    // The specification's "the sync interval ensures periodic retry attempts".
    return syncInterval > 0 ? qMin<qint64>(maxRetryDelay, syncInterval) : maxRetryDelay;
}

qint64 QAttachmentQueuePrivate::backoff(int attempts) const
{
    const qint64 cap = retryCap();
    qint64 delay = qMin<qint64>(retryDelay, cap);
    for (int i = 1; i < attempts && delay < cap; ++i)
        delay *= 2;
    delay = qMin(delay, cap);
    // Jitter spreads retries of many attachments that failed together.
    return delay / 2 + qint64(QRandomGenerator::global()->bounded(double(delay / 2 + 1)));
}

QAttachmentQueuePrivate::FailureDecision
QAttachmentQueuePrivate::decideFailure(QAttachmentJob *job, const QAttachmentError &error)
{
    Retry &retry = retries[job->attachment.id()];
    retry.error = error;
    ++retry.attempts;
    // In offline-first apps the row that references a file routinely arrives
    // before the uploader's file: a download's 404 is worth the normal backoff.
    const bool retryable = error.isRetryable()
        || (job->kind == Kind::Download && error.code() == QAttachmentError::NotFound);
    const bool exhausted = maxAttempts > 0 && retry.attempts >= maxAttempts;
    const bool askHandler = errorHandler && (maxAttempts == 0 || exhausted || !retryable);
    if (askHandler) {
        bool retryIt = true;
        switch (job->kind) {
        case Kind::Upload:
            retryIt = errorHandler->onUploadError(job->attachment, error);
            break;
        case Kind::Download:
            retryIt = errorHandler->onDownloadError(job->attachment, error);
            break;
        case Kind::Delete:
            retryIt = errorHandler->onDeleteError(job->attachment, error);
            break;
        }
        if (!retryIt)
            return FailureDecision::GiveUp;
    } else if (exhausted) {
        return FailureDecision::GiveUp;
    }
    qint64 delay = 0;
    if (!retryable && !askHandler) {
        // Not worth a quick retry (401, other 4xx): the longest pause, or at
        // once on retryFailed() or new settings.
        delay = retryCap();
    } else {
        delay = backoff(retry.attempts);
    }
    // A server's Retry-After is honoured, up to maxRetryDelay.
    if (error.retryAfterMs() > delay)
        delay = qMin<qint64>(error.retryAfterMs(), maxRetryDelay);
    retry.notBefore = clock.elapsed() + delay;
    return FailureDecision::Retry;
}

void QAttachmentQueuePrivate::abortJob(const QString &id)
{
    Q_Q(QAttachmentQueue);
    QAttachmentJob *job = jobs.take(id);
    if (!job)
        return;
    finishedJobs.removeAll(job);
    job->abandoned = true;
    if (job->transfer) {
        QObject::disconnect(job->transfer, nullptr, q, nullptr);
        job->transfer->abort();
    }
    releaseJob(job);
    emit q->activeTransfersChanged();
}

void QAttachmentQueuePrivate::abortJobIfStale(const QString &id, State newState)
{
    QAttachmentJob *job = jobs.value(id);
    if (job && job->startState != newState) {
        qCDebug(lcTransfer) << "abort" << job->kind << id << "- its row changed";
        abortJob(id);
    }
}

void QAttachmentQueuePrivate::abortAll()
{
    const QStringList ids = jobs.keys();
    for (const QString &id : ids)
        abortJob(id);
}

void QAttachmentQueuePrivate::releaseJob(QAttachmentJob *job)
{
    // deleteLater: the transfer may be inside one of its own signals.
    job->deleteLater();
}

void QAttachmentQueuePrivate::clearRetries()
{
    // The attempt counts stay: maxAttempts still applies.
    for (Retry &retry : retries)
        retry.notBefore = 0;
}
