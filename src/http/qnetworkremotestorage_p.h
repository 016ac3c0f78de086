#ifndef QNETWORKREMOTESTORAGE_P_H
#define QNETWORKREMOTESTORAGE_P_H

#include "qhttptransfer_p.h"
#include "qnetworkremotestorage.h"

#include <QtCore/qpointer.h>
#include <QtCore/qvariant.h>

class QNetworkRequest;

class QNetworkRemoteStoragePrivate
{
public:
    static QNetworkRemoteStoragePrivate *get(QNetworkRemoteStorage *storage)
    {
        return storage->d_network.get();
    }

    QNetworkAccessManager *manager() const;

    // A transfer on this storage's manager whose exchanges stall out after
    // transferTimeout; `prepareTimeout` bounds the app's part (0: none).
    QHttpTransfer *newTransfer(QAttachmentTransfer::Kind kind, bool prepareTimeout) const;
    // A transfer that fails with `error`, asynchronously.
    QHttpTransfer *failedTransfer(QAttachmentTransfer::Kind kind,
                                  const QAttachmentError &error) const;

    // The headers policy: app-given headers (name → value, converted to a
    // string) go on the request as UTF-8; the exchange refuses to send a
    // request whose headers hold control characters.
    static void applyHeaders(QNetworkRequest &request, const QVariantMap &headers);

    QNetworkRemoteStorage *q = nullptr;
    int transferTimeout = 60000;
    bool http2PriorKnowledge = false;
    qint64 streamingUploadThreshold = QHttpTransfer::DefaultStreamThreshold;
    QPointer<QNetworkAccessManager> externalManager;
    mutable QNetworkAccessManager *ownManager = nullptr;
};

#endif // QNETWORKREMOTESTORAGE_P_H
