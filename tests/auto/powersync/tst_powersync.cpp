#include "qpowersynccore.h"
#include "qpowersyncschema.h"
#include "testsupport.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qthread.h>
#include <QtCore/qversionnumber.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qtest.h>

// The PowerSync core (fetched and hash-checked by scripts/fetch-powersync.sh),
// loaded into a process whose QSQLITE driver uses the SQLite 3.48.0 built by
// the same script (the test is linked against it, see CMakeLists.txt).
class tst_PowerSync : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void openedBeforeLoad();
    void missingCore();
    void wrongHash();
    void notACore();
    void load();
    void sqliteThroughQtSql();
    void otherThread();
    void schemaJson();
    void schemaJsonEscapes();
    void schemaFromJsonRefuses_data();
    void schemaFromJsonRefuses();
    void validation_data();
    void validation();
    void applySchema();
    void replaceSchema();
    void applyInvalidSchema();
    void applyOnConnectionOpenedBeforeLoad();
    void sqliteTooOld();
    void cleanupTestCase();

private:
    static QByteArray pinnedHash(const QString &path);
    static QPowerSyncSchema exampleSchema();
    static QByteArray exampleJson();
    QString openDatabase();
    static int count(const QSqlDatabase &db, const QString &sql);

    QTemporaryDir m_dir;
    QStringList m_connections;
    QString m_earlyConnection;
};

QByteArray tst_PowerSync::pinnedHash(const QString &path)
{
    QFile pins(QStringLiteral(PSA_POWERSYNC_PINS));
    if (!pins.open(QIODevice::ReadOnly))
        return {};
    while (!pins.atEnd()) {
        const QList<QByteArray> fields = pins.readLine().simplified().split(' ');
        if (fields.size() == 3 && fields.at(0) == "@powersync/node@1.1.0"
            && fields.at(1) == path.toUtf8())
            return fields.at(2);
    }
    return {};
}

QString tst_PowerSync::openDatabase()
{
    const QString name = TestSupport::openDatabase(m_dir.path());
    m_connections.append(name);
    return name;
}

int tst_PowerSync::count(const QSqlDatabase &db, const QString &sql)
{
    QSqlQuery query(db);
    if (!query.exec(sql) || !query.next()) {
        qWarning() << sql << query.lastError().text();
        return -1;
    }
    return query.value(0).toInt();
}

void tst_PowerSync::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFile::exists(QStringLiteral(PSA_POWERSYNC_CORE)), PSA_POWERSYNC_CORE);
    // What the set-up placed in the build tree is the pinned file.
    QFile core(QStringLiteral(PSA_POWERSYNC_CORE));
    QVERIFY(core.open(QIODevice::ReadOnly));
    const QByteArray expected = pinnedHash(QStringLiteral("lib/" PSA_POWERSYNC_CORE_FILE));
    QCOMPARE(expected.size(), 64);
    QCOMPARE(QCryptographicHash::hash(core.readAll(), QCryptographicHash::Sha256).toHex(),
             expected);
    QVERIFY(!QPowerSyncCore::isLoaded());
}

void tst_PowerSync::openedBeforeLoad()
{
    m_earlyConnection = openDatabase();
    QSqlQuery query(QSqlDatabase::database(m_earlyConnection));
    QVERIFY(!query.exec(QStringLiteral("SELECT powersync_rs_version()")));
}

void tst_PowerSync::missingCore()
{
    QString error;
    const QString path = m_dir.filePath(QStringLiteral("nowhere/libpowersync_x64.linux.so"));
    QVERIFY(!QPowerSyncCore::load(path, {}, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(error.contains(QLatin1String("not at")), qPrintable(error));
    QCOMPARE(QPowerSyncCore::errorString(), error);
    QVERIFY(!QPowerSyncCore::isLoaded());
}

void tst_PowerSync::wrongHash()
{
    QString error;
    const QByteArray wrong(64, '0');
    QVERIFY(!QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_CORE), wrong, &error));
    QVERIFY2(error.contains(QLatin1String("SHA-256")), qPrintable(error));
    QVERIFY2(error.contains(QString::fromLatin1(wrong)), qPrintable(error));
    QVERIFY(!QPowerSyncCore::isLoaded());
}

