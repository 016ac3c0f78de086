#ifndef DEMOSYNC_H
#define DEMOSYNC_H

#include <qpowersyncbackendconnector.h>
#include <qpowersyncschema.h>

#include <QtCore/qobject.h>
#include <QtNetwork/qnetworkaccessmanager.h>

class SyncStandIn;

// The demo's PowerSync Service: the protocol stand-in the sync client's
// tests use (src/server/syncstandin.h), on 127.0.0.1, started
// once per process when the PowerSync core is loaded. A real app talks to
// PowerSync Cloud or its own service instead (doc/powersync.md).
class DemoSync
{
public:
    // The running service; nullptr when it cannot start.
    static SyncStandIn *service();
    // Each device's PowerSync schema: the synced checklists and the
    // attachment queue's local-only table.
    static QPowerSyncSchema schema();
};

// The backend connector of a device: credentials from the demo service, and
// local writes POSTed to its /upload endpoint, as an app's backend API would
// take them.
class DemoConnector : public QPowerSyncBackendConnector
{
    Q_OBJECT

public:
    explicit DemoConnector(QObject *parent = nullptr);

    void fetchCredentials(QPowerSyncCredentialsRequest *request) override;
    void uploadData(QPowerSyncUploadBatch *batch) override;

private:
    QNetworkAccessManager m_manager;
};

#endif // DEMOSYNC_H
