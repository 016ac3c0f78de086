#ifndef QATTACHMENTUPLOADOPERATION_P_H
#define QATTACHMENTUPLOADOPERATION_P_H

#include "qattachmentoperation_p.h"

class QAttachmentUploadOperation : public QAttachmentOperation
{
public:
    QAttachmentTransfer::Kind kind() const override { return QAttachmentTransfer::Upload; }
    // Streams from the attachment's local file.
    bool openDevice(QAttachmentLocalStorage &files, QAttachmentJob &job,
                    QString *problem) const override;
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

#endif // QATTACHMENTUPLOADOPERATION_P_H