void tst_PowerSync::notACore()
{
    QString error;
    QVERIFY(!QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_SQLITE), {}, &error));
    QVERIFY2(error.contains(QLatin1String("sqlite3_powersync_init")), qPrintable(error));
    QVERIFY(!QPowerSyncCore::isLoaded());
}

void tst_PowerSync::load()
{
    QString error;
    const QByteArray hash = pinnedHash(QStringLiteral("lib/" PSA_POWERSYNC_CORE_FILE));
    QVERIFY2(QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_CORE), hash, &error),
             qPrintable(error));
    QVERIFY(QPowerSyncCore::isLoaded());
    QVERIFY(QPowerSyncCore::errorString().isEmpty());
    QCOMPARE(QPowerSyncCore::version(), QStringLiteral("0.5.3/2ba6b280"));
    QCOMPARE(QPowerSyncCore::sqliteVersion(), QStringLiteral("3.48.0"));
    QCOMPARE(QPowerSyncCore::minimumSqliteVersion(), QStringLiteral("3.44.0"));
    QCOMPARE(QPowerSyncCore::platformFileName(), QStringLiteral(PSA_POWERSYNC_CORE_FILE));

    // Again from the same file: nothing to do. From another: refused.
    QVERIFY(QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_CORE)));
    QVERIFY(!QPowerSyncCore::load(QStringLiteral(PSA_POWERSYNC_SQLITE), {}, &error));
    QVERIFY2(error.contains(QLatin1String("already loaded")), qPrintable(error));
    QVERIFY(QPowerSyncCore::isLoaded());
}

void tst_PowerSync::sqliteThroughQtSql()
{
    // Every connection opened now has the core, on this thread...
    const QSqlDatabase db = QSqlDatabase::database(openDatabase());
    QSqlQuery query(db);
    QVERIFY2(query.exec(QStringLiteral("SELECT sqlite_version(), powersync_rs_version()")),
             qPrintable(query.lastError().text()));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toString(), QStringLiteral("3.48.0"));
    QCOMPARE(query.value(1).toString(), QPowerSyncCore::version());
}

void tst_PowerSync::otherThread()
{
    // ...and on any other thread.
    QString version;
    QString error;
    const QString path = m_dir.filePath(QStringLiteral("thread.db"));
    std::unique_ptr<QThread> thread(QThread::create([&] {
        {
            QSqlDatabase db
                = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("thread"));
            db.setDatabaseName(path);
            if (!db.open()) {
                error = db.lastError().text();
                return;
            }
            QSqlQuery query(db);
            if (query.exec(QStringLiteral("SELECT powersync_rs_version()")) && query.next())
                version = query.value(0).toString();
            else
                error = query.lastError().text();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("thread"));
    }));
    thread->start();
    QVERIFY(thread->wait(30000));
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(version, QPowerSyncCore::version());
}

