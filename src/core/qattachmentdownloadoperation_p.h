#ifndef QATTACHMENTDOWNLOADOPERATION_P_H
#define QATTACHMENTDOWNLOADOPERATION_P_H

#include "qattachmentoperation_p.h"

class QAttachmentDownloadOperation : public QAttachmentOperation
{
public:
    QAttachmentTransfer::Kind kind() const override { return QAttachmentTransfer::Download; }
    // Streams into the partial file, kept for a resumed attempt.
    bool openDevice(QAttachmentLocalStorage &files, QAttachmentJob &job,
                    QString *problem) const override;
    // The partial file takes its final name, complete and on the disk, before
    // the row says synced: finish() has the storage do it off the app's thread.
    void finish(QAttachmentLocalStorage &files, QAttachmentJob &job,
                std::function<void()> done) const override;
    QAttachmentError complete(QAttachmentLocalStorage &files, QAttachmentJob &job) const override;
    // A 404 too: in offline-first apps the row that references a file
    // routinely arrives before the uploader's file.
    bool isRetryable(const QAttachmentError &error) const override;
    void afterGiveUp(QAttachmentLocalStorage &files, const QAttachment &row) const override;
    QAttachmentTransfer *start(QAttachmentRemoteStorage &remote,
                               QAttachmentJob &job) const override;
    bool handlerRetries(QAttachmentErrorHandler &handler, const QAttachment &row,
                        const QAttachmentError &error) const override;
    QAttachmentStore::Result recordSuccess(QAttachmentStore &store, const QAttachmentJob &job,
                                           QAttachment &row, qint64 now,
                                           QString *problem) const override;
    void afterSuccess(QAttachmentQueuePrivate &queue, const QAttachment &row,
                      bool applied) const override;
};

#endif // QATTACHMENTDOWNLOADOPERATION_P_H
