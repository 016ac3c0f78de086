// The attachment queue on a database managed by the real PowerSync core: its
// table is a local-only PowerSync view, the app's data a synced view, and
// rows arrive through the core's own sync (powersync_control), on the queue's
// connection and on another one. Also: writes of another connection reach a
// queue on plain SQLite without waiting for the periodic sync.

#include "fakeremotequeuesuite.h"
#include "fakeremotestorage.h"
#include "qattachmentqueue.h"
#include "qattachmentqueuetable.h"
#include "qattachmentwatcher_p.h"
#include "qpowersynccore.h"
#include "qpowersyncschema.h"
#include "testsupport.h"

#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qtemporarydir.h>
#ifdef PSA_HAVE_QML
#include <QtQml/qqmlcomponent.h>
#include <QtQml/qqmlengine.h>
#endif
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;

class tst_PowerSyncQueue : public FakeRemoteQueueSuite
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();

    // the table definition
    void powerSyncTableJson();
    void powerSyncTableWithAdditionalColumnsAndIndexes();
    void powerSyncTableRefusesOtherTypes();

    // the store on a view
    void viewIsUsedAsItIs();
    void viewLackingColumnsIsNamed();
    void viewsAreWatchedThroughTheirTables();

    // the lifecycle on the view
    void saveWithHookThatWritesASyncedView();
    void watchedIdIsDownloaded();
    void deleteFileRemovesRemoteAndLocal();
    void archiveAndRestore();
    void archivedCacheLimit();
    void startupArchivesRowsWithoutFile();
    void deleteIssuedMidUploadWins();
    void uploadResultIsNotWrittenOverAChangedRow();
    void clearQueueEmptiesTheView();

    // sync
    void syncedRowsDriveDownloadsOnTheSameConnection();
    void syncedRowsDriveDownloadsFromAnotherConnection();
    void psCrudHoldsTheAppsWritesOnly();

    // plain SQLite
    void anotherConnectionsWriteIsNoticedPromptly();
    void pollingCanBeTurnedOff();
    void pollIntervalInQml();

private:
    QAttachmentQueueTable queueTable() const;
    QPowerSyncSchema schema() const;
    void newQueue();
    bool fileExists(const QString &name) const
    {
        return QFile::exists(filesDir() + QLatin1Char('/') + name);
    }
    int count(const QString &sql, const QSqlDatabase &database = {}) const;
    QAttachment syncedAttachment(const QString &checklist);
    // Feeds a checkpoint that puts `rows` (checklist id -> photo id, empty:
    // REMOVE) into bucket "b", through powersync_control, one call per
    // transaction as the SDKs do.
    bool applySync(const QSqlDatabase &database, const QList<std::pair<QString, QString>> &rows,
                   QString *error);
    bool control(const QSqlDatabase &database, const QString &op, const QVariant &arg,
                 QString *result, QString *error);

    int m_lastOp = 0;
    quint32 m_bucketChecksum = 0;
    int m_bucketCount = 0;
    bool m_started = false;
};

void tst_PowerSyncQueue::initTestCase()
{
    QString error;
    QVERIFY2(QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_CORE), {}, &error),
             qPrintable(error));
}

QAttachmentQueueTable tst_PowerSyncQueue::queueTable() const
{
    QAttachmentQueueTable table;
    table.setViewName(QStringLiteral("attachments"));
    return table;
}

QPowerSyncSchema tst_PowerSyncQueue::schema() const
{
    QPowerSyncTable checklists(QStringLiteral("checklists"),
                               {QPowerSyncColumn::text(QStringLiteral("description")),
                                QPowerSyncColumn::text(QStringLiteral("photo_id"))});
    return QPowerSyncSchema({checklists, queueTable().toPowerSyncTable()});
}

void tst_PowerSyncQueue::init()
{
    QVERIFY(openFixture());
    QString error;
    QVERIFY2(QPowerSyncCore::applySchema(db(), schema(), &error), qPrintable(error));
    m_lastOp = 0;
    m_bucketChecksum = 0;
    m_bucketCount = 0;
    m_started = false;
    newQueue();
}

void tst_PowerSyncQueue::newQueue()
{
    // Nothing may wait for the periodic sync here.
    setUpQueue();
    m_queue->setTable(queueTable());
    m_queue->setWatchQuery(
        QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM checklists "
                       "WHERE photo_id IS NOT NULL"));
    m_queue->setWatchTables({QStringLiteral("checklists")});
}

void tst_PowerSyncQueue::cleanup()
{
    closeFixture();
}

