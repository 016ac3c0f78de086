#include "qattachmenttransfer.h"

#include <QtCore/qmetaobject.h>

QAttachmentTransfer::QAttachmentTransfer(Kind kind, QObject *parent)
    : QObject(parent)
    , m_kind(kind)
{ }

QAttachmentTransfer::~QAttachmentTransfer() = default;

void QAttachmentTransfer::abort()
{
    if (m_completing)
        return;
    abortTransfer();
    finishWithError(
        QAttachmentError(QAttachmentError::Cancelled, QStringLiteral("transfer cancelled")));
}

void QAttachmentTransfer::abortTransfer() { }

void QAttachmentTransfer::setProgress(qint64 bytesDone, qint64 bytesTotal)
{
    if (m_completing || (bytesDone == m_bytesDone && bytesTotal == m_bytesTotal))
        return;
    m_bytesDone = bytesDone;
    m_bytesTotal = bytesTotal;
    Q_EMIT progress(bytesDone, bytesTotal);
}

void QAttachmentTransfer::finishSuccess()
{
    if (m_completing)
        return;
    m_completing = true;
    QMetaObject::invokeMethod(this, &QAttachmentTransfer::deliverFinished, Qt::QueuedConnection);
}

void QAttachmentTransfer::finishWithError(const QAttachmentError &error)
{
    if (m_completing)
        return;
    m_completing = true;
    m_error = error.isError()
        ? error
        : QAttachmentError(QAttachmentError::ProtocolError,
                           QStringLiteral("transfer failed without an error"));
    QMetaObject::invokeMethod(this, &QAttachmentTransfer::deliverFinished, Qt::QueuedConnection);
}

void QAttachmentTransfer::deliverFinished()
{
    m_finished = true;
    Q_EMIT finished();
}
