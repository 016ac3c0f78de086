// Runs the transfers: up to maxConcurrentTransfers at once, results written
// in batches, each only if its row is still in the state the transfer started
// from, failures retried with backoff or handed to the error handler.

#include "qattachmentscheduler_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentjob_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentoperation_p.h"
#include "qattachmentqueue_p.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qrandom.h>
#include <QtNetwork/qnetworkinformation.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

QAttachmentScheduler::QAttachmentScheduler(QAttachmentQueuePrivate &queue)
    : d(queue)
{
    m_clock.start();
    for (QTimer *timer : {&m_pumpTimer, &m_flushTimer}) {
        timer->setSingleShot(true);
        timer->setInterval(0);
    }
    m_retryTimer.setSingleShot(true);
    QObject *context = d.q_ptr;
    QObject::connect(&m_pumpTimer, &QTimer::timeout, context, [this] { startDue(); });
    QObject::connect(&m_retryTimer, &QTimer::timeout, context, [this] { startDue(); });
    QObject::connect(&m_flushTimer, &QTimer::timeout, context, [this] { flush(); });
    QObject::connect(&m_periodicTimer, &QTimer::timeout, context, [this] {
        // Writes from other connections are not notified: the tick catches them.
        d.triggerSync();
        schedule();
    });
}

QAttachmentScheduler::~QAttachmentScheduler()
{
    abortAll();
    // Their commits complete without them: the outcome is dropped with them.
    const QList<QAttachmentJob *> orphans = m_orphans.values();
    m_orphans.clear();
    qDeleteAll(orphans);
}

void QAttachmentScheduler::invalidatePending()
{
    m_pendingDirty = true;
}

void QAttachmentScheduler::addPending(const QAttachment &row)
{
    // A scan starting again reads it. Otherwise it waits in the window at
    // once, without a query; a scan still under way that may reach it
    // later passes over it then.
    if (m_pendingDirty)
        return;
    m_pending.append(row);
    if (!m_scanDone
        && (!m_cursor.started || m_cursor.nullTimestamp || row.timestamp() >= m_cursor.timestamp))
        m_addedAhead.insert(row.id());
}

void QAttachmentScheduler::clearPending(bool readAgain)
{
    m_pending.clear();
    m_addedAhead.clear();
    m_pendingDirty = readAgain;
    m_cursor = {};
    m_scanDone = !readAgain;
    ++m_scanGeneration;
    if (!readAgain) {
        m_pumpTimer.stop();
        m_retryTimer.stop();
    }
}

void QAttachmentScheduler::setPeriodic(int msecs)
{
    m_periodicTimer.stop();
    if (msecs > 0)
        m_periodicTimer.start(msecs);
}

void QAttachmentScheduler::followNetwork()
{
    // A hint only: in containers the backends often report nothing useful.
    static bool networkInformationTried = false;
    if (!networkInformationTried) {
        networkInformationTried = true;
        QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability);
    }
    QNetworkInformation *info = QNetworkInformation::instance();
    if (!info || m_networkConnection)
        return;
    m_networkConnection = QObject::connect(
        info, &QNetworkInformation::reachabilityChanged, d.q_ptr,
        [this](QNetworkInformation::Reachability reachability) {
            if (reachability == QNetworkInformation::Reachability::Online && d.syncing) {
                retryNow();
                schedule();
            }
        });
}

void QAttachmentScheduler::stopTimers()
{
    m_periodicTimer.stop();
    m_retryTimer.stop();
    m_pumpTimer.stop();
}

void QAttachmentScheduler::schedule()
{
    if (!d.syncing)
        return;
    // Restarting an active zero-delay timer moves it behind every other one:
    // an app saving a file per event-loop turn would starve the pump.
    if (!m_pumpTimer.isActive())
        m_pumpTimer.start();
    d.updateIdle();
}

void QAttachmentScheduler::restartScan()
{
    m_pending.clear();
    m_addedAhead.clear();
    m_cursor = {};
    m_scanDone = false;
    m_pendingDirty = false;
    ++m_scanGeneration;
}

