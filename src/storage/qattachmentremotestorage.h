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
    //
    // Bytes from an earlier attempt must belong to the same version of the
    // object: the sink carries the validator of the response they came from
    // (strong ETag, else Last-Modified) in its dynamic property
    // ResumeValidatorProperty. A resume sends it as If-Range and starts over
    // from byte 0 when the object changed or no validator is known; the
    // adapter sets the property to the validator of every response it writes
    // (an empty value when there is none), after positioning the sink, so
    // that the owner of the partial bytes can keep it for the next attempt.
    virtual QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) = 0;
    static constexpr const char ResumeValidatorProperty[] = "psaResumeValidator";

    // Deletes the remote object. Deleting an object that does not exist succeeds.
    virtual QAttachmentTransfer *remove(const QAttachment &attachment) = 0;

Q_SIGNALS:
    // Credentials, endpoint or other settings changed: failures that were not
    // worth a blind retry may succeed now.
    void configurationChanged();
};

#endif // QATTACHMENTREMOTESTORAGE_H