int tst_PowerSyncQueue::count(const QString &sql, const QSqlDatabase &database) const
{
    QSqlQuery query(database.isValid() ? database : db());
    if (!query.exec(sql) || !query.next()) {
        qWarning() << sql << query.lastError().text();
        return -1;
    }
    return query.value(0).toInt();
}

QAttachment tst_PowerSyncQueue::syncedAttachment(const QString &checklist)
{
    const QAttachment saved = m_queue->saveFile(
        "synced bytes", QStringLiteral("text/plain"), QStringLiteral("jpg"),
        [checklist](QAttachmentTransaction &tx, const QAttachment &attachment) {
            tx.execute(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES (?, ?)"),
                       {checklist, attachment.id()});
            return true;
        });
    if (!m_queue->isSyncing())
        m_queue->startSync();
    if (!QTest::qWaitFor([&] { return stateOf(saved.id()) == State::Synced; }, 5000))
        qWarning("attachment %s did not sync", qPrintable(saved.id()));
    return m_queue->attachment(saved.id());
}

bool tst_PowerSyncQueue::control(const QSqlDatabase &database, const QString &op,
                                 const QVariant &arg, QString *result, QString *error)
{
    QSqlDatabase connection = database;
    if (!connection.transaction()) {
        *error = connection.lastError().text();
        return false;
    }
    {
        QSqlQuery query(connection);
        query.prepare(QStringLiteral("SELECT powersync_control(?, ?)"));
        query.addBindValue(op);
        query.addBindValue(arg);
        if (!query.exec() || !query.next()) {
            *error = query.lastError().text();
            connection.rollback();
            return false;
        }
        *result = query.value(0).toString();
    }
    if (!connection.commit()) {
        *error = connection.lastError().text();
        return false;
    }
    return true;
}

bool tst_PowerSyncQueue::applySync(const QSqlDatabase &database,
                                   const QList<std::pair<QString, QString>> &rows, QString *error)
{
    QString result;
    if (!m_started) {
        if (!control(database, QStringLiteral("start"), QVariant(), &result, error))
            return false;
        m_started = true;
    }
    QJsonArray ops;
    for (const auto &[id, photo] : rows) {
        ++m_lastOp;
        ++m_bucketCount;
        // Any 32-bit value; the bucket's is their wrapping sum.
        const quint32 checksum = 0x9e3779b9u * quint32(m_lastOp);
        m_bucketChecksum += checksum;
        QJsonObject op {{QStringLiteral("op_id"), QString::number(m_lastOp)},
                        {QStringLiteral("op"),
                         photo.isEmpty() ? QStringLiteral("REMOVE") : QStringLiteral("PUT")},
                        {QStringLiteral("object_type"), QStringLiteral("checklists")},
                        {QStringLiteral("object_id"), id},
                        {QStringLiteral("checksum"), qint64(checksum)}};
        if (!photo.isEmpty())
            op.insert(
                QStringLiteral("data"),
                QString::fromUtf8(QJsonDocument(QJsonObject {{QStringLiteral("photo_id"), photo}})
                                      .toJson(QJsonDocument::Compact)));
        ops.append(op);
    }
    const QString last = QString::number(m_lastOp);
    const QJsonObject checkpoint {
        {QStringLiteral("checkpoint"),
         QJsonObject {
             {QStringLiteral("last_op_id"), last},
             {QStringLiteral("write_checkpoint"), QJsonValue()},
             {QStringLiteral("buckets"),
              QJsonArray {QJsonObject {{QStringLiteral("bucket"), QStringLiteral("b")},
                                       {QStringLiteral("checksum"), qint64(m_bucketChecksum)},
                                       {QStringLiteral("priority"), 3},
                                       {QStringLiteral("count"), m_bucketCount}}}}}}};
    const QJsonObject data {{QStringLiteral("data"),
                             QJsonObject {{QStringLiteral("bucket"), QStringLiteral("b")},
                                          {QStringLiteral("has_more"), false},
                                          {QStringLiteral("after"), QJsonValue()},
                                          {QStringLiteral("next_after"), last},
                                          {QStringLiteral("data"), ops}}}};
    const QJsonObject complete {{QStringLiteral("checkpoint_complete"),
                                 QJsonObject {{QStringLiteral("last_op_id"), last}}}};
    for (const QJsonObject &line : {checkpoint, data, complete}) {
        if (!control(database, QStringLiteral("line_text"),
                     QString::fromUtf8(QJsonDocument(line).toJson(QJsonDocument::Compact)), &result,
                     error))
            return false;
    }
    // The core says when it applied the checkpoint (it refuses one while
    // local writes wait for upload, or when a checksum is wrong).
    if (!result.contains(QLatin1String("DidCompleteSync"))) {
        *error = QStringLiteral("checkpoint not applied: ") + result;
        return false;
    }
    return true;
}

