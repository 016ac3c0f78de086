#ifndef QPRESIGNEDREMOTESTORAGE_H
#define QPRESIGNEDREMOTESTORAGE_H

#include "qnetworkremotestorage.h"
#include "qpresignedrequest.h"

#include <functional>
#include <memory>

class QPresignedRemoteStoragePrivate;

// Remote storage reached through requests the app's backend signs: before
// each upload, download or delete the resolver is asked, asynchronously, for
// the request to send (usually a short-lived presigned URL). The storage then
// streams the body with that request; no credentials live in the app.
//
// A resolver error fails the transfer with that error. An expired URL shows
// up as QAttachmentError::Unauthorized; the queue's next attempt asks the
// resolver again.
class POWERSYNC_ATTACHMENTS_EXPORT QPresignedRemoteStorage : public QNetworkRemoteStorage
{
    Q_OBJECT

public:
    using ResolverCallback
        = std::function<void(const QPresignedRequest &request, const QAttachmentError &error)>;
    // Called on this thread; may call `done` at once or later.
    using Resolver = std::function<void(const QAttachment &attachment,
                                        QAttachmentTransfer::Kind kind, ResolverCallback done)>;

    explicit QPresignedRemoteStorage(QObject *parent = nullptr);
    ~QPresignedRemoteStorage() override;

    void setResolver(Resolver resolver);
    bool hasResolver() const;

    QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override;
    QAttachmentTransfer *remove(const QAttachment &attachment) override;

private:
    std::unique_ptr<QPresignedRemoteStoragePrivate> d;
};

#endif // QPRESIGNEDREMOTESTORAGE_H
