#include "qattachmentjob_p.h"

#include "qattachmentoperation_p.h"

QAttachmentJob::QAttachmentJob(const QAttachmentOperation &operation, const QAttachment &row)
    : operation(operation)
    , attachment(row)
    , startState(row.state())
{ }

QAttachmentJob::~QAttachmentJob()
{
    // The transfer may still read from or write to the device: it goes first.
    delete transfer;
    device.reset();
}

QAttachmentTransfer::Kind QAttachmentJob::kind() const
{
    return operation.kind();
}
