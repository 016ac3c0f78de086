// The value types and the table definition.

#include <qattachment.h>
#include <qattachmenterror.h>
#include <qattachmentqueue.h>
#include <qattachmentqueuetable.h>
#include <qattachmentstate.h>
#include <qwatchedattachmentitem.h>
#include <testsupport.h>

#include <QtCore/qmetaobject.h>
#include <QtCore/qtemporarydir.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>
#include <QtTest/qtest.h>

class tst_Types : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_connection;
    QSqlDatabase db() const { return QSqlDatabase::database(m_connection); }
    QStringList columnsOf(const QString &table) const
    {
        QStringList names;
        const QSqlRecord record = db().record(table);
        for (int i = 0; i < record.count(); ++i)
            names << record.fieldName(i);
        return names;
    }

private Q_SLOTS:
    void init() { m_connection = TestSupport::openDatabase(m_dir.path()); }
    void cleanup() { TestSupport::closeDatabase(m_connection); }

    void stateValuesAreStable()
    {
        QCOMPARE(QAttachmentState::toInt(QAttachmentState::QueuedDownload), 0);
        QCOMPARE(QAttachmentState::toInt(QAttachmentState::QueuedUpload), 1);
        QCOMPARE(QAttachmentState::toInt(QAttachmentState::QueuedDelete), 2);
        QCOMPARE(QAttachmentState::toInt(QAttachmentState::Synced), 3);
        QCOMPARE(QAttachmentState::toInt(QAttachmentState::Archived), 4);
    }

    void stateFromIntRoundTrips()
    {
        for (int i = 0; i <= 4; ++i)
            QCOMPARE(QAttachmentState::toInt(QAttachmentState::fromInt(i).value()), i);
    }

    void stateFromIntRejectsOutOfRange_data()
    {
        QTest::addColumn<int>("value");
        QTest::newRow("-1") << -1;
        QTest::newRow("5") << 5;
        QTest::newRow("large") << 20;
    }
    void stateFromIntRejectsOutOfRange()
    {
        QFETCH(int, value);
        QString error;
        QVERIFY(!QAttachmentState::fromInt(value, &error).has_value());
        QVERIFY(error.contains(QString::number(value)));
    }

    void stateNamesFollowTheSpecification()
    {
        QCOMPARE(QAttachmentState::name(QAttachmentState::QueuedDownload),
                 QStringLiteral("queuedDownload"));
        QCOMPARE(QAttachmentState::name(QAttachmentState::Archived), QStringLiteral("archived"));
    }

    void attachmentIsAGadgetWithEveryField()
    {
        QAttachment attachment(QStringLiteral("id1"), QStringLiteral("id1.jpg"),
                               QAttachmentState::Synced);
        attachment.setTimestamp(42);
        attachment.setLocalUri(QStringLiteral("id1.jpg"));
        attachment.setMediaType(QStringLiteral("image/jpeg"));
        attachment.setSize(7);
        attachment.setHasSynced(true);
        attachment.setMetaData(QStringLiteral("{}"));
        const QMetaObject &meta = QAttachment::staticMetaObject;
        auto read = [&](const char *name) {
            return meta.property(meta.indexOfProperty(name)).readOnGadget(&attachment);
        };
        QCOMPARE(read("id").toString(), QStringLiteral("id1"));
        QCOMPARE(read("timestamp").toLongLong(), 42);
        QCOMPARE(read("filename").toString(), QStringLiteral("id1.jpg"));
        QCOMPARE(read("state").value<QAttachmentState::State>(), QAttachmentState::Synced);
        QCOMPARE(read("localUri").toString(), QStringLiteral("id1.jpg"));
        QCOMPARE(read("mediaType").toString(), QStringLiteral("image/jpeg"));
        QCOMPARE(read("size").toLongLong(), 7);
        QCOMPARE(read("hasSynced").toBool(), true);
        QCOMPARE(read("metaData").toString(), QStringLiteral("{}"));
        QCOMPARE(read("valid").toBool(), true);
        QVERIFY(!QAttachment().isValid());
        QCOMPARE(QAttachment().size(), -1);
    }

    void watchedItemNeedsExtensionOrFilename()
    {
        QVERIFY(QWatchedAttachmentItem(QStringLiteral("a"), QStringLiteral("jpg")).isValid());
        QVERIFY(QWatchedAttachmentItem(QStringLiteral("a"), {}, QStringLiteral("a.jpg")).isValid());
        QVERIFY(!QWatchedAttachmentItem(QStringLiteral("a"), {}).isValid());
        QVERIFY(!QWatchedAttachmentItem({}, QStringLiteral("jpg")).isValid());
    }

    void errorRetryability_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::addColumn<bool>("retryable");
        QTest::newRow("404") << 404 << int(QAttachmentError::NotFound) << false;
        QTest::newRow("401") << 401 << int(QAttachmentError::Unauthorized) << false;
        QTest::newRow("403") << 403 << int(QAttachmentError::Unauthorized) << false;
        QTest::newRow("400") << 400 << int(QAttachmentError::ClientError) << false;
        QTest::newRow("408") << 408 << int(QAttachmentError::Timeout) << true;
        QTest::newRow("429") << 429 << int(QAttachmentError::RateLimited) << true;
        QTest::newRow("500") << 500 << int(QAttachmentError::ServerError) << true;
        QTest::newRow("503") << 503 << int(QAttachmentError::ServerError) << true;
    }
    void errorRetryability()
    {
        QFETCH(int, status);
        QFETCH(int, code);
        QFETCH(bool, retryable);
        const QAttachmentError error = QAttachmentError::fromHttpStatus(status);
        QCOMPARE(int(error.code()), code);
        QCOMPARE(error.isRetryable(), retryable);
        QCOMPARE(error.httpStatus(), status);
        QVERIFY(error.message().contains(QString::number(status)));
    }

    void namesAreValidated_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("uuid") << QStringLiteral("0f8fad5b-d9cb-469f-a165-70867728950e.jpg") << true;
        QTest::newRow("unicode") << QStringLiteral("foto \u00e9t\u00e9.jpg") << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("dot") << QStringLiteral(".") << false;
        QTest::newRow("dotdot") << QStringLiteral("..") << false;
        QTest::newRow("slash") << QStringLiteral("a/b") << false;
        QTest::newRow("backslash") << QStringLiteral("a\\b") << false;
        QTest::newRow("absolute") << QStringLiteral("/etc/passwd") << false;
        QTest::newRow("traversal") << QStringLiteral("../../.bashrc") << false;
        QTest::newRow("control") << QStringLiteral("a\tb") << false;
        QTest::newRow("nul") << QString(QChar(0)) << false;
        QTest::newRow("255 bytes") << QString(255, QLatin1Char('x')) << true;
        QTest::newRow("256 bytes") << QString(256, QLatin1Char('x')) << false;
        QTest::newRow("drive") << QStringLiteral("C:evil") << false;
        // Measured encoded: 85 three-byte characters are 255 bytes, 86 are 258.
        QTest::newRow("255 bytes encoded") << QString(85, QChar(0x20ac)) << true;
        QTest::newRow("258 bytes encoded") << QString(86, QChar(0x20ac)) << false;
        QTest::newRow("lone high surrogate")
            << (QStringLiteral("a") + QChar(0xd800) + QStringLiteral(".jpg")) << false;
        QTest::newRow("lone low surrogate") << (QStringLiteral("a") + QChar(0xdc00)) << false;
        QTest::newRow("surrogate pair")
            << (QStringLiteral("a") + QChar(0xd83d) + QChar(0xde00) + QStringLiteral(".jpg"))
            << true;
        QTest::newRow("255 lone surrogates") << QString(255, QChar(0xd800)) << false;
        // A file synced from Linux must not break a Windows or Android device.
        QTest::newRow("con") << QStringLiteral("con") << false;
        QTest::newRow("aux.txt") << QStringLiteral("aux.txt") << false;
        QTest::newRow("COM1.jpg") << QStringLiteral("COM1.jpg") << false;
        QTest::newRow("lpt9") << QStringLiteral("LPT9") << false;
        QTest::newRow("console.txt") << QStringLiteral("console.txt") << true;
        QTest::newRow("com10") << QStringLiteral("com10.txt") << true;
        QTest::newRow("trailing dot") << QStringLiteral("photo.") << false;
        QTest::newRow("trailing space") << QStringLiteral("photo.jpg ") << false;
        QTest::newRow("colon") << QStringLiteral("a:b.jpg") << false;
        QTest::newRow("less") << QStringLiteral("a<b") << false;
        QTest::newRow("greater") << QStringLiteral("a>b") << false;
        QTest::newRow("quote") << QStringLiteral("a\"b") << false;
        QTest::newRow("pipe") << QStringLiteral("a|b") << false;
        QTest::newRow("question") << QStringLiteral("a?b") << false;
        QTest::newRow("star") << QStringLiteral("a*b") << false;
    }
    void namesAreValidated()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QString error;
        QCOMPARE(QAttachmentQueue::isValidName(name, &error), valid);
        QCOMPARE(error.isEmpty(), valid);
    }

    void tableIdentifiersAreValidated_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("default") << QStringLiteral("attachments_queue") << true;
        QTest::newRow("leading underscore") << QStringLiteral("_t1") << true;
        QTest::newRow("injection") << QStringLiteral("t; DROP TABLE x") << false;
        QTest::newRow("quote") << QStringLiteral("t\"") << false;
        QTest::newRow("digit first") << QStringLiteral("1t") << false;
        QTest::newRow("empty") << QString() << false;
    }
    void tableIdentifiersAreValidated()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QCOMPARE(QAttachmentQueueTable::isValidIdentifier(name), valid);
        QCOMPARE(QAttachmentQueueTable(name).validate().isEmpty(), valid);
    }

    void tableCreationIsIdempotent()
    {
        QAttachmentQueueTable table;
        QString error;
        QVERIFY2(table.create(db(), &error), qPrintable(error));
        QSqlQuery(db()).exec(
            QStringLiteral("INSERT INTO attachments_queue (id, state) VALUES ('x', 3)"));
        QVERIFY2(table.create(db(), &error), qPrintable(error));
        QSqlQuery count(db());
        QVERIFY(count.exec(QStringLiteral("SELECT COUNT(*) FROM attachments_queue"))
                && count.next());
        QCOMPARE(count.value(0).toInt(), 1);
        QCOMPARE(columnsOf(QStringLiteral("attachments_queue")),
                 (QStringList {"id", "filename", "local_uri", "timestamp", "size", "media_type",
                               "state", "has_synced", "meta_data"}));
    }

    void tableGainsMissingColumnsKeepingRows()
    {
        QVERIFY(QSqlQuery(db()).exec(QStringLiteral(
            "CREATE TABLE files (id TEXT PRIMARY KEY, filename TEXT, state INTEGER)")));
        QVERIFY(
            QSqlQuery(db()).exec(QStringLiteral("INSERT INTO files VALUES ('old', 'old.jpg', 3)")));
        QAttachmentQueueTable table(QStringLiteral("files"));
        table.setAdditionalColumns({{QStringLiteral("owner"), QStringLiteral("TEXT")}});
        QString error;
        QVERIFY2(table.create(db(), &error), qPrintable(error));
        const QStringList columns = columnsOf(QStringLiteral("files"));
        QVERIFY(columns.contains(QStringLiteral("meta_data")));
        QVERIFY(columns.contains(QStringLiteral("owner")));
        QSqlQuery row(db());
        QVERIFY(row.exec(QStringLiteral("SELECT filename, state FROM files WHERE id = 'old'"))
                && row.next());
        QCOMPARE(row.value(0).toString(), QStringLiteral("old.jpg"));
        QCOMPARE(row.value(1).toInt(), 3);
    }

    void tableCreatesIndexesAndView()
    {
        QAttachmentQueueTable table;
        table.setAdditionalColumns({{QStringLiteral("owner"), QStringLiteral("TEXT")}});
        table.setIndexes({{QStringLiteral("by_owner"), {QStringLiteral("owner")}}});
        table.setViewName(QStringLiteral("attachments"));
        QString error;
        QVERIFY2(table.create(db(), &error), qPrintable(error));
        QSqlQuery query(db());
        QVERIFY(query.exec(QStringLiteral("SELECT type, name FROM sqlite_master WHERE name IN "
                                          "('by_owner', 'attachments') ORDER BY name")));
        QStringList found;
        while (query.next())
            found << query.value(0).toString() + QLatin1Char(':') + query.value(1).toString();
        QCOMPARE(found, (QStringList {"view:attachments", "index:by_owner"}));
    }

    void tableDefinitionErrorsAreClear_data()
    {
        QTest::addColumn<QString>("column");
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("expected");
        QTest::newRow("duplicate")
            << QStringLiteral("state") << QStringLiteral("TEXT") << QStringLiteral("twice");
        QTest::newRow("bad name") << QStringLiteral("a b") << QStringLiteral("TEXT")
                                  << QStringLiteral("column name");
        QTest::newRow("bad type") << QStringLiteral("c") << QStringLiteral("TEXT); DROP")
                                  << QStringLiteral("type");
    }
    void tableDefinitionErrorsAreClear()
    {
        QFETCH(QString, column);
        QFETCH(QString, type);
        QFETCH(QString, expected);
        QAttachmentQueueTable table;
        table.setAdditionalColumns({{column, type}});
        QString error;
        QVERIFY(!table.create(db(), &error));
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY(!db().tables().contains(QStringLiteral("attachments_queue")));
    }
};

QTEST_GUILESS_MAIN(tst_Types)
#include "tst_types.moc"
