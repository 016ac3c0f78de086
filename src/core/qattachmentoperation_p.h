#ifndef QATTACHMENTOPERATION_P_H
#define QATTACHMENTOPERATION_P_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmentstore_p.h"
#include "qattachmenttransfer.h"

#include <functional>

class QAttachmentErrorHandler;
class QAttachmentJob;
class QAttachmentLocalStorage;
class QAttachmentQueuePrivate;
class QAttachmentRemoteStorage;

// What differs between an upload, a download and a delete: the local device
// the transfer uses, the remote call, the write of a success and what follows
// it, and the error handler's hook. One stateless instance per kind; the
// scheduler runs every kind the same way through this interface.
class QAttachmentOperation
{
public:
    virtual ~QAttachmentOperation();

    // The operation a row in `state` waits for; null for states that wait for none.
    static const QAttachmentOperation *forState(QAttachmentState::State state);

    virtual QAttachmentTransfer::Kind kind() const = 0;

    // Opens the local file the transfer streams from or into (job.device).
    // False, with `problem`, when it is needed and cannot be opened.
    virtual bool openDevice(QAttachmentLocalStorage &files, QAttachmentJob &job,
                            QString *problem) const;
    // Starts the remote side; null when the storage started nothing.
    virtual QAttachmentTransfer *start(QAttachmentRemoteStorage &remote,
                                       QAttachmentJob &job) const = 0;
    // When the transfer ended, before its outcome is settled: work that
    // waits for the disk, done off the app's thread. Calls `done` once, later,
    // in the job's thread, unless the job is destroyed first. The default has
    // nothing to do and calls it at once.
    virtual void finish(QAttachmentLocalStorage &files, QAttachmentJob &job,
                        std::function<void()> done) const;
    // After the transfer succeeded, before its result is written: an error
    // when the result cannot be kept.
    virtual QAttachmentError complete(QAttachmentLocalStorage &files, QAttachmentJob &job) const;
    // Whether a failure is worth the normal backoff.
    virtual bool isRetryable(const QAttachmentError &error) const;
    // Asks the app's error handler: true to retry, false to give up.
    virtual bool handlerRetries(QAttachmentErrorHandler &handler, const QAttachment &row,
                                const QAttachmentError &error) const = 0;

    // Writes the success, where the row is still in `job.startState`;
    // `row` becomes what the table now says.
    virtual QAttachmentStore::Result recordSuccess(QAttachmentStore &store,
                                                   const QAttachmentJob &job, QAttachment &row,
                                                   qint64 now, QString *problem) const = 0;
    // Runs once the success is committed (`applied`: the row took it).
    virtual void afterSuccess(QAttachmentQueuePrivate &queue, const QAttachment &row,
                              bool applied) const = 0;
    // Runs once a given-up attempt is committed.
    virtual void afterGiveUp(QAttachmentLocalStorage &files, const QAttachment &row) const;
};

#endif // QATTACHMENTOPERATION_P_H