// --- the table definition ----------------------------------------------------------

void tst_PowerSyncQueue::powerSyncTableJson()
{
    QString error;
    const QPowerSyncTable table = QAttachmentQueueTable().toPowerSyncTable(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // What PowerSync's Dart SDK sends for AttachmentsQueueTable(), plus the
    // index the queue's lookups use.
    const QByteArray expected
        = "{\"raw_tables\":[],\"tables\":[{\"name\":\"attachments_queue\",\"view_name\":null,"
          "\"local_only\":true,\"insert_only\":false,\"columns\":["
          "{\"name\":\"filename\",\"type\":\"TEXT\"},{\"name\":\"local_uri\",\"type\":\"TEXT\"},"
          "{\"name\":\"timestamp\",\"type\":\"INTEGER\"},{\"name\":\"size\",\"type\":\"INTEGER\"},"
          "{\"name\":\"media_type\",\"type\":\"TEXT\"},{\"name\":\"state\",\"type\":\"INTEGER\"},"
          "{\"name\":\"has_synced\",\"type\":\"INTEGER\"},{\"name\":\"meta_data\",\"type\":"
          "\"TEXT\"}],\"indexes\":[{\"name\":\"state_timestamp\",\"columns\":["
          "{\"name\":\"state\",\"ascending\":true,\"type\":\"INTEGER\"},"
          "{\"name\":\"timestamp\",\"ascending\":true,\"type\":\"INTEGER\"}]}],"
          "\"ignore_empty_update\":false,\"include_metadata\":false}]}";
    QCOMPARE(QPowerSyncSchema({table}).toJson(), expected);
    QVERIFY(table.isLocalOnly());
    QCOMPARE(table.viewName(), QStringLiteral("attachments_queue"));
    QCOMPARE(table.internalName(), QStringLiteral("ps_data_local__attachments_queue"));
}

void tst_PowerSyncQueue::powerSyncTableWithAdditionalColumnsAndIndexes()
{
    QAttachmentQueueTable definition(QStringLiteral("photos_queue"));
    definition.setViewName(QStringLiteral("photos"));
    definition.setAdditionalColumns({{QStringLiteral("owner"), QStringLiteral("text")},
                                     {QStringLiteral("rank"), QStringLiteral("REAL")},
                                     {QStringLiteral("pages"), QStringLiteral("INTEGER")}});
    definition.setIndexes({{QStringLiteral("by_owner"), {QStringLiteral("owner")}}});
    QString error;
    const QPowerSyncTable table = definition.toPowerSyncTable(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QByteArray json = QPowerSyncSchema({table}).toJson();
    QVERIFY2(
        json.contains("\"name\":\"photos_queue\",\"view_name\":\"photos\",\"local_only\":true"),
        json.constData());
    QVERIFY2(json.contains("{\"name\":\"meta_data\",\"type\":\"TEXT\"},{\"name\":\"owner\","
                           "\"type\":\"TEXT\"},{\"name\":\"rank\",\"type\":\"REAL\"},"
                           "{\"name\":\"pages\",\"type\":\"INTEGER\"}]"),
             json.constData());
    QVERIFY2(json.contains("{\"name\":\"by_owner\",\"columns\":[{\"name\":\"owner\","
                           "\"ascending\":true,\"type\":\"TEXT\"}]}"),
             json.constData());
    QCOMPARE(table.indexes().size(), 2);
    QCOMPARE(table.indexes().first().name(), QStringLiteral("state_timestamp"));

    // An index of that name is the app's: not added twice.
    definition.setIndexes({{QStringLiteral("state_timestamp"), {QStringLiteral("state")}}});
    const QPowerSyncTable own = definition.toPowerSyncTable(&error);
    QCOMPARE(own.indexes().size(), 1);
    QCOMPARE(own.indexes().first().columns().size(), 1);

    // The core takes it.
    QVERIFY2(QPowerSyncCore::applySchema(db(), QPowerSyncSchema({table}), &error),
             qPrintable(error));
    QVERIFY(db().tables(QSql::Views).contains(QStringLiteral("photos")));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE name IN "
                                  "('ps_data_local__photos_queue__by_owner', "
                                  "'ps_data_local__photos_queue__state_timestamp')")),
             2);
}

