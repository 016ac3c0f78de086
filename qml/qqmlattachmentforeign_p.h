#ifndef QQMLATTACHMENTFOREIGN_P_H
#define QQMLATTACHMENTFOREIGN_P_H

// QML names for the library's own types, which know nothing of QML.

#include <qattachment.h>
#include <qattachmenterror.h>
#include <qattachmentmodel.h>
#include <qattachmentqueue.h>
#include <qattachmentremotestorage.h>
#include <qattachmentstate.h>
#include <qattachmentstatus.h>
#include <qattachmenttransfer.h>
#include <qwatchedattachmentitem.h>

#include <QtQml/qqml.h>

// AttachmentState.QueuedDownload ... AttachmentState.Archived. The C++ name is
// the QML name, because it is the name qmllint and qmlls print in messages.
namespace AttachmentState {
Q_NAMESPACE
// (Qt 6.4's type registrar cannot register a foreign namespace directly.)
QML_NAMESPACE_EXTENDED(QAttachmentState)
QML_NAMED_ELEMENT(AttachmentState)
} // namespace AttachmentState

// AttachmentTransfer.Upload / Download / Delete, for the `kind` of transfer signals.
struct QQmlAttachmentTransferForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentTransfer)
    QML_NAMED_ELEMENT(AttachmentTransfer)
    QML_UNCREATABLE("Transfers are created by remote storages.")
};

// An error as passed to signal handlers (code, message, httpStatus, retryable),
// and AttachmentError.NotFound ... for its `code`.
struct QQmlAttachmentErrorForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentError)
    QML_VALUE_TYPE(attachmentError)
};

// (Named as in QML, like AttachmentState.)
namespace AttachmentError {
Q_NAMESPACE
QML_NAMESPACE_EXTENDED(QAttachmentError)
QML_NAMED_ELEMENT(AttachmentError)
} // namespace AttachmentError

struct QQmlAttachmentForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachment)
    QML_VALUE_TYPE(attachment)
};

struct QQmlAttachmentStatusForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentStatus)
    QML_VALUE_TYPE(attachmentStatus)
};

struct QQmlWatchedAttachmentItemForeign
{
    Q_GADGET
    QML_FOREIGN(QWatchedAttachmentItem)
    QML_VALUE_TYPE(watchedAttachmentItem)
};

// The base of every remote storage: a property of that type accepts any of them.
struct QQmlAttachmentRemoteStorageForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentRemoteStorage)
    QML_NAMED_ELEMENT(RemoteStorage)
    QML_UNCREATABLE("RemoteStorage is abstract; use HttpRemoteStorage or another adapter.")
};

struct QQmlAttachmentQueueBaseForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentQueue)
    QML_ANONYMOUS
};

struct QQmlAttachmentModelBaseForeign
{
    Q_GADGET
    QML_FOREIGN(QAttachmentModel)
    QML_ANONYMOUS
};

#endif // QQMLATTACHMENTFOREIGN_P_H
