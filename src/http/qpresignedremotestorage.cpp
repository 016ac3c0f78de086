#include "qpresignedremotestorage.h"

#include "qnetworkremotestorage_p.h"

#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

class QPresignedRemoteStoragePrivate
{
public:
    QAttachmentTransfer *operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                                   QIODevice *device);

    QPresignedRemoteStorage *q = nullptr;
    QPresignedRemoteStorage::Resolver resolver;
};

QAttachmentTransfer *QPresignedRemoteStoragePrivate::operation(QAttachmentTransfer::Kind kind,
                                                               const QAttachment &attachment,
                                                               QIODevice *device)
{
    // The resolver's answer is the credential of this one transfer: the
    // transfer waits for it within transferTimeout and ignores a late one.
    QHttpTransfer *op = QNetworkRemoteStoragePrivate::get(q)->newTransfer(kind, true);
    op->setDevice(device);
    const QPresignedRemoteStorage::Resolver resolve = resolver;
    const int timeout = q->transferTimeout();
    op->setPrepare([resolve, timeout, kind, attachment, device](bool, QHttpTransfer::Ready ready) {
        if (!resolve) {
            ready({},
                  QAttachmentError(QAttachmentError::InvalidInput,
                                   QStringLiteral("presigned storage has no resolver")));
            return;
        }
        resolve(attachment, kind,
                [=](const QPresignedRequest &presigned, const QAttachmentError &error) {
                    if (error.isError()) {
                        ready({}, error);
                        return;
                    }
                    if (!presigned.isValid()) {
                        ready({},
                              QAttachmentError(QAttachmentError::InvalidInput,
                                               QStringLiteral("the resolver gave no valid URL for "
                                                              "attachment %1")
                                                   .arg(attachment.id())));
                        return;
                    }
                    QHttpTransfer::Request request;
                    QNetworkRequest req(presigned.url());
                    QNetworkRemoteStoragePrivate::applyHeaders(req, presigned.headers());
                    request.request = req;
                    request.transferTimeoutMs = timeout;
                    QByteArray method = presigned.method().trimmed().toUpper().toLatin1();
                    switch (kind) {
                    case QAttachmentTransfer::Upload:
                        request.method = method.isEmpty() ? QByteArray("PUT") : method;
                        request.body = device;
                        break;
                    case QAttachmentTransfer::Download:
                        request.method = method.isEmpty() ? QByteArray("GET") : method;
                        request.sink = device;
                        request.resumeFrom = device ? device->pos() : 0;
                        request.followRedirects = true;
                        break;
                    case QAttachmentTransfer::Delete:
                        request.method = method.isEmpty() ? QByteArray("DELETE") : method;
                        request.notFoundIsSuccess = true;
                        break;
                    }
                    ready(request, QAttachmentError());
                });
    });
    op->start();
    return op;
}

QPresignedRemoteStorage::QPresignedRemoteStorage(QObject *parent)
    : QNetworkRemoteStorage(parent)
    , d(std::make_unique<QPresignedRemoteStoragePrivate>())
{
    d->q = this;
}

QPresignedRemoteStorage::~QPresignedRemoteStorage() = default;

void QPresignedRemoteStorage::setResolver(Resolver resolver)
{
    d->resolver = std::move(resolver);
    Q_EMIT configurationChanged();
}

bool QPresignedRemoteStorage::hasResolver() const
{
    return bool(d->resolver);
}

QAttachmentTransfer *QPresignedRemoteStorage::upload(const QAttachment &attachment,
                                                     QIODevice *source)
{
    return d->operation(QAttachmentTransfer::Upload, attachment, source);
}

QAttachmentTransfer *QPresignedRemoteStorage::download(const QAttachment &attachment,
                                                       QIODevice *sink)
{
    return d->operation(QAttachmentTransfer::Download, attachment, sink);
}

QAttachmentTransfer *QPresignedRemoteStorage::remove(const QAttachment &attachment)
{
    return d->operation(QAttachmentTransfer::Delete, attachment, nullptr);
}