void tst_PowerSyncQueue::powerSyncTableRefusesOtherTypes()
{
    QAttachmentQueueTable definition;
    definition.setAdditionalColumns({{QStringLiteral("blob"), QStringLiteral("BLOB")}});
    QString error;
    const QPowerSyncTable table = definition.toPowerSyncTable(&error);
    QVERIFY(table.name().isEmpty());
    QVERIFY2(error.contains(QLatin1String("\"blob\"")) && error.contains(QLatin1String("BLOB")),
             qPrintable(error));

    definition.setAdditionalColumns({});
    definition.setName(QStringLiteral("bad name"));
    QVERIFY(definition.toPowerSyncTable(&error).name().isEmpty());
    QVERIFY2(error.contains(QLatin1String("bad name")), qPrintable(error));
}

// --- the store on a view --------------------------------------------------------------

void tst_PowerSyncQueue::viewIsUsedAsItIs()
{
    const QString before = QStringLiteral("SELECT group_concat(type || ':' || name) FROM (SELECT "
                                          "type, name FROM sqlite_master ORDER BY name)");
    QSqlQuery query(db());
    QVERIFY(query.exec(before) && query.next());
    const QString schemaBefore = query.value(0).toString();
    query.finish();

    QString error;
    const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("txt"), {}, {}, &error);
    QVERIFY2(saved.isValid(), qPrintable(error));
    QVERIFY(m_queue->startSync());
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 5000);

    // Nothing created, altered or indexed; the row is in the core's table.
    QVERIFY(query.exec(before) && query.next());
    QCOMPARE(query.value(0).toString(), schemaBefore);
    QVERIFY(!db().tables(QSql::Tables).contains(QStringLiteral("attachments_queue")));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ps_data_local__attachments_queue WHERE "
                                  "json_extract(data, '$.state') = 3 AND id = '%1'")
                       .arg(saved.id())),
             1);
    // The definition's create() checks the view and changes nothing either.
    QVERIFY2(queueTable().create(db(), &error), qPrintable(error));
}

void tst_PowerSyncQueue::viewLackingColumnsIsNamed()
{
    QPowerSyncTable partial
        = QPowerSyncTable::localOnlyTable(QStringLiteral("attachments_queue"),
                                          {QPowerSyncColumn::text(QStringLiteral("filename")),
                                           QPowerSyncColumn::text(QStringLiteral("local_uri")),
                                           QPowerSyncColumn::integer(QStringLiteral("timestamp")),
                                           QPowerSyncColumn::text(QStringLiteral("media_type")),
                                           QPowerSyncColumn::integer(QStringLiteral("state")),
                                           QPowerSyncColumn::integer(QStringLiteral("has_synced"))},
                                          {}, QStringLiteral("attachments"));
    QString error;
    QVERIFY2(QPowerSyncCore::applySchema(db(), QPowerSyncSchema({partial}), &error),
             qPrintable(error));
    QSignalSpy errors(m_queue, &QAttachmentQueue::errorOccurred);
    QVERIFY(!m_queue->startSync());
    QCOMPARE(errors.count(), 1);
    const QString message = errors.first().first().value<QAttachmentError>().message();
    QVERIFY2(message.contains(QLatin1String("\"attachments\""))
                 && message.contains(QLatin1String("size, meta_data")),
             qPrintable(message));
    QVERIFY(!queueTable().create(db(), &error));
    QVERIFY2(error.contains(QLatin1String("size, meta_data")), qPrintable(error));
}