bool QAttachmentScheduler::readPage(int limit)
{
    QList<QAttachment> rows;
    QString problem;
    bool ok = false;
    {
        // Read from the event loop: another connection's lock makes it try
        // again later (startDue()), never wait.
        const QAttachmentStore::ReadLimit noWait(d.store, 0);
        ok = d.store.pendingPage(&m_cursor, limit, &rows, &problem);
    }
    if (!ok && d.store.lastFailureWasBusy()) {
        m_readBusyMs = qBound(ReadBusyFirstMs, m_readBusyMs * 2, ReadBusyMaxMs);
        qCDebug(lcTransfer) << "the database is busy; pending rows read again in" << m_readBusyMs
                            << "ms";
        return false;
    }
    m_readBusyMs = 0;
    if (!ok) {
        d.reportError(QAttachmentError::DatabaseError, problem);
        return false;
    }
    if (rows.size() < limit)
        m_scanDone = true;
    const int read = int(rows.size());
    for (QAttachment &row : rows) {
        // Saved while the scan ran: in the window already.
        if (!m_addedAhead.isEmpty() && m_addedAhead.remove(row.id()))
            continue;
        // Running rows are in m_jobs; a failure puts them back (this scan
        // passed them). A row whose aborted commit still runs is read again
        // once it is over.
        if (QAttachmentJob *job = m_jobs.value(row.id())) {
            job->scanGeneration = m_scanGeneration;
            continue;
        }
        if (!m_orphans.contains(row.id()) && d.acceptRow(row))
            m_pending.append(std::move(row));
    }
    if (pageObserver)
        pageObserver(read);
    return true;
}

void QAttachmentScheduler::startDue()
{
    m_pumpTimer.stop();
    // While the start-up check runs, a row's file may be gone unnoticed yet.
    if (!d.syncing || !d.online || !d.remote || !d.ready || d.checkingFiles()) {
        d.updateIdle();
        return;
    }
    if (m_pendingDirty)
        restartScan();

    // Only the front of the window is looked at, and when it holds too little
    // one page more is read: one short query per step, whatever the number
    // of rows pending. More pages, if needed, are read on later turns of the
    // event loop.
    const qint64 now = m_clock.elapsed();
    qsizetype freeSlots = concurrencyLimit() - runningCount();
    QList<QAttachment> toStart;
    QList<qsizetype> taken;
    bool pageRead = false;
    qsizetype next = 0;
    while (freeSlots > 0) {
        if (next == m_pending.size()) {
            if (m_scanDone || pageRead || !readPage(int(freeSlots) + lookAhead()))
                break;
            pageRead = true;
            continue;
        }
        const qsizetype i = next++;
        const QAttachment &row = m_pending.at(i);
        if (row.state() == State::QueuedDownload && !d.downloadAttachments)
            continue;
        if (m_jobs.contains(row.id()) || m_orphans.contains(row.id())) {
            taken.append(i); // running: a failure puts it back
            continue;
        }
        const auto retry = m_retries.constFind(row.id());
        if (retry != m_retries.cend() && retry->notBefore > now)
            continue;
        --freeSlots;
        toStart.append(row);
        taken.append(i);
    }
    if (!taken.isEmpty() && taken.last() == taken.size() - 1) {
        m_pending.remove(0, taken.size()); // the usual case, cheap at the front
    } else {
        for (auto it = taken.crbegin(); it != taken.crend(); ++it)
            m_pending.removeAt(*it);
    }
    // The earliest end of a backoff; rows that are running wait for nothing.
    qint64 nextDue = -1;
    for (auto it = m_retries.cbegin(); it != m_retries.cend(); ++it) {
        if (it->notBefore > now && !m_jobs.contains(it.key()))
            nextDue = nextDue < 0 ? it->notBefore : qMin(nextDue, it->notBefore);
    }
    for (const QAttachment &row : std::as_const(toStart))
        startJob(row);
    // The next page on the next turn: the event loop runs between pages.
    if (pageRead && !m_scanDone && concurrencyLimit() > runningCount())
        m_pumpTimer.start();
    qint64 wait = nextDue >= 0 ? qMax<qint64>(0, nextDue - now) : -1;
    if (m_readBusyMs > 0) // the page could not be read: another connection's lock
        wait = wait < 0 ? m_readBusyMs : qMin<qint64>(wait, m_readBusyMs);
    if (wait >= 0)
        m_retryTimer.start(int(wait));
    d.updateIdle();
}

