#include "qattachmenttransfer.h"

#include <QtCore/qmetaobject.h>

class QAttachmentTransferPrivate
{
public:
    explicit QAttachmentTransferPrivate(QAttachmentTransfer::Kind kind)
        : kind(kind)
    { }

    QAttachmentTransfer::Kind kind;
    bool completing = false;
    bool finished = false;
    QAttachmentError error;
    qint64 bytesDone = 0;
    qint64 bytesTotal = -1;
};

QAttachmentTransfer::QAttachmentTransfer(Kind kind, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<QAttachmentTransferPrivate>(kind))
{ }

QAttachmentTransfer::~QAttachmentTransfer() = default;

QAttachmentTransfer::Kind QAttachmentTransfer::kind() const
{
    return d->kind;
}

bool QAttachmentTransfer::isFinished() const
{
    return d->finished;
}

QAttachmentError QAttachmentTransfer::error() const
{
    return d->error;
}

qint64 QAttachmentTransfer::bytesDone() const
{
    return d->bytesDone;
}

qint64 QAttachmentTransfer::bytesTotal() const
{
    return d->bytesTotal;
}

bool QAttachmentTransfer::isCompleting() const
{
    return d->completing;
}

void QAttachmentTransfer::abort()
{
    if (d->completing)
        return;
    abortTransfer();
    finishWithError(
        QAttachmentError(QAttachmentError::Cancelled, QStringLiteral("transfer cancelled")));
}

void QAttachmentTransfer::abortTransfer() { }

void QAttachmentTransfer::setProgress(qint64 bytesDone, qint64 bytesTotal)
{
    if (d->completing || (bytesDone == d->bytesDone && bytesTotal == d->bytesTotal))
        return;
    d->bytesDone = bytesDone;
    d->bytesTotal = bytesTotal;
    Q_EMIT progress(bytesDone, bytesTotal, QPrivateSignal());
}

void QAttachmentTransfer::finishSuccess()
{
    if (d->completing)
        return;
    d->completing = true;
    QMetaObject::invokeMethod(this, &QAttachmentTransfer::deliverFinished, Qt::QueuedConnection);
}

void QAttachmentTransfer::finishWithError(const QAttachmentError &error)
{
    if (d->completing)
        return;
    d->completing = true;
    d->error = error.isError()
        ? error
        : QAttachmentError(QAttachmentError::ProtocolError,
                           QStringLiteral("transfer failed without an error"));
    QMetaObject::invokeMethod(this, &QAttachmentTransfer::deliverFinished, Qt::QueuedConnection);
}

void QAttachmentTransfer::deliverFinished()
{
    d->finished = true;
    Q_EMIT finished(QPrivateSignal());
}