QPowerSyncSchema tst_PowerSync::exampleSchema()
{
    QPowerSyncTable checklists(
        QStringLiteral("checklists"),
        {QPowerSyncColumn::text(QStringLiteral("description")),
         QPowerSyncColumn::text(QStringLiteral("photo_id")),
         QPowerSyncColumn::integer(QStringLiteral("created_at")),
         QPowerSyncColumn::real(QStringLiteral("weight"))},
        {QPowerSyncIndex::ascending(QStringLiteral("photo"), {QStringLiteral("photo_id")}),
         QPowerSyncIndex(QStringLiteral("recent"),
                         {QPowerSyncIndexedColumn::descending(QStringLiteral("created_at")),
                          QPowerSyncIndexedColumn(QStringLiteral("description"))})});

    const QPowerSyncTable drafts = QPowerSyncTable::localOnlyTable(
        QStringLiteral("drafts"), {QPowerSyncColumn::text(QStringLiteral("body"))});

    const QPowerSyncTable attachments = QPowerSyncTable::localOnlyTable(
        QStringLiteral("attachments_queue"),
        {QPowerSyncColumn::text(QStringLiteral("filename")),
         QPowerSyncColumn::text(QStringLiteral("local_uri")),
         QPowerSyncColumn::integer(QStringLiteral("timestamp")),
         QPowerSyncColumn::integer(QStringLiteral("size")),
         QPowerSyncColumn::text(QStringLiteral("media_type")),
         QPowerSyncColumn::integer(QStringLiteral("state")),
         QPowerSyncColumn::integer(QStringLiteral("has_synced")),
         QPowerSyncColumn::text(QStringLiteral("meta_data"))},
        {QPowerSyncIndex::ascending(QStringLiteral("by_state"), {QStringLiteral("state")})},
        QStringLiteral("attachments"));

    QPowerSyncTable lists(QStringLiteral("lists"),
                          {QPowerSyncColumn::text(QStringLiteral("name"))});
    lists.setViewName(QStringLiteral("todo_lists"));
    lists.setIncludeMetadata(true);
    lists.setIgnoreEmptyUpdates(true);
    lists.setPreviousValuesColumnFilter({QStringLiteral("name")});
    lists.setPreviousValuesOnlyWhenChanged(true);

    QPowerSyncTable logs = QPowerSyncTable::insertOnlyTable(
        QStringLiteral("logs"), {QPowerSyncColumn::text(QStringLiteral("message"))});
    logs.setTrackPreviousValues(true);

    return QPowerSyncSchema({checklists, drafts, attachments, lists, logs});
}

// Written by hand: what PowerSync's Dart SDK sends for the same schema.
QByteArray tst_PowerSync::exampleJson()
{
    return "{\"raw_tables\":[],\"tables\":["
           "{\"name\":\"checklists\",\"view_name\":null,\"local_only\":false,\"insert_only\":false,"
           "\"columns\":[{\"name\":\"description\",\"type\":\"TEXT\"},"
           "{\"name\":\"photo_id\",\"type\":\"TEXT\"},{\"name\":\"created_at\",\"type\":"
           "\"INTEGER\"},"
           "{\"name\":\"weight\",\"type\":\"REAL\"}],"
           "\"indexes\":[{\"name\":\"photo\",\"columns\":[{\"name\":\"photo_id\",\"ascending\":"
           "true,"
           "\"type\":\"TEXT\"}]},{\"name\":\"recent\",\"columns\":[{\"name\":\"created_at\","
           "\"ascending\":false,\"type\":\"INTEGER\"},{\"name\":\"description\",\"ascending\":true,"
           "\"type\":\"TEXT\"}]}],\"ignore_empty_update\":false,\"include_metadata\":false},"
           "{\"name\":\"drafts\",\"view_name\":null,\"local_only\":true,\"insert_only\":false,"
           "\"columns\":[{\"name\":\"body\",\"type\":\"TEXT\"}],\"indexes\":[],"
           "\"ignore_empty_update\":false,\"include_metadata\":false},"
           "{\"name\":\"attachments_queue\",\"view_name\":\"attachments\",\"local_only\":true,"
           "\"insert_only\":false,\"columns\":[{\"name\":\"filename\",\"type\":\"TEXT\"},"
           "{\"name\":\"local_uri\",\"type\":\"TEXT\"},{\"name\":\"timestamp\",\"type\":"
           "\"INTEGER\"},"
           "{\"name\":\"size\",\"type\":\"INTEGER\"},{\"name\":\"media_type\",\"type\":\"TEXT\"},"
           "{\"name\":\"state\",\"type\":\"INTEGER\"},{\"name\":\"has_synced\",\"type\":"
           "\"INTEGER\"},"
           "{\"name\":\"meta_data\",\"type\":\"TEXT\"}],\"indexes\":[{\"name\":\"by_state\","
           "\"columns\":[{\"name\":\"state\",\"ascending\":true,\"type\":\"INTEGER\"}]}],"
           "\"ignore_empty_update\":false,\"include_metadata\":false},"
           "{\"name\":\"lists\",\"view_name\":\"todo_lists\",\"local_only\":false,"
           "\"insert_only\":false,\"columns\":[{\"name\":\"name\",\"type\":\"TEXT\"}],\"indexes\":["
           "],"
           "\"ignore_empty_update\":true,\"include_metadata\":true,\"include_old\":[\"name\"],"
           "\"include_old_only_when_changed\":true},"
           "{\"name\":\"logs\",\"view_name\":null,\"local_only\":false,\"insert_only\":true,"
           "\"columns\":[{\"name\":\"message\",\"type\":\"TEXT\"}],\"indexes\":[],"
           "\"ignore_empty_update\":false,\"include_metadata\":false,\"include_old\":true,"
           "\"include_old_only_when_changed\":false}]}";
}