void QAttachmentScheduler::failToStart(QAttachmentJob *job, const QAttachmentError &error)
{
    // Failing through the normal path lets the error handler decide.
    job->localError = error;
    m_finished.append(job);
    startFlush();
    emit d.q_ptr->activeTransfersChanged();
}

void QAttachmentScheduler::startJob(const QAttachment &row)
{
    QAttachmentQueue *q = d.q_ptr;
    const QAttachmentOperation *operation = QAttachmentOperation::forState(row.state());
    if (!operation)
        return;
    auto *job = new QAttachmentJob(*operation, row);
    job->scanGeneration = m_scanGeneration;
    m_jobs.insert(row.id(), job);
    d.statuses.remember(row); // status() of a running transfer needs no query
    QString problem;
    if (!operation->openDevice(*d.storage(), *job, &problem)) {
        failToStart(
            job,
            QAttachmentError(QAttachmentError::LocalStorageError,
                             QStringLiteral("local file of %1: %2").arg(row.id(), problem)));
        return;
    }
    job->transfer = operation->start(*d.remote, *job);
    if (!job->transfer) {
        failToStart(job,
                    QAttachmentError(QAttachmentError::InvalidInput,
                                     QStringLiteral("the remote storage started no transfer")));
        return;
    }
    const Kind kind = operation->kind();
    qCDebug(lcTransfer) << "start" << kind << row.id();
    const QString id = row.id();
    job->bytesDone = 0;
    job->bytesTotal = -1;
    QObject::connect(job->transfer, &QAttachmentTransfer::progress, q,
                     [this, q, job, id, kind](qint64 done, qint64 total) {
                         job->bytesDone = qMax<qint64>(done, 0);
                         job->bytesTotal = total;
                         emit q->transferProgress(id, kind, done, total);
                         d.emitStatusChanged(id);
                     });
    QObject::connect(job->transfer, &QAttachmentTransfer::finished, q,
                     [this, job] { onJobFinished(job); });
    emit q->activeTransfersChanged();
    emit q->transferStarted(id, kind);
    d.emitStatusChanged(id);
}

void QAttachmentScheduler::onJobFinished(QAttachmentJob *job)
{
    if (job->abandoned)
        return;
    // Too many commits in flight: the job waits for one, keeping its slot,
    // so that the files (and descriptors) being committed stay bounded.
    if (commitsInFlight() >= commitLimit()) {
        m_commitWaiting.append(job);
        return;
    }
    handOff(job);
}

void QAttachmentScheduler::handOff(QAttachmentJob *job)
{
    // A download's file reaches the disk first, off this thread; its slot
    // serves another transfer meanwhile. A job aborted meanwhile waits for
    // the outcome as an orphan; a job deleted hears nothing.
    job->committing = true;
    ++m_commits;
    job->operation.finish(*d.storage(), *job, [this, job] { onFinishedOffThread(job); });
    // The next transfer starts now, not after the events already queued: on
    // a fast link those are mostly other transfers finishing, and a slot
    // left empty meanwhile is a request not on the wire.
    if (job->committing) {
        if (d.syncing && !m_pumpTimer.isActive())
            startDue();
        else
            schedule();
    }
}

void QAttachmentScheduler::onFinishedOffThread(QAttachmentJob *job)
{
    job->committing = false;
    if (job->abandoned) {
        // Its row may start again now (read again: the scan passed it).
        const QString id = job->attachment.id();
        if (m_orphans.value(id) == job)
            m_orphans.remove(id);
        release(job);
        invalidatePending();
        schedule();
    } else {
        --m_commits;
        m_finished.append(job);
        // Results that arrive together are written in one transaction; while
        // this one waits for it, its slot serves the next transfer.
        schedule();
        startFlush();
    }
    while (!m_commitWaiting.isEmpty() && commitsInFlight() < commitLimit())
        handOff(m_commitWaiting.takeFirst());
}