void tst_PowerSyncQueue::viewsAreWatchedThroughTheirTables()
{
    QCOMPARE(QAttachmentWatcher::sourceTables(db(), QStringLiteral("checklists")),
             QStringList {QStringLiteral("ps_data__checklists")});
    QCOMPARE(QAttachmentWatcher::sourceTables(db(), QStringLiteral("attachments")),
             QStringList {QStringLiteral("ps_data_local__attachments_queue")});
    // A table is itself; so is a name that is nothing yet.
    QCOMPARE(QAttachmentWatcher::sourceTables(db(), QStringLiteral("ps_crud")),
             QStringList {QStringLiteral("ps_crud")});
    QCOMPARE(QAttachmentWatcher::sourceTables(db(), QStringLiteral("later")),
             QStringList {QStringLiteral("later")});

    QObject context;
    QStringList notified;
    QAttachmentWatcher watcher(&context, [&](const QString &table) { notified << table; });
    watcher.subscribe(db(), {QStringLiteral("checklists")});
    QCOMPARE(watcher.subscribed(), QStringList {QStringLiteral("ps_data__checklists")});
    QVERIFY(!watcher.isSubscribed(QStringLiteral("checklists")));
    exec(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES ('c', 'p')"));
    QTRY_VERIFY_WITH_TIMEOUT(notified.contains(QStringLiteral("ps_data__checklists")), 5000);
    watcher.unsubscribe(db());
}

// --- the lifecycle on the view -------------------------------------------------------

void tst_PowerSyncQueue::saveWithHookThatWritesASyncedView()
{
    QSignalSpy uploaded(m_queue, &QAttachmentQueue::uploadFinished);
    QString error;
    const QAttachment saved = m_queue->saveFile(
        "payload", QStringLiteral("image/jpeg"), QStringLiteral("jpg"),
        [](QAttachmentTransaction &tx, const QAttachment &attachment) {
            tx.execute(QStringLiteral("INSERT INTO checklists (id, description, photo_id) "
                                      "VALUES ('c1', 'first', ?)"),
                       {attachment.id()});
            return true;
        },
        QStringLiteral("{\"k\":1}"), &error);
    QVERIFY2(saved.isValid(), qPrintable(error));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM checklists WHERE photo_id = '%1'")
                       .arg(saved.id())),
             1);
    QAttachment row = m_queue->attachment(saved.id());
    QCOMPARE(row.state(), State::QueuedUpload);
    QCOMPARE(row.metaData(), QStringLiteral("{\"k\":1}"));
    QCOMPARE(row.size(), 7);

    // A hook that fails rolls back the row, the synced write and the file.
    QVERIFY(!m_queue
                 ->saveFile("never", {}, QStringLiteral("jpg"),
                            [](QAttachmentTransaction &tx, const QAttachment &attachment) {
                                tx.execute(QStringLiteral("INSERT INTO checklists (id, photo_id) "
                                                          "VALUES ('c2', ?)"),
                                           {attachment.id()});
                                return false;
                            })
                 .isValid());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM checklists")), 1);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM attachments")), 1);

    // The upload's result is written through the view: on a view SQLite counts
    // no changed rows, and the write must still count as applied.
    QVERIFY(m_queue->startSync());
    QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 5000);
    row = m_queue->attachment(saved.id());
    QCOMPARE(row.state(), State::Synced);
    QVERIFY(row.hasSynced());
    QCOMPARE(m_remote->objects.value(row.filename()), QByteArray("payload"));
    QCOMPARE(m_remote->started(QAttachmentTransfer::Upload), 1);
    QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 5000);
    QCOMPARE(m_remote->started(QAttachmentTransfer::Upload), 1);
}

void tst_PowerSyncQueue::watchedIdIsDownloaded()
{
    m_remote->objects.insert(QStringLiteral("p1.jpg"), "remote photo");
    QVERIFY(m_queue->startSync());
    // A local write to the synced view: SQLite reports ps_data__checklists.
    exec(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES ('c1', 'p1')"));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("p1")), State::Synced, 5000);
    const QAttachment row = m_queue->attachment(QStringLiteral("p1"));
    QVERIFY(row.hasSynced());
    QCOMPARE(row.size(), 12);
    QVERIFY(fileExists(row.localUri()));
    QCOMPARE(m_remote->started(QAttachmentTransfer::Download), 1);
}

void tst_PowerSyncQueue::deleteFileRemovesRemoteAndLocal()
{
    const QAttachment synced = syncedAttachment(QStringLiteral("c1"));
    QCOMPARE(synced.state(), State::Synced);
    QVERIFY(m_remote->objects.contains(synced.filename()));
    QSignalSpy deleted(m_queue, &QAttachmentQueue::deleteFinished);
    QVERIFY(m_queue->deleteFile(synced.id(), [](QAttachmentTransaction &tx, const QAttachment &a) {
        tx.execute(QStringLiteral("UPDATE checklists SET photo_id = NULL WHERE photo_id = ?"),
                   {a.id()});
        return true;
    }));
    const QAttachment marked = m_queue->attachment(synced.id());
    QCOMPARE(marked.state(), State::QueuedDelete);
    QVERIFY(!marked.hasSynced());
    QTRY_COMPARE_WITH_TIMEOUT(deleted.count(), 1, 5000);
    QVERIFY(!m_queue->attachment(synced.id()).isValid());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM attachments")), 0);
    QVERIFY(!m_remote->objects.contains(synced.filename()));
    QVERIFY(!fileExists(synced.filename()));
}

void tst_PowerSyncQueue::archiveAndRestore()
{
    const QAttachment synced = syncedAttachment(QStringLiteral("c1"));
    QCOMPARE(synced.state(), State::Synced);
    exec(QStringLiteral("UPDATE checklists SET photo_id = NULL"));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(synced.id()), State::Archived, 5000);
    QVERIFY(fileExists(synced.localUri()));
    exec(QStringLiteral("UPDATE checklists SET photo_id = ?"), {synced.id()});
    // Synced before: restored as synced, nothing transferred again.
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(synced.id()), State::Synced, 5000);
    QCOMPARE(m_remote->started(QAttachmentTransfer::Download), 0);
    QCOMPARE(m_remote->started(QAttachmentTransfer::Upload), 1);

    // An upload that never reached the server is kept while unreferenced.
    m_remote->setHold(true);
    const QAttachment pending = m_queue->saveFile("pending", {}, QStringLiteral("jpg"));
    QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
    m_queue->stopSyncing();
    m_remote->setHold(false);
    QVERIFY(m_queue->startSync());
    QCOMPARE(stateOf(pending.id()), State::QueuedUpload);
}

