#include "qfunctionattachmenterrorhandler.h"

#include <utility>

QFunctionAttachmentErrorHandler::QFunctionAttachmentErrorHandler(Function function)
    : m_function(std::move(function))
{ }

bool QFunctionAttachmentErrorHandler::onUploadError(const QAttachment &attachment,
                                                    const QAttachmentError &error)
{
    return m_function ? m_function(QAttachmentTransfer::Upload, attachment, error) : true;
}

bool QFunctionAttachmentErrorHandler::onDownloadError(const QAttachment &attachment,
                                                      const QAttachmentError &error)
{
    return m_function ? m_function(QAttachmentTransfer::Download, attachment, error) : true;
}

bool QFunctionAttachmentErrorHandler::onDeleteError(const QAttachment &attachment,
                                                    const QAttachmentError &error)
{
    return m_function ? m_function(QAttachmentTransfer::Delete, attachment, error) : true;
}