void QAttachmentScheduler::startFlush()
{
    // While a failed write backs off, new results wait with it.
    if (m_recordFailures > 0) {
        if (!m_flushTimer.isActive())
            m_flushTimer.start(0);
        return;
    }
    qint64 delay = 0;
    if (m_lastWrite >= 0 && m_finished.size() < concurrencyLimit())
        delay = qMax<qint64>(0, m_lastWrite + writeGatherMs - m_clock.elapsed());
    if (!m_flushTimer.isActive() || m_flushTimer.remainingTime() > delay)
        m_flushTimer.start(int(delay));
}

void QAttachmentScheduler::flush(FlushFollowUp followUp)
{
    QAttachmentQueue *q = d.q_ptr;
    m_flushTimer.stop();
    if (m_finished.isEmpty())
        return;
    m_lastWrite = m_clock.elapsed();
    const QList<QAttachmentJob *> batch = std::exchange(m_finished, {});
    for (QAttachmentJob *job : batch)
        settle(job);
    QList<std::function<void()>> after;
    QString problem;
    bool ok = false;
    {
        QAttachmentStore::WriteTransaction transaction(d.store);
        ok = transaction.isOpen();
        if (!ok)
            problem = transaction.errorString();
        for (QAttachmentJob *job : batch) {
            if (ok && !record(job, &after, &problem))
                ok = false;
        }
        if (ok && !transaction.commit(&problem))
            ok = false;
    }
    if (!ok) {
        // The transfers are done and their results kept: only the write is
        // tried again, after a pause that grows while the table stays
        // unwritable (read-only, full, locked). Each try counts as an attempt.
        ++m_recordFailures;
        const QString message
            = QStringLiteral("recording finished transfers failed: %1").arg(problem);
        d.reportRecurring(QStringLiteral("record"), QAttachmentError::DatabaseError, message);
        const QAttachmentError error(QAttachmentError::DatabaseError, message);
        for (QAttachmentJob *job : batch) {
            Retry &retry = m_retries[job->attachment.id()];
            ++retry.attempts;
            if (job->outcome.isError() || job->unrecorded)
                continue;
            // Views showing the transfer need to learn that it did not land.
            job->unrecorded = true;
            retry.error = error;
            emit q->transferFailed(job->attachment.id(), job->kind(), error, true);
            d.emitStatusChanged(job->attachment.id());
        }
        m_finished = batch + m_finished;
        m_flushTimer.start(int(backoff(m_recordFailures)));
        d.updateIdle();
        return;
    }
    if (m_recordFailures > 0) {
        m_recordFailures = 0;
        d.clearRecurring(QStringLiteral("record"));
    }
    for (QAttachmentJob *job : batch) {
        m_jobs.remove(job->attachment.id());
        release(job);
    }
    for (const auto &step : std::as_const(after))
        step();
    qCDebug(lcTransfer) << "results written:" << batch.size();
    if (writeObserver)
        writeObserver(int(batch.size()));
    emit q->activeTransfersChanged();
    d.scheduleCounts();
    if (followUp == StartDue)
        startDue();
}

void QAttachmentScheduler::settle(QAttachmentJob *job)
{
    if (job->settled)
        return;
    job->settled = true;
    QAttachmentError error = job->localError;
    if (!error.isError() && job->transfer)
        error = job->transfer->error();
    if (!error.isError())
        error = job->operation.complete(*d.storage(), *job);
    job->outcome = error;
    if (!error.isError() || (error.code() == QAttachmentError::Cancelled && job->abandoned))
        return;
    Retry &retry = m_retries[job->attachment.id()];
    retry.error = error;
    ++retry.attempts;
    const QAttachmentFailureDecision decision
        = decideFailure(job->operation, job->attachment, retry.attempts, error);
    job->giveUp = decision.action == QAttachmentFailureDecision::Action::GiveUp;
    if (!job->giveUp)
        retry.notBefore = m_clock.elapsed() + decision.delayMs;
}

