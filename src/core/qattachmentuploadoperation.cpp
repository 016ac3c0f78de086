#include "qattachmentuploadoperation_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentjob_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentqueue_p.h"
#include "qattachmentremotestorage.h"

bool QAttachmentUploadOperation::openDevice(QAttachmentLocalStorage &files, QAttachmentJob &job,
                                            QString *problem) const
{
    job.device = files.openForReading(QAttachmentQueuePrivate::localName(job.attachment), problem);
    return job.device != nullptr;
}

QAttachmentTransfer *QAttachmentUploadOperation::start(QAttachmentRemoteStorage &remote,
                                                       QAttachmentJob &job) const
{
    return remote.upload(job.attachment, job.device.get());
}

bool QAttachmentUploadOperation::handlerRetries(QAttachmentErrorHandler &handler,
                                                const QAttachment &row,
                                                const QAttachmentError &error) const
{
    return handler.onUploadError(row, error);
}

QAttachmentStore::Result QAttachmentUploadOperation::recordSuccess(QAttachmentStore &store,
                                                                   const QAttachmentJob &job,
                                                                   QAttachment &row, qint64 now,
                                                                   QString *problem) const
{
    row.setState(QAttachmentState::Synced);
    row.setHasSynced(true);
    row.setTimestamp(now);
    return store.recordUploaded(row.id(), now, job.startState, problem);
}

void QAttachmentUploadOperation::afterSuccess(QAttachmentQueuePrivate &queue,
                                              const QAttachment &row, bool applied) const
{
    if (!applied)
        return;
    queue.emitChanged(row);
    emit queue.q_ptr->uploadFinished(row);
}