void tst_PowerSyncQueue::archivedCacheLimit()
{
    m_queue->setArchivedCacheLimit(1);
    QStringList ids;
    for (int i = 0; i < 3; ++i) {
        const QString photo = QStringLiteral("a%1").arg(i);
        m_remote->objects.insert(photo + QStringLiteral(".jpg"), "bytes");
        ids << photo;
    }
    QVERIFY(m_queue->startSync());
    for (int i = 0; i < 3; ++i)
        exec(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES (?, ?)"),
             {QStringLiteral("c%1").arg(i), ids.at(i)});
    QTRY_VERIFY_WITH_TIMEOUT(stateOf(ids.at(0)) == State::Synced
                                 && stateOf(ids.at(1)) == State::Synced
                                 && stateOf(ids.at(2)) == State::Synced,
                             5000);
    // Unreferenced one after the other: the oldest archived rows go first.
    for (int i = 0; i < 3; ++i) {
        exec(QStringLiteral("UPDATE checklists SET photo_id = NULL WHERE id = ?"),
             {QStringLiteral("c%1").arg(i)});
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(ids.at(i)).isValid()
                                     || stateOf(ids.at(i)) == State::Archived,
                                 5000);
        QTest::qWait(5); // distinct timestamps (milliseconds)
    }
    QTRY_COMPARE_WITH_TIMEOUT(count(QStringLiteral("SELECT count(*) FROM attachments")), 1, 5000);
    QCOMPARE(stateOf(ids.at(2)), State::Archived);
    QVERIFY(!m_queue->attachment(ids.at(0)).isValid());
    QVERIFY(!m_queue->attachment(ids.at(1)).isValid());
    QVERIFY(!fileExists(ids.at(0) + QStringLiteral(".jpg")));
    QCOMPARE(m_queue->expireCache(), 0);
}

void tst_PowerSyncQueue::startupArchivesRowsWithoutFile()
{
    const QAttachment synced = syncedAttachment(QStringLiteral("c1"));
    QCOMPARE(synced.state(), State::Synced);
    m_queue->stopSyncing();
    QVERIFY(QFile::remove(filesDir() + QLatin1Char('/') + synced.localUri()));
    // Unreferenced meanwhile, so that it is not downloaded again at once.
    exec(QStringLiteral("DELETE FROM checklists"));
    newQueue();
    QVERIFY(m_queue->startSync());
    const QAttachment row = m_queue->attachment(synced.id());
    QCOMPARE(row.state(), State::Archived);
    QVERIFY(row.localUri().isEmpty());
    QVERIFY(!row.hasSynced());

    // Referenced again: downloaded.
    exec(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES ('c2', ?)"), {synced.id()});
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(synced.id()), State::Synced, 5000);
    QCOMPARE(m_remote->started(QAttachmentTransfer::Download), 1);
}

void tst_PowerSyncQueue::deleteIssuedMidUploadWins()
{
    m_remote->setHold(true);
    QVERIFY(m_queue->startSync());
    const QAttachment saved = m_queue->saveFile("racing", {}, QStringLiteral("jpg"));
    QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
    QVERIFY(m_queue->deleteFile(saved.id()));
    m_remote->setHold(false);
    QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(saved.id()).isValid(), 5000);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM attachments")), 0);
    QVERIFY(!m_remote->objects.contains(saved.filename()));
    QVERIFY(!fileExists(saved.filename()));
}