bool QAttachmentScheduler::record(QAttachmentJob *job, QList<std::function<void()>> *after,
                                  QString *problem)
{
    QAttachmentQueue *q = d.q_ptr;
    QAttachment row = job->attachment;
    const QString id = row.id();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QAttachmentError &error = job->outcome;
    const QAttachmentOperation &operation = job->operation;
    const Kind kind = operation.kind();

    if (!error.isError()) {
        const QAttachmentStore::Result result
            = operation.recordSuccess(d.store, *job, row, now, problem);
        if (result == QAttachmentStore::Result::Failed)
            return false;
        const bool applied = result == QAttachmentStore::Result::Applied;
        qCDebug(lcTransfer) << "done" << kind << id << (applied ? "" : "(row changed meanwhile)");
        after->append([this, &operation, row, applied] {
            forget(row.id());
            operation.afterSuccess(d, row, applied);
        });
        return true;
    }

    if (error.code() == QAttachmentError::Cancelled && job->abandoned)
        return true;
    qCDebug(lcTransfer) << "failed" << kind << id << error << "give up:" << job->giveUp;
    if (job->giveUp) {
        // Given up: archived, so that the row stops being worked on.
        row.setState(State::Archived);
        row.setTimestamp(now);
        const QAttachmentStore::Result result
            = d.store.recordGivenUp(id, now, job->startState, problem);
        if (result == QAttachmentStore::Result::Failed)
            return false;
        const bool applied = result == QAttachmentStore::Result::Applied;
        after->append([this, q, &operation, row, error, applied, kind] {
            forget(row.id());
            operation.afterGiveUp(*d.storage(), row);
            emit q->transferFailed(row.id(), kind, error, false);
            if (applied)
                d.emitChanged(row);
        });
        return true;
    }
    after->append(
        [this, q, id, error, row = job->attachment, kind, generation = job->scanGeneration] {
            // Waits for its backoff; a scan that did not pass it yet reads it.
            if (!m_pendingDirty && generation == m_scanGeneration)
                m_pending.append(row);
            emit q->transferFailed(id, kind, error, true);
            d.emitStatusChanged(id);
        });
    return true;
}

qint64 QAttachmentScheduler::retryCap() const
{
    // The specification's "the sync interval ensures periodic retry attempts".
    return d.syncInterval > 0 ? qMin<qint64>(d.maxRetryDelay, d.syncInterval) : d.maxRetryDelay;
}

qint64 QAttachmentScheduler::backoff(int attempts) const
{
    const qint64 cap = retryCap();
    qint64 delay = qMin<qint64>(d.retryDelay, cap);
    for (int i = 1; i < attempts && delay < cap; ++i)
        delay *= 2;
    delay = qMin(delay, cap);
    // Jitter spreads retries of many attachments that failed together.
    return delay / 2 + qint64(QRandomGenerator::global()->bounded(double(delay / 2 + 1)));
}

QAttachmentFailureDecision
QAttachmentScheduler::decideFailure(const QAttachmentOperation &operation, const QAttachment &row,
                                    int attempts, const QAttachmentError &error) const
{
    using Action = QAttachmentFailureDecision::Action;
    const bool retryable = operation.isRetryable(error);
    const bool exhausted = d.maxAttempts > 0 && attempts >= d.maxAttempts;
    const bool askHandler = d.errorHandler && (d.maxAttempts == 0 || exhausted || !retryable);
    if (askHandler) {
        if (!operation.handlerRetries(*d.errorHandler, row, error))
            return {Action::GiveUp, 0};
    } else if (exhausted) {
        return {Action::GiveUp, 0};
    }
    qint64 delay = 0;
    if (!retryable && !askHandler) {
        // Not worth a quick retry (401, other 4xx): the longest pause, or at
        // once on retryFailed() or new settings.
        delay = retryCap();
    } else {
        delay = backoff(attempts);
    }
    // A server's Retry-After is honoured, up to maxRetryDelay.
    if (error.retryAfterMs() > delay)
        delay = qMin<qint64>(error.retryAfterMs(), d.maxRetryDelay);
    return {Action::Retry, delay};
}

void QAttachmentScheduler::abort(const QString &id)
{
    QAttachmentQueue *q = d.q_ptr;
    QAttachmentJob *job = m_jobs.take(id);
    if (!job)
        return;
    m_finished.removeAll(job);
    m_commitWaiting.removeAll(job);
    job->abandoned = true;
    if (job->transfer) {
        QObject::disconnect(job->transfer, nullptr, q, nullptr);
        job->transfer->abort();
    }
    if (job->committing) {
        // Kept until its commit reports back; its row waits for that.
        --m_commits;
        if (QAttachmentJob *previous = m_orphans.value(id))
            release(previous);
        m_orphans.insert(id, job);
    } else {
        release(job);
    }
    emit q->activeTransfersChanged();
    d.emitStatusChanged(id);
}

