#ifndef QATTACHMENTREMOTESTORAGE_H
#define QATTACHMENTREMOTESTORAGE_H

#include "qattachment.h"
#include "qattachmenttransfer.h"

#include <QtCore/qiodevice.h>
#include <QtCore/qobject.h>

// The remote side of the queue: object storage the attachments are uploaded
// to, downloaded from and deleted in. Every operation is asynchronous and
// returns a transfer the caller owns (see QAttachmentTransfer).
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentRemoteStorage : public QObject
{
    Q_OBJECT

public:
    explicit QAttachmentRemoteStorage(QObject *parent = nullptr);
    ~QAttachmentRemoteStorage() override;

    // Streams `source` (open for reading, positioned at 0, kept alive by the
    // caller until finished) to the remote object of `attachment`. Never read
    // the whole device into memory.
    virtual QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) = 0;

    // Streams the remote object into `sink`, which is open for writing and
    // positioned after bytes already received by an earlier attempt. An
    // adapter that can resume asks only for the rest (HTTP Range); one that
    // cannot, or whose server sends everything again, seeks `sink` to 0 first.
    // When the transfer finishes, sink->pos() is the length of the file.
    virtual QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) = 0;

    // Deletes the remote object. Deleting an object that does not exist succeeds.
    virtual QAttachmentTransfer *remove(const QAttachment &attachment) = 0;

Q_SIGNALS:
    // Credentials, endpoint or other settings changed: failures that were not
    // worth a blind retry may succeed now.
    void configurationChanged();
};

#endif // QATTACHMENTREMOTESTORAGE_H