void tst_PowerSync::schemaJson()
{
    const QPowerSyncSchema schema = exampleSchema();
    QString error;
    QVERIFY2(schema.validate(&error), qPrintable(error));
    QCOMPARE(schema.toJson(), exampleJson());

    const QPowerSyncSchema read = QPowerSyncSchema::fromJson(exampleJson(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(read.tables().size(), 5);
    QVERIFY(read == schema);
    QCOMPARE(read.toJson(), exampleJson());

    const QPowerSyncTable attachments = read.table(QStringLiteral("attachments_queue"));
    QCOMPARE(attachments.viewName(), QStringLiteral("attachments"));
    QCOMPARE(attachments.internalName(), QStringLiteral("ps_data_local__attachments_queue"));
    QVERIFY(attachments.isLocalOnly());
    QCOMPARE(read.table(QStringLiteral("checklists")).internalName(),
             QStringLiteral("ps_data__checklists"));
    QCOMPARE(read.table(QStringLiteral("checklists")).viewName(), QStringLiteral("checklists"));

    // Any change shows.
    QPowerSyncSchema changed = schema;
    QList<QPowerSyncTable> tables = changed.tables();
    tables[0].addColumn(QPowerSyncColumn::integer(QStringLiteral("done")));
    changed.setTables(tables);
    QVERIFY(changed != schema);
    QVERIFY(changed.toJson() != exampleJson());
    QCOMPARE(exampleSchema().toJson(), exampleJson()); // implicitly shared, not modified
}

void tst_PowerSync::schemaJsonEscapes()
{
    // Names that validate() refuses still serialise as dart:convert would.
    // U+1F600 is a surrogate pair (UTF-8), U+D800 alone is escaped.
    const QString name
        = QStringLiteral("a\"b\\c\nd\x01\u00e9") + QChar(0xd83d) + QChar(0xde00) + QChar(0xd800);
    const QPowerSyncSchema schema(
        {QPowerSyncTable(name, {QPowerSyncColumn::text(QStringLiteral("x"))})});
    QVERIFY(!schema.validate());
    const QByteArray json = schema.toJson();
    QVERIFY2(json.contains("\"name\":\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\xf0\x9f\x98\x80\\ud800\""),
             json.constData());
    QString error;
    const QPowerSyncSchema read = QPowerSyncSchema::fromJson(json, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(read.tables().value(0).name(), name);
    QVERIFY(read == schema);
}

void tst_PowerSync::schemaFromJsonRefuses_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("not json") << QByteArray("{") << "schema JSON";
    QTest::newRow("array") << QByteArray("[]") << "must be an object";
    QTest::newRow("raw tables") << QByteArray("{\"tables\":[],\"raw_tables\":[{}]}")
                                << "raw tables";
    QTest::newRow("unknown key") << QByteArray("{\"tables\":[],\"views\":[]}") << "\"views\"";
    QTest::newRow("bad type") << QByteArray(
        "{\"tables\":[{\"name\":\"t\",\"columns\":[{\"name\":\"c\",\"type\":"
        "\"BLOB\"}]}]}") << "unknown type";
    QTest::newRow("bad flag") << QByteArray("{\"tables\":[{\"name\":\"t\",\"columns\":[],"
                                            "\"local_only\":1}]}")
                              << "local_only";
}

void tst_PowerSync::schemaFromJsonRefuses()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    QString error;
    const QPowerSyncSchema schema = QPowerSyncSchema::fromJson(json, &error);
    QVERIFY(schema.tables().isEmpty());
    QVERIFY2(error.contains(message), qPrintable(error));
}

void tst_PowerSync::validation_data()
{
    QTest::addColumn<QPowerSyncSchema>("schema");
    QTest::addColumn<QString>("message");
    const QList<QPowerSyncColumn> columns {QPowerSyncColumn::text(QStringLiteral("a"))};
    QTest::newRow("id column") << QPowerSyncSchema(
        {QPowerSyncTable(QStringLiteral("t"), {QPowerSyncColumn::text(QStringLiteral("id"))})})
                               << "id column";
    QTest::newRow("dot in table name")
        << QPowerSyncSchema({QPowerSyncTable(QStringLiteral("a.b"), columns)})
        << "invalid table name";
    QTest::newRow("space in column name") << QPowerSyncSchema(
        {QPowerSyncTable(QStringLiteral("t"), {QPowerSyncColumn::text(QStringLiteral("a b"))})})
                                          << "invalid column name";
    QTest::newRow("quote in view name") << QPowerSyncSchema(
        {QPowerSyncTable::localOnlyTable(QStringLiteral("t"), columns, {}, QStringLiteral("v\""))})
                                        << "invalid view name";
    QTest::newRow("duplicate column")
        << QPowerSyncSchema({QPowerSyncTable(QStringLiteral("t"),
                                             {QPowerSyncColumn::text(QStringLiteral("a")),
                                              QPowerSyncColumn::real(QStringLiteral("a"))})})
        << "duplicate column";
    QTest::newRow("index on unknown column") << QPowerSyncSchema(
        {QPowerSyncTable(QStringLiteral("t"), columns,
                         {QPowerSyncIndex::ascending(QStringLiteral("i"), {QStringLiteral("b")})})})
                                             << "unknown column b";
    QTest::newRow("duplicate table")
        << QPowerSyncSchema({QPowerSyncTable(QStringLiteral("t"), columns),
                             QPowerSyncTable(QStringLiteral("t"), columns)})
        << "duplicate table";
    QTest::newRow("duplicate view") << QPowerSyncSchema(
        {QPowerSyncTable(QStringLiteral("t"), columns),
         QPowerSyncTable::localOnlyTable(QStringLiteral("u"), columns, {}, QStringLiteral("t"))})
                                    << "duplicate view name";
    QPowerSyncTable metadata = QPowerSyncTable::localOnlyTable(QStringLiteral("t"), columns);
    metadata.setIncludeMetadata(true);
    QTest::newRow("local-only with metadata") << QPowerSyncSchema({metadata}) << "metadata";
    QList<QPowerSyncColumn> many;
    for (int i = 0; i < QPowerSyncTable::MaximumColumns + 1; ++i)
        many.append(QPowerSyncColumn::text(QStringLiteral("c%1").arg(i)));
    QTest::newRow("too many columns")
        << QPowerSyncSchema({QPowerSyncTable(QStringLiteral("t"), many)}) << "2000 columns";
}

void tst_PowerSync::validation()
{
    QFETCH(QPowerSyncSchema, schema);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!schema.validate(&error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

static QStringList columnsOf(const QSqlDatabase &db, const QString &view)
{
    QStringList columns;
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA table_info(%1)").arg(view)))
        return columns;
    while (query.next())
        columns.append(query.value(1).toString());
    return columns;
}

void tst_PowerSync::applySchema()
{
    const QString name = openDatabase();
    QSqlDatabase db = QSqlDatabase::database(name);
    QString error;
    QVERIFY2(QPowerSyncCore::applySchema(db, exampleSchema(), &error), qPrintable(error));

    // Every table is a view, none a table.
    const QStringList views = db.tables(QSql::Views);
    for (const char *view : {"checklists", "drafts", "attachments", "todo_lists", "logs"})
        QVERIFY2(views.contains(QLatin1String(view)), view);
    const QStringList tables = db.tables(QSql::Tables);
    QVERIFY(!tables.contains(QLatin1String("attachments")));
    QVERIFY(tables.contains(QLatin1String("ps_data__checklists")));
    QVERIFY(tables.contains(QLatin1String("ps_data_local__attachments_queue")));
    QCOMPARE(
        count(db,
              QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name "
                             "IN ('ps_data__checklists__photo', "
                             "'ps_data_local__attachments_queue__by_state')")),
        2);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM ps_crud")), 0);

    // A write to a synced view is queued for upload...
    QSqlQuery query(db);
    QVERIFY2(query.exec(QStringLiteral(
                 "INSERT INTO checklists (id, description, photo_id, created_at, weight) "
                 "VALUES ('c1', 'first', 'p1', 1700000000, 1.5)")),
             qPrintable(query.lastError().text()));
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM ps_crud")), 1);
    QVERIFY(query.exec(QStringLiteral("SELECT data FROM ps_crud")));
    QVERIFY(query.next());
    QVERIFY2(query.value(0).toString().contains(QLatin1String("\"type\":\"checklists\"")),
             qPrintable(query.value(0).toString()));

    // ...one to a local-only view is not.
    QVERIFY2(query.exec(QStringLiteral(
                 "INSERT INTO attachments (id, filename, local_uri, timestamp, size, "
                 "media_type, state, has_synced, meta_data) VALUES ('p1', 'p1.jpg', "
                 "'p1.jpg', 1700000000000, 3, 'image/jpeg', 0, 0, '{\"k\":1}')")),
             qPrintable(query.lastError().text()));
    QVERIFY2(query.exec(QStringLiteral("UPDATE attachments SET state = 3 WHERE id = 'p1'")),
             qPrintable(query.lastError().text()));
    QVERIFY2(query.exec(QStringLiteral("INSERT INTO drafts (id, body) VALUES ('d1', 'x')")),
             qPrintable(query.lastError().text()));
    QVERIFY2(query.exec(QStringLiteral("DELETE FROM drafts")),
             qPrintable(query.lastError().text()));
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM ps_crud")), 1);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM ps_data_local__attachments_queue")), 1);
    QCOMPARE(count(db, QStringLiteral("SELECT state FROM attachments WHERE id = 'p1'")), 3);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM drafts")), 0);

    // The view has the schema's columns, typed.
    QVERIFY(query.exec(QStringLiteral("SELECT typeof(timestamp), typeof(meta_data), "
                                      "typeof(has_synced) FROM attachments")));
    QVERIFY(query.next());
    QCOMPARE(query.value(0).toString(), QStringLiteral("integer"));
    QCOMPARE(query.value(1).toString(), QStringLiteral("text"));
    QCOMPARE(query.value(2).toString(), QStringLiteral("integer"));

    // An insert-only table queues inserts and keeps no rows; include_metadata
    // adds the hidden _metadata column.
    QVERIFY2(query.exec(QStringLiteral("INSERT INTO logs (id, message) VALUES ('l1', 'hi')")),
             qPrintable(query.lastError().text()));
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM ps_crud")), 2);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM logs")), 0);
    QVERIFY(columnsOf(db, QStringLiteral("todo_lists")).contains(QLatin1String("_metadata")));
    QVERIFY(!columnsOf(db, QStringLiteral("checklists")).contains(QLatin1String("_metadata")));

    // Applying the same schema again changes nothing.
    QVERIFY2(QPowerSyncCore::applySchema(db, exampleSchema(), &error), qPrintable(error));
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM checklists")), 1);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM attachments")), 1);
}

