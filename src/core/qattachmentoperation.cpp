#include "qattachmentoperation_p.h"

#include "qattachmentdeleteoperation_p.h"
#include "qattachmentdownloadoperation_p.h"
#include "qattachmentuploadoperation_p.h"

QAttachmentOperation::~QAttachmentOperation() = default;

const QAttachmentOperation *QAttachmentOperation::forState(QAttachmentState::State state)
{
    static const QAttachmentUploadOperation upload;
    static const QAttachmentDownloadOperation download;
    static const QAttachmentDeleteOperation remove;
    switch (state) {
    case QAttachmentState::QueuedUpload:
        return &upload;
    case QAttachmentState::QueuedDownload:
        return &download;
    case QAttachmentState::QueuedDelete:
        return &remove;
    default:
        return nullptr;
    }
}

bool QAttachmentOperation::openDevice(QAttachmentLocalStorage &, QAttachmentJob &, QString *) const
{
    return true;
}

void QAttachmentOperation::finish(QAttachmentLocalStorage &, QAttachmentJob &,
                                  std::function<void()> done) const
{
    done();
}

QAttachmentError QAttachmentOperation::complete(QAttachmentLocalStorage &, QAttachmentJob &) const
{
    return {};
}

bool QAttachmentOperation::isRetryable(const QAttachmentError &error) const
{
    return error.isRetryable();
}

void QAttachmentOperation::afterGiveUp(QAttachmentLocalStorage &, const QAttachment &) const { }
