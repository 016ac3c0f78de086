#include "qattachmentstatus.h"

#include <QtCore/qdebug.h>

#include <algorithm>

class QAttachmentStatusPrivate : public QSharedData
{
public:
    QAttachment attachment;
    qint64 bytesDone = -1;
    qint64 bytesTotal = -1;
    QAttachmentError lastError;
    QDateTime nextRetry;
};

QAttachmentStatus::QAttachmentStatus()
    : d(new QAttachmentStatusPrivate)
{ }

QAttachmentStatus::QAttachmentStatus(const QAttachment &attachment)
    : d(new QAttachmentStatusPrivate)
{
    d->attachment = attachment;
}

QAttachmentStatus::QAttachmentStatus(const QAttachmentStatus &other) = default;
QAttachmentStatus::QAttachmentStatus(QAttachmentStatus &&other) noexcept = default;
QAttachmentStatus &QAttachmentStatus::operator=(const QAttachmentStatus &other) = default;
QAttachmentStatus &QAttachmentStatus::operator=(QAttachmentStatus &&other) noexcept = default;
QAttachmentStatus::~QAttachmentStatus() = default;

QAttachment QAttachmentStatus::attachment() const
{
    return d->attachment;
}

void QAttachmentStatus::setAttachment(const QAttachment &attachment)
{
    d->attachment = attachment;
}

qint64 QAttachmentStatus::bytesDone() const
{
    return d->bytesDone;
}

qint64 QAttachmentStatus::bytesTotal() const
{
    return d->bytesTotal;
}

void QAttachmentStatus::setBytes(qint64 done, qint64 total)
{
    d->bytesDone = done;
    d->bytesTotal = total;
}

qreal QAttachmentStatus::progress() const
{
    if (d->bytesDone < 0 || d->bytesTotal <= 0)
        return 0.0;
    return std::clamp(qreal(d->bytesDone) / qreal(d->bytesTotal), qreal(0), qreal(1));
}

QAttachmentError QAttachmentStatus::lastError() const
{
    return d->lastError;
}

void QAttachmentStatus::setLastError(const QAttachmentError &error)
{
    d->lastError = error;
}

QDateTime QAttachmentStatus::nextRetry() const
{
    return d->nextRetry;
}

void QAttachmentStatus::setNextRetry(const QDateTime &when)
{
    d->nextRetry = when;
}

bool QAttachmentStatus::operator==(const QAttachmentStatus &other) const
{
    return d == other.d
        || (d->attachment == other.d->attachment && d->bytesDone == other.d->bytesDone
            && d->bytesTotal == other.d->bytesTotal
            && d->lastError.code() == other.d->lastError.code()
            && d->lastError.message() == other.d->lastError.message()
            && d->nextRetry == other.d->nextRetry);
}

QDebug operator<<(QDebug debug, const QAttachmentStatus &status)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "QAttachmentStatus(" << status.attachment().id() << ", "
                    << status.bytesDone() << '/' << status.bytesTotal() << ", "
                    << status.lastError() << ", next retry " << status.nextRetry() << ')';
    return debug;
}