void tst_PowerSync::replaceSchema()
{
    const QString name = openDatabase();
    QSqlDatabase db = QSqlDatabase::database(name);
    QString error;
    QVERIFY2(QPowerSyncCore::applySchema(db, exampleSchema(), &error), qPrintable(error));
    QSqlQuery query(db);
    QVERIFY(
        query.exec(QStringLiteral("INSERT INTO checklists (id, description) VALUES ('c1', 'a')")));
    QVERIFY(
        query.exec(QStringLiteral("INSERT INTO attachments (id, filename) VALUES ('p1', 'f')")));
    QVERIFY(!columnsOf(db, QStringLiteral("checklists")).contains(QLatin1String("done")));

    // A column more in a synced and in the local-only table, one table less.
    QList<QPowerSyncTable> tables = exampleSchema().tables();
    tables[0].addColumn(QPowerSyncColumn::integer(QStringLiteral("done")));
    tables[2].addColumn(QPowerSyncColumn::text(QStringLiteral("extra")));
    tables.removeAt(1);
    QVERIFY2(QPowerSyncCore::applySchema(db, QPowerSyncSchema(tables), &error), qPrintable(error));

    QVERIFY(columnsOf(db, QStringLiteral("checklists")).contains(QLatin1String("done")));
    QVERIFY(columnsOf(db, QStringLiteral("attachments")).contains(QLatin1String("extra")));
    QVERIFY(!db.tables(QSql::Views).contains(QLatin1String("drafts")));
    QVERIFY(db.tables(QSql::Views).contains(QLatin1String("attachments")));
    QCOMPARE(count(db,
                   QStringLiteral("SELECT count(*) FROM checklists WHERE description = 'a' "
                                  "AND done IS NULL")),
             1);
    QVERIFY(query.exec(QStringLiteral("UPDATE checklists SET done = 1 WHERE id = 'c1'")));
    QCOMPARE(count(db, QStringLiteral("SELECT done FROM checklists WHERE id = 'c1'")), 1);
    QCOMPARE(count(db, QStringLiteral("SELECT count(*) FROM attachments WHERE filename = 'f'")), 1);
}

