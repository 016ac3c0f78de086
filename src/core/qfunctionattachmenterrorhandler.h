#ifndef QFUNCTIONATTACHMENTERRORHANDLER_H
#define QFUNCTIONATTACHMENTERRORHANDLER_H

#include "qattachmenterrorhandler.h"
#include "qattachmenttransfer.h"

#include <functional>

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

#endif // QFUNCTIONATTACHMENTERRORHANDLER_H
