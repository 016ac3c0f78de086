#ifndef QATTACHMENTERRORHANDLER_H
#define QATTACHMENTERRORHANDLER_H

#include "qattachment.h"
#include "qattachmenterror.h"

// Decides, per failed operation, whether the queue retries it (the row keeps
// its state) or gives up (the row is archived). Without a handler the queue
// retries retryable errors forever, with backoff.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentErrorHandler
{
public:
    virtual ~QAttachmentErrorHandler();

    // Return true to retry, false to give up.
    virtual bool onUploadError(const QAttachment &attachment, const QAttachmentError &error) = 0;
    virtual bool onDownloadError(const QAttachment &attachment, const QAttachmentError &error) = 0;
    virtual bool onDeleteError(const QAttachment &attachment, const QAttachmentError &error) = 0;
};

#endif // QATTACHMENTERRORHANDLER_H