void QAttachmentScheduler::abortIfStale(const QString &id, State newState)
{
    QAttachmentJob *job = m_jobs.value(id);
    if (job && job->startState != newState) {
        qCDebug(lcTransfer) << "abort" << job->kind() << id << "- its row changed";
        abort(id);
    }
}

void QAttachmentScheduler::abortAll()
{
    const QStringList ids = m_jobs.keys();
    for (const QString &id : ids)
        abort(id);
}

void QAttachmentScheduler::release(QAttachmentJob *job)
{
    // deleteLater: the transfer may be inside one of its own signals.
    job->deleteLater();
}

std::pair<qint64, qint64> QAttachmentScheduler::progressOf(const QString &id) const
{
    QAttachmentJob *job = m_jobs.value(id);
    if (!job || !job->transfer)
        return {-1, -1};
    return {job->transfer->bytesDone(), job->transfer->bytesTotal()};
}

std::pair<qint64, qint64> QAttachmentScheduler::liveProgressOf(const QString &id) const
{
    QAttachmentJob *job = m_jobs.value(id);
    if (!job || !job->transfer || job->unrecorded)
        return {-1, -1};
    return {job->bytesDone, job->bytesTotal};
}

QAttachmentError QAttachmentScheduler::lastError(const QString &id) const
{
    return m_retries.value(id).error;
}

qint64 QAttachmentScheduler::nextRetryMs(const QString &id) const
{
    const auto retry = m_retries.constFind(id);
    if (retry == m_retries.cend() || !retry->error.isError() || m_jobs.contains(id))
        return -1;
    return QDateTime::currentMSecsSinceEpoch()
        + qMax<qint64>(0, retry->notBefore - m_clock.elapsed());
}

void QAttachmentScheduler::forget(const QString &id)
{
    if (m_retries.remove(id)) {
        d.emitStatusChanged(id);
        d.updateIdle();
    }
}

void QAttachmentScheduler::forgetAll()
{
    m_retries.clear();
    d.updateIdle();
}

int QAttachmentScheduler::failingCount() const
{
    int count = 0;
    for (auto it = m_retries.cbegin(); it != m_retries.cend(); ++it) {
        if (it->error.isError())
            ++count;
    }
    return count;
}

void QAttachmentScheduler::retryNow()
{
    for (Retry &retry : m_retries)
        retry.notBefore = 0;
}

bool QAttachmentScheduler::isIdle() const
{
    // Reconciliation or expiry still being written counts as work.
    if (hasUnfinishedWork() || d.hasTableWork())
        return false;
    if (!d.syncing || !d.online || !d.remote)
        return true;
    if (m_pendingDirty || m_pumpTimer.isActive() || !m_scanDone)
        return false;
    for (const QAttachment &row : std::as_const(m_pending)) {
        if (row.state() == State::QueuedDownload && !d.downloadAttachments)
            continue; // waits for downloads to be turned on
        const auto retry = m_retries.constFind(row.id());
        if (retry == m_retries.cend() || retry->notBefore <= m_clock.elapsed())
            return false;
    }
    return true;
}

int QAttachmentScheduler::lookAhead() const
{
    // Each page is one query, and what it costs is mostly that of the query,
    // not that of its rows (measured: a page of 20 rows cost as much as 160
    // of its rows). With many transfers at once a short page lasted a round
    // or two: the window holds several rounds instead, still one short step.
    return qMax(PageLookAhead, 8 * concurrencyLimit());
}

int QAttachmentScheduler::concurrencyLimit() const
{
    int limit = d.maxConcurrentTransfers;
    // A storage of another layer (HTTP) says what it carries by a property.
    if (d.remote) {
        bool ok = false;
        const int suggested = d.remote->property("suggestedConcurrentTransfers").toInt(&ok);
        if (ok && suggested > limit)
            limit = qMin(suggested, 1024);
    }
    return limit;
}
