#ifndef QATTACHMENTSTATUS_H
#define QATTACHMENTSTATUS_H

#include "qattachment.h"
#include "qattachmenterror.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qshareddata.h>

class QAttachmentStatusPrivate;

// Where one attachment stands, as its queue knows it: the row, the bytes of
// its running transfer, the last failure of its pending operation and when it
// is tried again. QAttachmentQueue::status() returns it and statusChanged()
// says when any part of it changed.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentStatus
{
    Q_GADGET
    Q_PROPERTY(QAttachment attachment READ attachment FINAL)
    Q_PROPERTY(bool transferring READ isTransferring FINAL)
    Q_PROPERTY(qint64 bytesDone READ bytesDone FINAL)
    Q_PROPERTY(qint64 bytesTotal READ bytesTotal FINAL)
    Q_PROPERTY(qreal progress READ progress FINAL)
    Q_PROPERTY(QAttachmentError lastError READ lastError FINAL)
    Q_PROPERTY(QDateTime nextRetry READ nextRetry FINAL)

public:
    QAttachmentStatus();
    explicit QAttachmentStatus(const QAttachment &attachment);
    QAttachmentStatus(const QAttachmentStatus &other);
    QAttachmentStatus(QAttachmentStatus &&other) noexcept;
    QAttachmentStatus &operator=(const QAttachmentStatus &other);
    QAttachmentStatus &operator=(QAttachmentStatus &&other) noexcept;
    ~QAttachmentStatus();

    // The row; invalid when the queue has none for the id.
    QAttachment attachment() const;
    void setAttachment(const QAttachment &attachment);

    // Whether a transfer of the attachment runs.
    bool isTransferring() const { return bytesDone() >= 0; }
    // Bytes done and total (-1 unknown) of the running transfer; -1 when none runs.
    qint64 bytesDone() const;
    qint64 bytesTotal() const;
    void setBytes(qint64 done, qint64 total);
    // 0-1 while a transfer with a known total runs, else 0.
    qreal progress() const;

    // The last failure of the attachment's pending operation; none once it
    // succeeded, the row changed state or the queue gave up.
    QAttachmentError lastError() const;
    void setLastError(const QAttachmentError &error);
    // When the failed operation is tried again (at the earliest); invalid
    // when nothing waits.
    QDateTime nextRetry() const;
    void setNextRetry(const QDateTime &when);

    bool operator==(const QAttachmentStatus &other) const;
    bool operator!=(const QAttachmentStatus &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QAttachmentStatusPrivate> d;
};

POWERSYNC_ATTACHMENTS_EXPORT QDebug operator<<(QDebug debug, const QAttachmentStatus &status);

Q_DECLARE_METATYPE(QAttachmentStatus)

#endif // QATTACHMENTSTATUS_H
