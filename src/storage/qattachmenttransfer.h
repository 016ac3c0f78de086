#ifndef QATTACHMENTTRANSFER_H
#define QATTACHMENTTRANSFER_H

#include "qattachmenterror.h"

#include <QtCore/qobject.h>

// One asynchronous upload, download or delete, started by a remote storage.
//
// Contract, for adapters and callers alike:
// - finished() is emitted exactly once, and never from inside the call that
//   created the transfer: finishSuccess()/finishWithError() always deliver it
//   through the event loop, so callers can connect after starting.
// - progress() reports bytes done and the total (-1 while unknown).
// - abort() ends the transfer with QAttachmentError::Cancelled.
// - The caller owns the transfer and deletes it (deleteLater) after finished().
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

    Kind kind() const { return m_kind; }
    bool isFinished() const { return m_finished; }
    QAttachmentError error() const { return m_error; }
    qint64 bytesDone() const { return m_bytesDone; }
    qint64 bytesTotal() const { return m_bytesTotal; }

public Q_SLOTS:
    void abort();

Q_SIGNALS:
    void progress(qint64 bytesDone, qint64 bytesTotal);
    void finished();

protected:
    // Called once by abort() while the transfer runs: stop the network work.
    // The base class then finishes the transfer as Cancelled.
    virtual void abortTransfer();

    void setProgress(qint64 bytesDone, qint64 bytesTotal);
    void finishSuccess();
    void finishWithError(const QAttachmentError &error);
    // Whether finishSuccess()/finishWithError() has been called.
    bool isCompleting() const { return m_completing; }

private:
    void deliverFinished();

    Kind m_kind;
    bool m_completing = false;
    bool m_finished = false;
    QAttachmentError m_error;
    qint64 m_bytesDone = 0;
    qint64 m_bytesTotal = -1;
};

#endif // QATTACHMENTTRANSFER_H
