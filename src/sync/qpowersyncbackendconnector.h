#ifndef QPOWERSYNCBACKENDCONNECTOR_H
#define QPOWERSYNCBACKENDCONNECTOR_H

#include "qpowersynccredentialsrequest.h"
#include "qpowersyncuploadbatch.h"

#include <QtCore/qobject.h>

// The app's link to its own backend, as PowerSync's SDKs have it: where the
// PowerSync Service is and a JWT for it (fetchCredentials), and how local
// writes reach the backend database (uploadData). Both are asynchronous:
// answer the request or batch when done, from the thread the connector lives in.
//
// Subclass it in C++, or use PowerSyncConnector in QML.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncBackendConnector : public QObject
{
    Q_OBJECT

public:
    explicit QPowerSyncBackendConnector(QObject *parent = nullptr);
    ~QPowerSyncBackendConnector() override;

    // Called when the client needs (new) credentials: before connecting, when
    // the token is about to expire, and after the service refused it.
    virtual void fetchCredentials(QPowerSyncCredentialsRequest *request) = 0;
    // Called with the oldest local writes not yet uploaded. At most one batch
    // is outstanding at a time.
    virtual void uploadData(QPowerSyncUploadBatch *batch) = 0;
};

#endif // QPOWERSYNCBACKENDCONNECTOR_H
