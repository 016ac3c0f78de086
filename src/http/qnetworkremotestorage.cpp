#include "qnetworkremotestorage.h"
#include "qnetworkremotestorage_p.h"

#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkrequest.h>

QNetworkAccessManager *QNetworkRemoteStoragePrivate::manager() const
{
    if (externalManager)
        return externalManager;
    if (!ownManager)
        ownManager = new QNetworkAccessManager(q);
    return ownManager;
}

QHttpTransfer *QNetworkRemoteStoragePrivate::newTransfer(QAttachmentTransfer::Kind kind,
                                                         bool prepareTimeout) const
{
    auto *transfer = new QHttpTransfer(kind, manager());
    if (prepareTimeout)
        transfer->setPrepareTimeout(transferTimeout);
    transfer->setHttp2PriorKnowledge(http2PriorKnowledge);
    transfer->setStreamThreshold(streamingUploadThreshold);
    return transfer;
}

QHttpTransfer *QNetworkRemoteStoragePrivate::failedTransfer(QAttachmentTransfer::Kind kind,
                                                            const QAttachmentError &error) const
{
    auto *transfer = new QHttpTransfer(kind, manager());
    transfer->fail(error);
    return transfer;
}

void QNetworkRemoteStoragePrivate::applyHeaders(QNetworkRequest &request,
                                                const QVariantMap &headers)
{
    for (auto it = headers.cbegin(); it != headers.cend(); ++it)
        request.setRawHeader(it.key().toUtf8(), it.value().toString().toUtf8());
}

QNetworkRemoteStorage::QNetworkRemoteStorage(QObject *parent)
    : QAttachmentRemoteStorage(parent)
    , d_network(std::make_unique<QNetworkRemoteStoragePrivate>())
{
    d_network->q = this;
}

QNetworkRemoteStorage::~QNetworkRemoteStorage() = default;

int QNetworkRemoteStorage::transferTimeout() const
{
    return d_network->transferTimeout;
}

void QNetworkRemoteStorage::setTransferTimeout(int msecs)
{
    msecs = qMax(0, msecs);
    if (d_network->transferTimeout == msecs)
        return;
    d_network->transferTimeout = msecs;
    Q_EMIT transferTimeoutChanged();
    Q_EMIT configurationChanged();
}

QNetworkAccessManager *QNetworkRemoteStorage::networkAccessManager() const
{
    return d_network->manager();
}

void QNetworkRemoteStorage::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    if (d_network->externalManager == manager)
        return;
    d_network->externalManager = manager;
    Q_EMIT configurationChanged();
}

bool QNetworkRemoteStorage::http2PriorKnowledge() const
{
    return d_network->http2PriorKnowledge;
}

void QNetworkRemoteStorage::setHttp2PriorKnowledge(bool enabled)
{
    if (d_network->http2PriorKnowledge == enabled)
        return;
    d_network->http2PriorKnowledge = enabled;
    Q_EMIT http2PriorKnowledgeChanged();
    Q_EMIT configurationChanged();
}

qint64 QNetworkRemoteStorage::streamingUploadThreshold() const
{
    return d_network->streamingUploadThreshold;
}

void QNetworkRemoteStorage::setStreamingUploadThreshold(qint64 bytes)
{
    bytes = qMax<qint64>(-1, bytes);
    if (d_network->streamingUploadThreshold == bytes)
        return;
    d_network->streamingUploadThreshold = bytes;
    Q_EMIT streamingUploadThresholdChanged();
    Q_EMIT configurationChanged();
}
