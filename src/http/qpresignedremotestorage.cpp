#include "qpresignedremotestorage.h"

#include "qhttpoperation_p.h"

#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

class QPresignedRemoteStoragePrivate
{
public:
    QNetworkAccessManager *manager()
    {
        if (externalManager)
            return externalManager;
        if (!ownManager)
            ownManager = new QNetworkAccessManager(q);
        return ownManager;
    }

    QAttachmentTransfer *operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                                   QIODevice *device);

    QPresignedRemoteStorage *q = nullptr;
    QPresignedRemoteStorage::Resolver resolver;
    int transferTimeout = 60000;
    QPointer<QNetworkAccessManager> externalManager;
    QNetworkAccessManager *ownManager = nullptr;
};

QAttachmentTransfer *QPresignedRemoteStoragePrivate::operation(QAttachmentTransfer::Kind kind,
                                                               const QAttachment &attachment,
                                                               QIODevice *device)
{
    auto *op = new QHttpOperation(kind, manager());
    op->setDevice(device);
    op->setPrepareTimeout(transferTimeout);
    const QPresignedRemoteStorage::Resolver resolve = resolver;
    const int timeout = transferTimeout;
    op->setPrepare([resolve, timeout, kind, attachment, device](bool, QHttpOperation::Ready ready) {
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
                    const QVariantMap headers = presigned.headers();
                    for (auto it = headers.cbegin(); it != headers.cend(); ++it)
                        req.setRawHeader(it.key().toUtf8(), it.value().toString().toUtf8());
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
    : QAttachmentRemoteStorage(parent)
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

int QPresignedRemoteStorage::transferTimeout() const
{
    return d->transferTimeout;
}

void QPresignedRemoteStorage::setTransferTimeout(int msecs)
{
    msecs = qMax(0, msecs);
    if (d->transferTimeout == msecs)
        return;
    d->transferTimeout = msecs;
    Q_EMIT transferTimeoutChanged();
    Q_EMIT configurationChanged();
}

QNetworkAccessManager *QPresignedRemoteStorage::networkAccessManager() const
{
    return d->manager();
}

void QPresignedRemoteStorage::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    if (d->externalManager == manager)
        return;
    d->externalManager = manager;
    Q_EMIT configurationChanged();
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
