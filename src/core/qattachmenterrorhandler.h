#ifndef QATTACHMENTERRORHANDLER_H
#define QATTACHMENTERRORHANDLER_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmenttransfer.h"

#include <functional>

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

// An error handler built from one function, for apps that decide the same way
// for every operation: `retry(operation, attachment, error)`.
class POWERSYNC_ATTACHMENTS_EXPORT QFunctionAttachmentErrorHandler : public QAttachmentErrorHandler
{
public:
    using Function = std::function<bool(QAttachmentTransfer::Kind, const QAttachment &,
                                        const QAttachmentError &)>;

    explicit QFunctionAttachmentErrorHandler(Function function);

    bool onUploadError(const QAttachment &attachment, const QAttachmentError &error) override;
    bool onDownloadError(const QAttachment &attachment, const QAttachmentError &error) override;
    bool onDeleteError(const QAttachment &attachment, const QAttachmentError &error) override;

private:
    Function m_function;
};

#endif // QATTACHMENTERRORHANDLER_H
