#include "demosync.h"

#include "syncstandin.h"

#include <qattachmentqueuetable.h>
#include <qpowersynccolumn.h>
#include <qpowersynctable.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkreply.h>

QPowerSyncSchema DemoSync::schema()
{
    // Ids are text in PowerSync; the demo uses decimal numbers.
    return QPowerSyncSchema(
        {QPowerSyncTable(QStringLiteral("checklists"),
                         {QPowerSyncColumn::text(QStringLiteral("title")),
                          QPowerSyncColumn::integer(QStringLiteral("done")),
                          QPowerSyncColumn::text(QStringLiteral("photo_id")),
                          QPowerSyncColumn::integer(QStringLiteral("position"))}),
         QAttachmentQueueTable().toPowerSyncTable()});
}

SyncStandIn *DemoSync::service()
{
    static SyncStandIn *instance = [] {
        auto *standIn = new SyncStandIn;
        if (!standIn->start()) {
            delete standIn;
            return static_cast<SyncStandIn *>(nullptr);
        }
        QObject::connect(qApp, &QCoreApplication::aboutToQuit, [standIn] { delete standIn; });
        return standIn;
    }();
    return instance;
}

DemoConnector::DemoConnector(QObject *parent)
    : QPowerSyncBackendConnector(parent)
{ }

void DemoConnector::fetchCredentials(QPowerSyncCredentialsRequest *request)
{
    SyncStandIn *service = DemoSync::service();
    if (!service) {
        request->fail(QStringLiteral("the demo sync service is not running"));
        return;
    }
    request->resolve(QUrl(service->endpoint()), service->issueToken());
}

void DemoConnector::uploadData(QPowerSyncUploadBatch *batch)
{
    SyncStandIn *service = DemoSync::service();
    if (!service) {
        batch->fail(QStringLiteral("the demo sync service is not running"));
        return;
    }
    QJsonArray entries;
    const QList<QPowerSyncCrudEntry> crud = batch->entries();
    for (const QPowerSyncCrudEntry &entry : crud)
        entries.append(QJsonObject::fromVariantMap(entry.toVariantMap()));
    QNetworkRequest request(QUrl(service->endpoint() + QStringLiteral("/upload")));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Authorization", "Token " + service->issueToken().toLatin1());
    QNetworkReply *reply = m_manager.post(
        request, QJsonDocument(QJsonObject {{QStringLiteral("entries"), entries}}).toJson());
    connect(reply, &QNetworkReply::finished, batch, [reply, batch] {
        reply->deleteLater();
        if (reply->error() == QNetworkReply::NoError)
            batch->complete();
        else
            batch->fail(reply->errorString());
    });
}
