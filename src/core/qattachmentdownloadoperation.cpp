#include "qattachmentdownloadoperation_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentjob_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentqueue_p.h"
#include "qattachmentremotestorage.h"

bool QAttachmentDownloadOperation::openDevice(QAttachmentLocalStorage &files, QAttachmentJob &job,
                                              QString *problem) const
{
    job.device = files.openPartial(QAttachmentQueuePrivate::downloadName(job.attachment), problem);
    return job.device != nullptr;
}

QAttachmentTransfer *QAttachmentDownloadOperation::start(QAttachmentRemoteStorage &remote,
                                                         QAttachmentJob &job) const
{
    return remote.download(job.attachment, job.device.get());
}

void QAttachmentDownloadOperation::finish(QAttachmentLocalStorage &files, QAttachmentJob &job,
                                          std::function<void()> done) const
{
    if (job.localError.isError() || !job.transfer || job.transfer->error().isError()
        || !job.device) {
        done();
        return;
    }
    // The device goes first: its writes must all have reached the file.
    const qint64 length = job.device->pos();
    job.device.reset();
    job.attachment.setSize(length);
    // The job is the context: an aborted job, deleted, hears nothing, and its
    // row stays queued (the file, committed anyway, is replaced by the next
    // attempt, or swept at the next start when no row owns it).
    QAttachmentJob *context = &job;
    files.commitPartialAsync(
        QAttachmentQueuePrivate::downloadName(job.attachment), length, context,
        [context, done = std::move(done)](bool ok, const QString &problem) {
            context->committed = true;
            if (!ok)
                context->commitError
                    = QAttachmentError(QAttachmentError::LocalStorageError,
                                       QStringLiteral("cannot keep the download: %1").arg(problem));
            done();
        });
}

QAttachmentError QAttachmentDownloadOperation::complete(QAttachmentLocalStorage &files,
                                                        QAttachmentJob &job) const
{
    if (job.committed)
        return job.commitError;
    // Complete on disk under its final name before the row says synced.
    // The device goes first: its writes must all have reached the file.
    const qint64 length = job.device->pos();
    job.device.reset();
    job.attachment.setSize(length);
    QString problem;
    if (!files.commitPartial(QAttachmentQueuePrivate::downloadName(job.attachment), length,
                             &problem))
        return QAttachmentError(QAttachmentError::LocalStorageError,
                                QStringLiteral("cannot keep the download: %1").arg(problem));
    return {};
}

bool QAttachmentDownloadOperation::isRetryable(const QAttachmentError &error) const
{
    return error.isRetryable() || error.code() == QAttachmentError::NotFound;
}

bool QAttachmentDownloadOperation::handlerRetries(QAttachmentErrorHandler &handler,
                                                  const QAttachment &row,
                                                  const QAttachmentError &error) const
{
    return handler.onDownloadError(row, error);
}

QAttachmentStore::Result QAttachmentDownloadOperation::recordSuccess(QAttachmentStore &store,
                                                                     const QAttachmentJob &job,
                                                                     QAttachment &row, qint64 now,
                                                                     QString *problem) const
{
    row.setState(QAttachmentState::Synced);
    row.setHasSynced(true);
    row.setLocalUri(QAttachmentQueuePrivate::downloadName(row));
    row.setTimestamp(now);
    return store.recordDownloaded(row.id(), row.localUri(), row.size(), now, job.startState,
                                  problem);
}

void QAttachmentDownloadOperation::afterSuccess(QAttachmentQueuePrivate &queue,
                                                const QAttachment &row, bool applied) const
{
    if (applied) {
        queue.emitChanged(row);
        emit queue.q_ptr->downloadFinished(row);
        return;
    }
    // Unreferenced or deleted meanwhile: the file belongs to no row. When
    // another connection's lock keeps the row from being read, the file
    // stays; the next start's check removes it if no row owns it.
    std::optional<QAttachment> now;
    {
        const QAttachmentStore::ReadLimit noWait(queue.store, 0);
        now = queue.store.row(row.id(), nullptr);
    }
    if (!now && queue.store.lastFailureWasBusy())
        return;
    if (!now || now->localUri() != row.localUri())
        queue.storage()->remove(row.localUri());
}

void QAttachmentDownloadOperation::afterGiveUp(QAttachmentLocalStorage &files,
                                               const QAttachment &row) const
{
    files.removePartial(QAttachmentQueuePrivate::downloadName(row));
}
