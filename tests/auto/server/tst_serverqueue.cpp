// The attachment queue end to end through QHttpRemoteStorage against the
// embedded server: what the app saves lands byte-identical in the server's
// directory, what its data references comes back byte-identical, deletes and
// archiving reach both sides.

#include <attachmentsserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <resumecheck.h>
#include <testsupport.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

using TestSupport::readFile;
using TestSupport::writeFile;

class tst_ServerQueue : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<AttachmentsServer> m_server;
    std::unique_ptr<QHttpRemoteStorage> m_remote;
    std::unique_ptr<QAttachmentQueue> m_queue;
    QString m_connection;

    QString remoteFile(const QString &name) const
    {
        return m_dir->path() + QStringLiteral("/remote/") + name;
    }
    QString localFile(const QString &id) const { return m_queue->localUrl(id).toLocalFile(); }
    State stateOf(const QString &id) const { return m_queue->attachment(id).state(); }

    void exec(const QString &sql, const QVariantList &params = {})
    {
        QSqlQuery query(QSqlDatabase::database(m_connection));
        query.prepare(sql);
        for (const QVariant &value : params)
            query.addBindValue(value);
        if (!query.exec())
            qFatal("%s", qPrintable(query.lastError().text()));
    }

    void startServer(const QByteArray &token = {})
    {
        m_server = std::make_unique<AttachmentsServer>();
        m_server->setToken(token);
        QVERIFY2(m_server->start(m_dir->path() + QStringLiteral("/remote")),
                 qPrintable(m_server->errorString()));
        m_remote->setBaseUrl(m_server->url());
    }

    // Saves `data` as the photo of item `itemId`, in the same transaction.
    QAttachment savePhoto(const QString &itemId, const QByteArray &data)
    {
        QString error;
        const QAttachment saved = m_queue->saveFile(
            data, QStringLiteral("image/jpeg"), QStringLiteral("jpg"),
            [itemId](QAttachmentTransaction &tx, const QAttachment &attachment) {
                tx.execute(QStringLiteral("INSERT OR REPLACE INTO items (id, photo_id) "
                                          "VALUES (?, ?)"),
                           {itemId, attachment.id()});
                return true;
            },
            {}, &error);
        if (!saved.isValid())
            qWarning("saveFile failed: %s", qPrintable(error));
        return saved;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(!AttachmentsServer::program().isEmpty());
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
        exec(QStringLiteral("CREATE TABLE items (id TEXT PRIMARY KEY, photo_id TEXT)"));

        m_remote = std::make_unique<QHttpRemoteStorage>();
        m_remote->setTransferTimeout(20000);
        m_queue = std::make_unique<QAttachmentQueue>();
        m_queue->setConnectionName(m_connection);
        m_queue->setLocalDirectory(m_dir->path() + QStringLiteral("/local"));
        m_queue->setRemoteStorage(m_remote.get());
        m_queue->setSyncInterval(0);
        m_queue->setRetryDelay(20);
        m_queue->setMaxRetryDelay(200);
        m_queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM items "
                           "WHERE photo_id IS NOT NULL"));
        m_queue->setWatchTables({QStringLiteral("items")});
    }

    void cleanup()
    {
        m_queue.reset();
        m_remote.reset();
        m_server.reset();
        TestSupport::closeDatabase(m_connection);
        m_dir.reset();
    }

    void savedFileIsUploaded()
    {
        startServer();
        const QByteArray data = TestSupport::randomBytes(2 * 1024 * 1024 + 3, 21);
        QSignalSpy uploaded(m_queue.get(), &QAttachmentQueue::uploadFinished);
        const QAttachment saved = savePhoto(QStringLiteral("item-1"), data);
        QVERIFY(saved.isValid());
        QVERIFY(m_queue->startSync());

        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        QVERIFY(m_queue->attachment(saved.id()).hasSynced());
        QCOMPARE(uploaded.size(), 1);
        const QByteArray onServer = readFile(remoteFile(saved.filename()));
        QCOMPARE(onServer.size(), data.size());
        QVERIFY(onServer == data);
        QVERIFY(readFile(localFile(saved.id())) == data);
    }

    // Directories named in the path template are created on the server.
    void nestedPathTemplate()
    {
        startServer();
        m_remote->setPathTemplate(QStringLiteral("photos/{id}/{filename}"));
        QVERIFY(m_queue->startSync());
        const QAttachment saved = savePhoto(QStringLiteral("item-n"), "nested bytes");
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        QCOMPARE(readFile(remoteFile(QStringLiteral("photos/") + saved.id() + QLatin1Char('/')
                                     + saved.filename())),
                 QByteArray("nested bytes"));

        QVERIFY(writeFile(remoteFile(QStringLiteral("photos/n2/n2.jpg")), "from a folder"));
        exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('item-n2', 'n2')"));
        m_queue->refreshWatchQuery();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("n2")), State::Synced, 20000);
        QCOMPARE(readFile(localFile(QStringLiteral("n2"))), QByteArray("from a folder"));
    }

    void referencedFileIsDownloaded()
    {
        startServer();
        const QByteArray data = TestSupport::randomBytes(3 * 1024 * 1024 + 5, 22);
        QVERIFY(writeFile(remoteFile(QStringLiteral("from-server.jpg")), data));
        QVERIFY(m_queue->startSync());

        exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('item-2', 'from-server')"));
        m_queue->refreshWatchQuery();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("from-server")), State::Synced, 20000);
        const QAttachment row = m_queue->attachment(QStringLiteral("from-server"));
        QCOMPARE(row.filename(), QStringLiteral("from-server.jpg"));
        QVERIFY(row.hasSynced());
        const QByteArray local = readFile(localFile(row.id()));
        QCOMPARE(local.size(), data.size());
        QVERIFY(local == data);
    }

    void missingRemoteFileIsNotMarkedSynced()
    {
        startServer();
        QVERIFY(m_queue->startSync());
        QSignalSpy failed(m_queue.get(), &QAttachmentQueue::transferFailed);
        exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES ('item-3', 'nowhere')"));
        m_queue->refreshWatchQuery();
        QVERIFY(failed.wait(20000));
        QCOMPARE(failed.first().at(0).toString(), QStringLiteral("nowhere"));
        QCOMPARE(failed.first().at(2).value<QAttachmentError>().httpStatus(), 404);
        QVERIFY(stateOf(QStringLiteral("nowhere")) != State::Synced);
        QVERIFY(localFile(QStringLiteral("nowhere")).isEmpty()
                || !QFileInfo::exists(localFile(QStringLiteral("nowhere"))));

        // Once the file shows up on the server, a retry gets it.
        QVERIFY(writeFile(remoteFile(QStringLiteral("nowhere.jpg")), "late"));
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(QStringLiteral("nowhere")), State::Synced, 20000);
        QCOMPARE(readFile(localFile(QStringLiteral("nowhere"))), QByteArray("late"));
    }

    void deleteRemovesBothCopies()
    {
        startServer();
        QVERIFY(m_queue->startSync());
        const QAttachment saved = savePhoto(QStringLiteral("item-4"), "to be deleted");
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        const QString local = localFile(saved.id());
        QVERIFY(QFileInfo::exists(local));
        QVERIFY(QFileInfo::exists(remoteFile(saved.filename())));

        QSignalSpy deleted(m_queue.get(), &QAttachmentQueue::deleteFinished);
        QVERIFY(m_queue->deleteFile(
            saved.id(), [](QAttachmentTransaction &tx, const QAttachment &attachment) {
                tx.execute(QStringLiteral("UPDATE items SET photo_id = NULL WHERE photo_id = ?"),
                           {attachment.id()});
                return true;
            }));
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(saved.id()).isValid(), 20000);
        QCOMPARE(deleted.size(), 1);
        QVERIFY(!QFileInfo::exists(remoteFile(saved.filename())));
        QVERIFY(!QFileInfo::exists(local));
    }

    void archiveAndRestore()
    {
        startServer();
        QVERIFY(m_queue->startSync());
        const QByteArray data = TestSupport::randomBytes(512 * 1024, 23);
        const QAttachment saved = savePhoto(QStringLiteral("item-5"), data);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        const QString local = localFile(saved.id());

        // No longer referenced: archived, both copies kept.
        exec(QStringLiteral("UPDATE items SET photo_id = NULL WHERE id = 'item-5'"));
        m_queue->refreshWatchQuery();
        QCOMPARE(stateOf(saved.id()), State::Archived);
        QVERIFY(readFile(local) == data);
        QVERIFY(readFile(remoteFile(saved.filename())) == data);

        // Referenced again: synced at once, nothing transferred.
        QSignalSpy started(m_queue.get(), &QAttachmentQueue::transferStarted);
        exec(QStringLiteral("UPDATE items SET photo_id = ? WHERE id = 'item-5'"), {saved.id()});
        m_queue->refreshWatchQuery();
        QCOMPARE(stateOf(saved.id()), State::Synced);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 20000);
        QCOMPARE(started.size(), 0);

        // Archived again and expired from the cache: the local copy goes, and
        // a later reference downloads it from the server.
        m_queue->setArchivedCacheLimit(0);
        exec(QStringLiteral("UPDATE items SET photo_id = NULL WHERE id = 'item-5'"));
        m_queue->refreshWatchQuery();
        QTRY_VERIFY_WITH_TIMEOUT(!m_queue->attachment(saved.id()).isValid(), 20000);
        QVERIFY(!QFileInfo::exists(local));
        QVERIFY(readFile(remoteFile(saved.filename())) == data);

        exec(QStringLiteral("UPDATE items SET photo_id = ? WHERE id = 'item-5'"), {saved.id()});
        m_queue->refreshWatchQuery();
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        QCOMPARE(started.size(), 1);
        QCOMPARE(started.first().at(1).value<Kind>(), Kind::Download);
        QVERIFY(readFile(localFile(saved.id())) == data);
    }

    void manyFilesBothWays()
    {
        startServer();
        m_queue->setMaxConcurrentTransfers(6);
        QVERIFY(m_queue->startSync());
        QHash<QString, QByteArray> saved;
        for (int i = 0; i < 40; ++i) {
            const QByteArray data = TestSupport::randomBytes(16 * 1024 + i, quint32(100 + i));
            const QAttachment attachment = savePhoto(QStringLiteral("up-%1").arg(i), data);
            QVERIFY(attachment.isValid());
            saved.insert(attachment.filename(), data);
        }
        QHash<QString, QByteArray> served;
        for (int i = 0; i < 40; ++i) {
            const QString id = QStringLiteral("down-%1").arg(i);
            const QByteArray data = TestSupport::randomBytes(16 * 1024 + i, quint32(200 + i));
            QVERIFY(writeFile(remoteFile(id + QStringLiteral(".jpg")), data));
            exec(QStringLiteral("INSERT INTO items (id, photo_id) VALUES (?, ?)"),
                 {QString(QStringLiteral("item-") + id), id});
            served.insert(id, data);
        }
        m_queue->refreshWatchQuery();
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle() && m_queue->pendingUploads() == 0
                                     && m_queue->pendingDownloads() == 0,
                                 60000);
        for (auto it = saved.cbegin(); it != saved.cend(); ++it)
            QVERIFY2(readFile(remoteFile(it.key())) == it.value(), qPrintable(it.key()));
        for (auto it = served.cbegin(); it != served.cend(); ++it) {
            QCOMPARE(stateOf(it.key()), State::Synced);
            QVERIFY2(readFile(localFile(it.key())) == it.value(), qPrintable(it.key()));
        }
    }

    // A rejected token is refreshed once and the transfer goes through.
    void bearerTokenIsRefreshed()
    {
        startServer("the-right-token");
        QList<bool> asked;
        m_remote->setTokenProvider(
            [&asked](bool refresh, const QHttpRemoteStorage::TokenCallback &done) {
                asked.append(refresh);
                done(refresh ? QStringLiteral("the-right-token") : QStringLiteral("stale"), {});
            });
        QVERIFY(m_queue->startSync());
        const QAttachment saved = savePhoto(QStringLiteral("item-6"), "authorized bytes");
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(saved.id()), State::Synced, 20000);
        QCOMPARE(readFile(remoteFile(saved.filename())), QByteArray("authorized bytes"));
        QCOMPARE(asked, (QList<bool> {false, true}));
    }

    // Resumed downloads against the embedded server, which honours If-Range:
    // the same version resumes, a replaced one comes whole.
    void resumeNeverMixesVersions()
    {
        startServer();
        const QString problem = TestSupport::checkResumeAcrossVersions(
            m_remote.get(), QAttachment(QStringLiteral("v"), QStringLiteral("versions.bin")));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
};

QTEST_GUILESS_MAIN(tst_ServerQueue)
#include "tst_serverqueue.moc"