void tst_PowerSync::applyInvalidSchema()
{
    const QSqlDatabase db = QSqlDatabase::database(openDatabase());
    QString error;
    QVERIFY(!QPowerSyncCore::applySchema(
        db, QPowerSyncSchema({QPowerSyncTable(QStringLiteral("bad name"), {})}), &error));
    QVERIFY2(error.contains(QLatin1String("Invalid PowerSync schema")), qPrintable(error));
    QVERIFY(db.tables(QSql::Views).isEmpty());

    QSqlDatabase closed = QSqlDatabase::database(openDatabase());
    closed.close();
    QVERIFY(!QPowerSyncCore::applySchema(closed, exampleSchema(), &error));
    QVERIFY2(error.contains(QLatin1String("not open")), qPrintable(error));
}

void tst_PowerSync::applyOnConnectionOpenedBeforeLoad()
{
    // Only connections opened after load() have the core.
    const QSqlDatabase db = QSqlDatabase::database(m_earlyConnection);
    QString error;
    QVERIFY(!QPowerSyncCore::applySchema(db, exampleSchema(), &error));
    QVERIFY2(error.contains(QLatin1String("before opening it")), qPrintable(error));
}

void tst_PowerSync::sqliteTooOld()
{
    // A process that does not load the SQLite built for the core uses the
    // system's (Debian 12: 3.40.1).
    QProcess child;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("LD_LIBRARY_PATH"));
    environment.remove(QStringLiteral("LD_PRELOAD"));
    child.setProcessEnvironment(environment);
    child.start(QStringLiteral(PSA_POWERSYNC_CHILD), {QStringLiteral(PSA_POWERSYNC_CORE)});
    QVERIFY(child.waitForFinished(60000));
    QCOMPARE(child.exitStatus(), QProcess::NormalExit);
    QCOMPARE(child.exitCode(), 0);
    QMap<QString, QString> report;
    for (const QByteArray &line : child.readAllStandardOutput().split('\n')) {
        const int space = line.indexOf(' ');
        if (space > 0)
            report.insert(QString::fromUtf8(line.left(space)),
                          QString::fromUtf8(line.mid(space + 1)));
    }
    const QString systemVersion = report.value(QStringLiteral("qtsql"));
    QVERIFY(!systemVersion.isEmpty());
    if (QVersionNumber::fromString(systemVersion) >= QVersionNumber(3, 44, 0))
        QSKIP(qPrintable(
            QStringLiteral("the system's SQLite (%1) is new enough").arg(systemVersion)));

    QCOMPARE(report.value(QStringLiteral("loaded")), QStringLiteral("0"));
    QCOMPARE(report.value(QStringLiteral("sqlite")), systemVersion);
    const QString error = report.value(QStringLiteral("error"));
    QVERIFY2(error.contains(QLatin1String("needs SQLite 3.44.0 or later")), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("uses SQLite %1").arg(systemVersion)),
             qPrintable(error));
}

void tst_PowerSync::cleanupTestCase()
{
    for (const QString &name : std::as_const(m_connections))
        TestSupport::closeDatabase(name);
}

QTEST_GUILESS_MAIN(tst_PowerSync)

#include "tst_powersync.moc"
