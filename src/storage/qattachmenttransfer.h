#ifndef QATTACHMENTTRANSFER_H
#define QATTACHMENTTRANSFER_H

#include "qattachmenterror.h"

#include <QtCore/qobject.h>

#include <memory>

class QAttachmentTransferPrivate;

// One asynchronous upload, download or delete, started by a remote storage.
//
// Contract, for adapters and callers alike:
// - finished() is emitted exactly once, and never from inside the call that
//   created the transfer: finishSuccess()/finishWithError() always deliver it
//   through the event loop, so callers can connect after starting.
// - progress() reports bytes done and the total (-1 while unknown).
// - abort() ends the transfer with QAttachmentError::Cancelled.
// - The caller owns the transfer and deletes it (deleteLater) after finished().
// - Only this class emits progress() and finished(): a subclass reports through
//   setProgress(), finishSuccess() and finishWithError().
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentTransfer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(Kind kind READ kind CONSTANT)
    Q_PROPERTY(bool finished READ isFinished NOTIFY finished)
    Q_PROPERTY(qint64 bytesDone READ bytesDone NOTIFY progress)
    Q_PROPERTY(qint64 bytesTotal READ bytesTotal NOTIFY progress)

public:
    enum Kind { Upload, Download, Delete };
    Q_ENUM(Kind)

    explicit QAttachmentTransfer(Kind kind, QObject *parent = nullptr);
    ~QAttachmentTransfer() override;

    Kind kind() const;
    bool isFinished() const;
    QAttachmentError error() const;
    qint64 bytesDone() const;
    qint64 bytesTotal() const;

public Q_SLOTS:
    void abort();

Q_SIGNALS:
    void progress(qint64 bytesDone, qint64 bytesTotal, QPrivateSignal);
    void finished(QPrivateSignal);

protected:
    // Called once by abort() while the transfer runs: stop the network work.
    // The base class then finishes the transfer as Cancelled.
    virtual void abortTransfer();

    // Emits progress() when the figures changed and the transfer is not completing.
    void setProgress(qint64 bytesDone, qint64 bytesTotal);
    // Emit finished() once, on a later event loop pass; later calls are ignored.
    void finishSuccess();
    void finishWithError(const QAttachmentError &error);
    // Whether finishSuccess()/finishWithError() has been called.
    bool isCompleting() const;

private:
    void deliverFinished();

    std::unique_ptr<QAttachmentTransferPrivate> d;
};

#endif // QATTACHMENTTRANSFER_H