void tst_PowerSyncQueue::uploadResultIsNotWrittenOverAChangedRow()
{
    m_remote->setHold(true);
    QVERIFY(m_queue->startSync());
    const QAttachment saved = m_queue->saveFile("x", {}, QStringLiteral("jpg"));
    QTRY_COMPARE_WITH_TIMEOUT(m_remote->running(), 1, 5000);
    m_remote->release(); // finished() is now queued
    exec(QStringLiteral("UPDATE attachments SET state = 4 WHERE id = ?"), {saved.id()});
    QTRY_VERIFY_WITH_TIMEOUT(m_queue->activeTransfers() == 0, 5000);
    QCOMPARE(stateOf(saved.id()), State::Archived);
    QVERIFY(!m_queue->attachment(saved.id()).hasSynced());
}

void tst_PowerSyncQueue::clearQueueEmptiesTheView()
{
    const QAttachment synced = syncedAttachment(QStringLiteral("c1"));
    QCOMPARE(synced.state(), State::Synced);
    QVERIFY(m_queue->saveFile("more", {}, QStringLiteral("jpg")).isValid());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM attachments")), 2);
    QVERIFY(m_queue->clearQueue());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM attachments")), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ps_data_local__attachments_queue")), 0);
    QVERIFY(QDir(filesDir()).entryList(QDir::Files).isEmpty());
    QVERIFY(m_queue->attachments().isEmpty());
}

// --- sync -------------------------------------------------------------------------------

void tst_PowerSyncQueue::syncedRowsDriveDownloadsOnTheSameConnection()
{
    m_remote->objects.insert(QStringLiteral("s1.jpg"), "first");
    m_remote->objects.insert(QStringLiteral("s2.jpg"), "second");
    QVERIFY(m_queue->startSync());
    QString error;
    QVERIFY2(applySync(db(),
                       {{QStringLiteral("c1"), QStringLiteral("s1")},
                        {QStringLiteral("c2"), QStringLiteral("s2")}},
                       &error),
             qPrintable(error));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM checklists")), 2);
    QTRY_VERIFY_WITH_TIMEOUT(stateOf(QStringLiteral("s1")) == State::Synced
                                 && stateOf(QStringLiteral("s2")) == State::Synced,
                             5000);
    QVERIFY(fileExists(QStringLiteral("s1.jpg")));

    // Removed by sync: archived.
    QVERIFY2(applySync(db(), {{QStringLiteral("c1"), QString()}}, &error), qPrintable(error));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM checklists")), 1);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("s1")), State::Archived, 5000);
    QCOMPARE(stateOf(QStringLiteral("s2")), State::Synced);
}

void tst_PowerSyncQueue::syncedRowsDriveDownloadsFromAnotherConnection()
{
    m_remote->objects.insert(QStringLiteral("o1.jpg"), "other");
    // Well beyond the test's wait: only noticing the other connection's
    // commit can start the download in time.
    m_queue->setSyncInterval(60000);
    QVERIFY(m_queue->startSync());

    const QString other = QStringLiteral("sync-client");
    {
        QSqlDatabase syncDb = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), other);
        syncDb.setDatabaseName(db().databaseName());
        QVERIFY(syncDb.open());
        QString error;
        QVERIFY2(applySync(syncDb, {{QStringLiteral("c1"), QStringLiteral("o1")}}, &error),
                 qPrintable(error));
        QElapsedTimer clock;
        clock.start();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("o1")), State::Synced, 5000);
        qDebug() << "downloaded" << clock.elapsed() << "ms after the other connection's commit";

        QVERIFY2(applySync(syncDb, {{QStringLiteral("c1"), QString()}}, &error), qPrintable(error));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("o1")), State::Archived, 5000);
    }
    TestSupport::closeDatabase(other);
}

void tst_PowerSyncQueue::psCrudHoldsTheAppsWritesOnly()
{
    // The whole life of two attachments: saved with a hook, uploaded,
    // downloaded, archived, restored, deleted.
    const QAttachment synced = syncedAttachment(QStringLiteral("c1"));
    QCOMPARE(synced.state(), State::Synced);
    m_remote->objects.insert(QStringLiteral("d1.jpg"), "down");
    exec(QStringLiteral("INSERT INTO checklists (id, photo_id) VALUES ('c2', 'd1')"));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("d1")), State::Synced, 5000);
    exec(QStringLiteral("UPDATE checklists SET photo_id = NULL WHERE id = 'c2'"));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("d1")), State::Archived, 5000);
    exec(QStringLiteral("UPDATE checklists SET photo_id = 'd1' WHERE id = 'c2'"));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("d1")), State::Synced, 5000);
    QVERIFY(m_queue->deleteFile(synced.id()));
    QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(synced.id()).isValid(), 5000);

    // ps_crud: the app's four writes to checklists, nothing of the queue's.
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ps_crud")), 4);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ps_crud WHERE "
                                  "json_extract(data, '$.type') <> 'checklists'")),
             0);
}

