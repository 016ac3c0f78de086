#include "qattachmentdeleteoperation_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentjob_p.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentqueue_p.h"
#include "qattachmentremotestorage.h"

QAttachmentTransfer *QAttachmentDeleteOperation::start(QAttachmentRemoteStorage &remote,
                                                       QAttachmentJob &job) const
{
    return remote.remove(job.attachment);
}

bool QAttachmentDeleteOperation::handlerRetries(QAttachmentErrorHandler &handler,
                                                const QAttachment &row,
                                                const QAttachmentError &error) const
{
    return handler.onDeleteError(row, error);
}

QAttachmentStore::Result QAttachmentDeleteOperation::recordSuccess(QAttachmentStore &store,
                                                                   const QAttachmentJob &job,
                                                                   QAttachment &row, qint64,
                                                                   QString *problem) const
{
    return store.recordDeleted(row.id(), job.startState, problem);
}

void QAttachmentDeleteOperation::afterSuccess(QAttachmentQueuePrivate &queue,
                                              const QAttachment &row, bool applied) const
{
    if (!applied)
        return;
    // The row is gone first: a crash now leaves a stray file, never a row
    // whose file is gone.
    queue.storage()->remove(QAttachmentQueuePrivate::localName(row));
    queue.storage()->removePartial(QAttachmentQueuePrivate::downloadName(row));
    emit queue.q_ptr->deleteFinished(row.id());
    queue.emitRemoved(row.id());
}
