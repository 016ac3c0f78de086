#include "syncstandin.h"
#include "testsupport.h"

#include <qpowersynccolumn.h>
#include <qpowersynccore.h>
#include <qpowersyncdatabase.h>
#include <qpowersyncschema.h>
#include <qpowersynctable.h>

#include <QtCore/qtemporarydir.h>
#include <QtQml/qqmlcomponent.h>
#include <QtQml/qqmlcontext.h>
#include <QtQml/qqmlengine.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qtest.h>

#include <memory>

// PowerSyncDatabase, PowerSyncConnector and PowerSyncQuery from QML, against
// the protocol stand-in.
class tst_PowerSyncSyncQml : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void syncAndUploadFromQml();

private:
    QTemporaryDir m_dir;
};

void tst_PowerSyncSyncQml::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    QVERIFY2(QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_CORE), {}, &error),
             qPrintable(error));
}

void tst_PowerSyncSyncQml::syncAndUploadFromQml()
{
    SyncStandIn standIn;
    QVERIFY(standIn.start());
    standIn.put(QStringLiteral("items"), QStringLiteral("a"), {{"title", "From the service"}});
    const QPowerSyncSchema schema({QPowerSyncTable(
        QStringLiteral("items"), {QPowerSyncColumn::text(QStringLiteral("title"))})});

    QQmlEngine engine;
    engine.rootContext()->setContextProperty(QStringLiteral("endpoint"), standIn.endpoint());
    engine.rootContext()->setContextProperty(QStringLiteral("token"), standIn.issueToken());
    engine.rootContext()->setContextProperty(QStringLiteral("schemaJson"),
                                             QString::fromUtf8(schema.toJson()));
    engine.rootContext()->setContextProperty(QStringLiteral("dbPath"),
                                             m_dir.filePath(QStringLiteral("qml.db")));
    QQmlComponent component(&engine);
    component.setData(R"QML(
import QtQml
import PowerSync.Attachments

QtObject {
    id: root
    property int uploads: 0
    property bool firstSync: false
    property var uploaded: []
    property PowerSyncConnector connector: PowerSyncConnector {
        onCredentialsRequested: (request) => request.resolve(endpoint, token)
        onUploadRequested: (batch) => {
            root.uploaded = root.uploaded.concat(batch.entries)
            root.uploads += 1
            batch.complete()
        }
    }
    property PowerSyncDatabase db: PowerSyncDatabase {
        path: dbPath
        schema: schemaJson
        name: "qmlsync"
        connector: root.connector
        Component.onCompleted: waitForFirstSync(() => root.firstSync = true)
    }
    property PowerSyncQuery items: PowerSyncQuery {
        database: root.db
        sql: "SELECT id, title FROM items ORDER BY id"
        tables: ["items"]
    }
    function addItem(id, title) {
        db.execute("INSERT INTO items (id, title) VALUES (?, ?)", [id, title])
    }
}
)QML",
                      QUrl());
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    QObject *items = root->property("items").value<QObject *>();
    auto *model = qobject_cast<QAbstractItemModel *>(items);
    QVERIFY(model);
    PSA_WAIT(root->property("firstSync").toBool(), 10000);
    PSA_WAIT(model->rowCount() == 1, 10000);
    QCOMPARE(model->data(model->index(0, 0), model->roleNames().key("title")).toString(),
             QStringLiteral("From the service"));
    auto *db = root->property("db").value<QPowerSyncDatabase *>();
    QVERIFY(db);
    QVERIFY(db->isConnected());

    QVERIFY(QMetaObject::invokeMethod(root.get(), "addItem", Q_ARG(QVariant, QStringLiteral("b")),
                                      Q_ARG(QVariant, QStringLiteral("From QML"))));
    PSA_WAIT(model->rowCount() == 2, 10000);
    PSA_WAIT(root->property("uploads").toInt() == 1, 10000);
    const QVariantList uploaded = root->property("uploaded").toList();
    QCOMPARE(uploaded.size(), 1);
    QCOMPARE(uploaded.constFirst().toMap().value(QStringLiteral("id")).toString(),
             QStringLiteral("b"));
    QCOMPARE(uploaded.constFirst().toMap().value(QStringLiteral("op")).toString(),
             QStringLiteral("PUT"));
    PSA_WAIT(!db->isUploading(), 10000);

    root->setProperty("connector", QVariant::fromValue<QObject *>(nullptr));
    db->setProperty("syncing", false);
    QVERIFY(!db->isConnected());
}

QTEST_MAIN(tst_PowerSyncSyncQml)
#include "tst_powersyncsyncqml.moc"
