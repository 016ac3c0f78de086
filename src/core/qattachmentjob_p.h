#ifndef QATTACHMENTJOB_P_H
#define QATTACHMENTJOB_P_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmentstate.h"
#include "qattachmenttransfer.h"

#include <QtCore/qiodevice.h>
#include <QtCore/qobject.h>

#include <memory>

class QAttachmentOperation;

// One transfer in flight and the local file device it streams from or into.
// The devices must outlive the transfer, so both are released together.
class QAttachmentJob : public QObject
{
    Q_OBJECT

public:
    explicit QAttachmentJob(const QAttachmentOperation &operation, const QAttachment &row);
    ~QAttachmentJob() override;

    const QAttachmentOperation &operation;
    QAttachment attachment; // the row as it was when the transfer started
    QAttachmentState::State startState = QAttachmentState::QueuedUpload;
    QAttachmentTransfer *transfer = nullptr;
    std::unique_ptr<QIODevice> device;
    bool abandoned = false; // aborted by the queue: the outcome is ignored
    QAttachmentError localError; // failed before any transfer could start
    // As the transfer last reported them; -1 when it has not started.
    qint64 bytesDone = -1;
    qint64 bytesTotal = -1;

    // The outcome, decided once when the transfer ends (a download is on
    // disk under its final name by then). Writing it to the table may fail
    // and be tried again; the transfer is never run again for that.
    bool settled = false;
    QAttachmentError outcome;
    bool giveUp = false; // the error handler gave up: the row is archived
    bool unrecorded = false; // a write of the outcome failed and was reported
    // A download's file was committed off the app's thread (by finish()),
    // with this outcome.
    bool committed = false;
    QAttachmentError commitError;
    // Handed to finish() and not back yet: the job holds no transfer slot then.
    bool committing = false;
    // The scan of pending rows that last read or passed this job's row.
    quint64 scanGeneration = 0;

    QAttachmentTransfer::Kind kind() const;
};

#endif // QATTACHMENTJOB_P_H