// --- plain SQLite --------------------------------------------------------------------------

void tst_PowerSyncQueue::anotherConnectionsWriteIsNoticedPromptly()
{
    // A plain SQLite database, no PowerSync schema in it.
    const QString plain = TestSupport::openDatabase(m_dir->path());
    QVERIFY(QSqlQuery(QSqlDatabase::database(plain))
                .exec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)")));
    QAttachmentQueue queue;
    queue.setConnectionName(plain);
    queue.setLocalDirectory(m_dir->path() + QStringLiteral("/plain"));
    queue.setRemoteStorage(m_remote);
    QCOMPARE(queue.pollInterval(), 250);
    queue.setWatchQuery(QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM "
                                       "items WHERE photo_id IS NOT NULL"));
    queue.setWatchTables({QStringLiteral("items")});
    QCOMPARE(queue.syncInterval(), 30000);
    m_remote->objects.insert(QStringLiteral("x1.jpg"), "x");
    QSignalSpy started(m_remote, &FakeRemoteStorage::transferStarted);
    QVERIFY(queue.startSync());

    QVERIFY(TestSupport::execOnAnotherConnection(
        QSqlDatabase::database(plain).databaseName(),
        QStringLiteral("INSERT INTO items VALUES ('i', 'x1')")));
    // The periodic sync (30 s) is far away: the download starts well before.
    QVERIFY(started.wait(5000));
    QCOMPARE(started.first().first().toString(), QStringLiteral("x1.jpg"));
    QTRY_COMPARE_WITH_TIMEOUT(queue.attachment(QStringLiteral("x1")).state(), State::Synced, 5000);
    queue.stopSyncing();
    TestSupport::closeDatabase(plain);
}

void tst_PowerSyncQueue::pollingCanBeTurnedOff()
{
    const QString plain = TestSupport::openDatabase(m_dir->path());
    QVERIFY(QSqlQuery(QSqlDatabase::database(plain))
                .exec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)")));
    QAttachmentQueue queue;
    QSignalSpy changed(&queue, &QAttachmentQueue::pollIntervalChanged);
    queue.setPollInterval(0);
    QCOMPARE(changed.count(), 1);
    queue.setPollInterval(-5);
    QCOMPARE(queue.pollInterval(), 0);
    QCOMPARE(changed.count(), 1);
    queue.setConnectionName(plain);
    queue.setLocalDirectory(m_dir->path() + QStringLiteral("/off"));
    queue.setRemoteStorage(m_remote);
    queue.setWatchQuery(QStringLiteral("SELECT photo_id AS id FROM items"));
    QSignalSpy started(m_remote, &FakeRemoteStorage::transferStarted);
    QVERIFY(queue.startSync());
    QVERIFY(TestSupport::execOnAnotherConnection(
        QSqlDatabase::database(plain).databaseName(),
        QStringLiteral("INSERT INTO items VALUES ('i', 'y1')")));
    // Off: nothing notices (a second covers many would-be checks)...
    QVERIFY(!started.wait(1000));
    // ...until it is turned on while syncing: what may have been missed
    // meanwhile is looked at once.
    queue.setPollInterval(20);
    QVERIFY(started.wait(5000));
    queue.stopSyncing();
    TestSupport::closeDatabase(plain);
}

void tst_PowerSyncQueue::pollIntervalInQml()
{
#ifndef PSA_HAVE_QML
    QSKIP("built without the QML module");
#else
    QQmlEngine engine;
    QQmlComponent component(&engine);
    component.setData("import PowerSync.Attachments\nAttachmentQueue { pollInterval: 1000 }",
                      QUrl());
    std::unique_ptr<QObject> object(component.create());
    QVERIFY2(object, qPrintable(component.errorString()));
    auto *queue = qobject_cast<QAttachmentQueue *>(object.get());
    QVERIFY(queue);
    QCOMPARE(queue->pollInterval(), 1000);
    QSignalSpy changed(queue, &QAttachmentQueue::pollIntervalChanged);
    QVERIFY(object->setProperty("pollInterval", 0));
    QCOMPARE(queue->pollInterval(), 0);
    QCOMPARE(changed.count(), 1);
#endif
}

QTEST_GUILESS_MAIN(tst_PowerSyncQueue)
#include "tst_powersyncqueue.moc"
