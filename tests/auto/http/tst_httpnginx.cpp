// The queue end to end through QHttpRemoteStorage and QPresignedRemoteStorage
// against nginx WebDAV (skipped when nginx is not installed).

#include "httpsuite.h"

namespace {

// Records the HTTP/2 settings of every GET, and the protocol of every answer.
class Http2RecordingManager : public QNetworkAccessManager
{
public:
    QList<QHttp2Configuration> configurations;
    QList<QVariant> http2Allowed;
    int answersOverHttp2 = 0;
    int answers = 0;

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *data) override
    {
        if (op == GetOperation) {
            configurations << request.http2Configuration();
            http2Allowed << request.attribute(QNetworkRequest::Http2AllowedAttribute);
        }
        QNetworkReply *reply = QNetworkAccessManager::createRequest(op, request, data);
        connect(reply, &QNetworkReply::finished, this, [this, reply] {
            ++answers;
            if (reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool())
                ++answersOverHttp2;
        });
        return reply;
    }
};

// nginx with a second port that speaks cleartext HTTP/2 (prior knowledge).
NginxServer::Options withHttp2()
{
    NginxServer::Options options;
    options.http2 = true;
    return options;
}

} // namespace

class tst_HttpNginx : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- the queue against nginx WebDAV ----------------------------------------

    // nginx honours If-Range: the same version resumes, a replaced one comes
    // whole. (Its ETag is the modification second and the size: a same-sized
    // replacement within the same second would keep it.)
    void resumeNeverMixesVersionsAgainstNginx()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        QHttpRemoteStorage storage;
        storage.setBaseUrl(nginx.url().resolved(QUrl(QStringLiteral("bucket/"))));
        const QString problem = TestSupport::checkResumeAcrossVersions(
            &storage, QAttachment(QStringLiteral("v"), QStringLiteral("versions.bin")));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void queueAgainstNginx_data()
    {
        QTest::addColumn<bool>("presigned");
        QTest::newRow("QHttpRemoteStorage") << false;
        QTest::newRow("QPresignedRemoteStorage") << true;
    }
    void queueAgainstNginx()
    {
        QFETCH(bool, presigned);
        NginxServer nginx;
        PSA_START_NGINX(nginx);

        TemporaryDatabase database;
        QVERIFY(database.isValid());
        const QString files = database.filesPath();

        std::unique_ptr<QAttachmentRemoteStorage> remote;
        int resolved = 0;
        if (presigned) {
            auto storage = std::make_unique<QPresignedRemoteStorage>();
            const QUrl base = nginx.url();
            storage->setResolver([base, &resolved](const QAttachment &attachment, Kind,
                                                   QPresignedRemoteStorage::ResolverCallback done) {
                ++resolved;
                QUrl url = base.resolved(QUrl(QStringLiteral("bucket/") + attachment.filename()));
                url.setQuery(QStringLiteral("expires=%1&sig=ff").arg(resolved));
                // Answer later, as a backend would.
                QTimer::singleShot(1, [url, done] { done(QPresignedRequest(url), {}); });
            });
            remote = std::move(storage);
        } else {
            auto storage = std::make_unique<QHttpRemoteStorage>();
            storage->setBaseUrl(nginx.url().resolved(QUrl(QStringLiteral("bucket/"))));
            remote = std::move(storage);
        }
        const QString remoteDir = nginx.rootPath() + QStringLiteral("/bucket/");

        auto queue = std::make_unique<QAttachmentQueue>();
        database.setUpQueue(*queue, remote.get());
        queue->setRetryDelay(20);
        queue->setMaxRetryDelay(200);
        QList<QAttachmentError> failures;
        connect(queue.get(), &QAttachmentQueue::transferFailed, this,
                [&](const QString &, Kind, const QAttachmentError &e, bool) { failures << e; });
        QVERIFY(queue->startSync());

        // Uploads: many at once, byte-identical on the server.
        QList<QWatchedAttachmentItem> watched;
        QHash<QString, QByteArray> uploaded;
        for (int i = 0; i < 24; ++i) {
            const QByteArray data = TestSupport::randomBytes(1000 + i * 7919, 100 + i);
            const QAttachment saved = queue->saveFile(
                data, QStringLiteral("application/octet-stream"), QStringLiteral("bin"));
            QVERIFY(saved.isValid());
            uploaded.insert(saved.id(), data);
            watched << QWatchedAttachmentItem(saved.id(), QStringLiteral("bin"));
        }
        // Downloads: objects that only the server has.
        QHash<QString, QByteArray> remoteOnly;
        QDir().mkpath(remoteDir);
        for (int i = 0; i < 24; ++i) {
            const QString id = QStringLiteral("server-%1").arg(i);
            const QByteArray data = TestSupport::randomBytes(500 + i * 10007, 300 + i);
            QFile file(remoteDir + id + QStringLiteral(".jpg"));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(data);
            remoteOnly.insert(id, data);
            watched << QWatchedAttachmentItem(id, QStringLiteral("jpg"));
        }
        queue->setWatchedAttachments(watched);
        const auto allSynced = [&] {
            for (const QWatchedAttachmentItem &item : watched) {
                if (queue->attachment(item.id()).state() != State::Synced)
                    return false;
            }
            return true;
        };
        PSA_WAIT(allSynced(), 30000);
        QVERIFY(failures.isEmpty());
        for (auto it = uploaded.cbegin(); it != uploaded.cend(); ++it)
            QCOMPARE(readFile(remoteDir + it.key() + QStringLiteral(".bin")), it.value());
        for (auto it = remoteOnly.cbegin(); it != remoteOnly.cend(); ++it) {
            const QAttachment row = queue->attachment(it.key());
            QCOMPARE(readFile(queue->localUrl(row).toLocalFile()), it.value());
        }

        // Delete: gone on both sides.
        const QString doomed = uploaded.keys().first();
        const QString doomedFile = doomed + QStringLiteral(".bin");
        QSignalSpy deleted(queue.get(), &QAttachmentQueue::deleteFinished);
        QVERIFY(queue->deleteFile(doomed));
        QVERIFY(deleted.wait(10000));
        QVERIFY(!QFile::exists(remoteDir + doomedFile));
        QVERIFY(!QFile::exists(files + QLatin1Char('/') + doomedFile));
        QVERIFY(!queue->attachment(doomed).isValid());

        // Archive when no longer referenced, restore when referenced again.
        const QString kept = uploaded.keys().at(1);
        const QString downloaded = QStringLiteral("server-3");
        const auto watchedWithout = [&](const QStringList &ids) {
            QList<QWatchedAttachmentItem> items;
            for (const QWatchedAttachmentItem &item : watched) {
                if (item.id() != doomed && !ids.contains(item.id()))
                    items << item;
            }
            return items;
        };
        queue->setWatchedAttachments(watchedWithout({kept}));
        PSA_WAIT(queue->attachment(kept).state() == State::Archived, 5000);
        queue->setWatchedAttachments(watchedWithout({}));
        // It reached the server before: nothing to transfer.
        QCOMPARE(queue->attachment(kept).state(), State::Synced);
        QCOMPARE(readFile(queue->localUrl(queue->attachment(kept)).toLocalFile()),
                 uploaded.value(kept));

        // An archived row beyond the cache limit goes with its local file; once
        // referenced again it is downloaded anew.
        queue->setWatchedAttachments(watchedWithout({downloaded}));
        PSA_WAIT(queue->attachment(downloaded).state() == State::Archived, 5000);
        const QString downloadedPath = queue->localUrl(queue->attachment(downloaded)).toLocalFile();
        queue->setArchivedCacheLimit(0); // expires at once while syncing
        QVERIFY(!queue->attachment(downloaded).isValid());
        QVERIFY(!QFile::exists(downloadedPath));
        queue->setWatchedAttachments(watchedWithout({}));
        PSA_WAIT(queue->attachment(downloaded).state() == State::Synced, 10000);
        QCOMPARE(readFile(queue->localUrl(queue->attachment(downloaded)).toLocalFile()),
                 remoteOnly.value(downloaded));
        QVERIFY(failures.isEmpty());
        if (presigned)
            QVERIFY(resolved >= 48 + 1 + 1);
    }

    // Qt 6.4 holds an HTTP/2 request body in memory: bodies over 1 MiB are
    // sent over HTTP/1.1 (streamed from the file), smaller ones may use HTTP/2.
    void largeUploadsAreNotOfferedHttp2()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        TemporaryDatabase database;
        QVERIFY(database.isValid());

        // Records whether each PUT was allowed to use HTTP/2, by body size.
        class RecordingManager : public QNetworkAccessManager
        {
        public:
            QHash<qint64, QVariant> http2AllowedBySize;

        protected:
            QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                         QIODevice *data) override
            {
                if (op == PutOperation)
                    http2AllowedBySize.insert(
                        request.header(QNetworkRequest::ContentLengthHeader).toLongLong(),
                        request.attribute(QNetworkRequest::Http2AllowedAttribute));
                return QNetworkAccessManager::createRequest(op, request, data);
            }
        } manager;
        QHttpRemoteStorage remote;
        remote.setNetworkAccessManager(&manager);
        remote.setBaseUrl(nginx.url(QStringLiteral("sizes/")));
        auto queue = std::make_unique<QAttachmentQueue>();
        database.setUpQueue(*queue, &remote);
        QVERIFY(queue->startSync());
        constexpr qint64 Small = 1024 * 1024;
        constexpr qint64 Large = 1024 * 1024 + 1;
        const QAttachment small = queue->saveFile(TestSupport::randomBytes(Small, 1),
                                                  QStringLiteral("application/octet-stream"));
        const QAttachment large = queue->saveFile(TestSupport::randomBytes(Large, 2),
                                                  QStringLiteral("application/octet-stream"));
        PSA_WAIT(queue->attachment(small.id()).state() == State::Synced
                     && queue->attachment(large.id()).state() == State::Synced,
                 20000);
        QVERIFY(manager.http2AllowedBySize.contains(Small));
        QVERIFY(manager.http2AllowedBySize.contains(Large));
        QVERIFY(!manager.http2AllowedBySize.value(Small).isValid()); // Qt's default: allowed
        QCOMPARE(manager.http2AllowedBySize.value(Large), QVariant(false));
    }

    // nginx's cleartext HTTP/2 port speaks nothing but HTTP/2: an upload gets
    // through only when the storage speaks it without asking first.
    void uploadsUseCleartextHttp2WithPriorKnowledge_data()
    {
        QTest::addColumn<bool>("priorKnowledge");
        QTest::newRow("prior knowledge") << true;
        QTest::newRow("default") << false;
    }
    void uploadsUseCleartextHttp2WithPriorKnowledge()
    {
        QFETCH(bool, priorKnowledge);
        NginxServer nginx(withHttp2());
        PSA_START_NGINX(nginx);
        TemporaryDatabase database;
        QVERIFY(database.isValid());

        QHttpRemoteStorage remote;
        QVERIFY(!remote.http2PriorKnowledge());
        QSignalSpy changed(&remote, &QNetworkRemoteStorage::http2PriorKnowledgeChanged);
        remote.setHttp2PriorKnowledge(priorKnowledge);
        QCOMPARE(changed.size(), priorKnowledge ? 1 : 0);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("h2/")));
        auto queue = std::make_unique<QAttachmentQueue>();
        database.setUpQueue(*queue, &remote);
        QSignalSpy failed(queue.get(), &QAttachmentQueue::transferFailed);
        QVERIFY(queue->startSync());
        QList<QAttachment> saved;
        for (int i = 0; i < 8; ++i) {
            saved << queue->saveFile(TestSupport::randomBytes(70000 + i, 40 + i),
                                     QStringLiteral("application/octet-stream"),
                                     QStringLiteral("bin"));
            QVERIFY(saved.last().isValid());
        }
        if (priorKnowledge) {
            const auto allSynced = [&] {
                for (const QAttachment &attachment : std::as_const(saved)) {
                    if (queue->attachment(attachment.id()).state() != State::Synced)
                        return false;
                }
                return true;
            };
            PSA_WAIT(allSynced(), 20000);
            QCOMPARE(failed.size(), 0);
            for (int i = 0; i < saved.size(); ++i)
                QCOMPARE(
                    readFile(nginx.rootPath() + QStringLiteral("/h2/") + saved.at(i).filename()),
                    TestSupport::randomBytes(70000 + i, 40 + i));
        } else {
            // HTTP/1.1 to an HTTP/2-only port fails; nothing is synced.
            QVERIFY(failed.wait(20000));
            QCOMPARE(queue->attachment(saved.first().id()).state(), State::QueuedUpload);
        }
    }
    // Once a response came over HTTP/2, the queue keeps maxHttp2Streams
    // transfers in flight without the app raising maxConcurrentTransfers;
    // with HTTP/1.1 to the same nginx it stays at the connections it has.
    void http2RaisesTransfersInFlight_data()
    {
        QTest::addColumn<bool>("http2");
        QTest::newRow("HTTP/2") << true;
        QTest::newRow("HTTP/1.1") << false;
    }
    void http2RaisesTransfersInFlight()
    {
        QFETCH(bool, http2);
        NginxServer nginx(withHttp2());
        PSA_START_NGINX(nginx);
        TemporaryDatabase database;
        QVERIFY(database.isValid());

        // Counts the transfers the queue has in flight at once.
        class CountingStorage : public QHttpRemoteStorage
        {
        public:
            int inFlight = 0;
            int maxInFlight = 0;
            QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override
            {
                QAttachmentTransfer *transfer = QHttpRemoteStorage::upload(attachment, source);
                maxInFlight = qMax(maxInFlight, ++inFlight);
                connect(transfer, &QAttachmentTransfer::finished, this, [this] { --inFlight; });
                return transfer;
            }
        } remote;
        remote.setMaxConnectionsPerHost(6);
        remote.setHttp2PriorKnowledge(http2);
        QSignalSpy suggested(&remote, &QNetworkRemoteStorage::suggestedConcurrentTransfersChanged);
        remote.setBaseUrl(http2 ? nginx.http2Url(QStringLiteral("many/"))
                                : nginx.url(QStringLiteral("many/")));
        auto queue = std::make_unique<QAttachmentQueue>();
        QCOMPARE(queue->maxConcurrentTransfers(), 6);
        database.setUpQueue(*queue, &remote);
        QVERIFY(queue->startSync());
        QList<QAttachment> saved;
        for (int i = 0; i < 80; ++i) {
            saved << queue->saveFile(TestSupport::randomBytes(2000 + i, 300 + i),
                                     QStringLiteral("application/octet-stream"),
                                     QStringLiteral("bin"));
            QVERIFY(saved.last().isValid());
        }
        const auto allSynced = [&] {
            for (const QAttachment &attachment : std::as_const(saved)) {
                if (queue->attachment(attachment.id()).state() != State::Synced)
                    return false;
            }
            return true;
        };
        PSA_WAIT(allSynced(), 30000);
        if (http2) {
            QCOMPARE(suggested.size(), 1);
            QCOMPARE(remote.suggestedConcurrentTransfers(), 32);
            // The first six ran before any answer; the rest up to 32 at once.
            QVERIFY2(remote.maxInFlight > 6, qPrintable(QString::number(remote.maxInFlight)));
            QVERIFY2(remote.maxInFlight <= 32, qPrintable(QString::number(remote.maxInFlight)));
        } else {
            QCOMPARE(suggested.size(), 0);
            QCOMPARE(remote.suggestedConcurrentTransfers(), 6);
            QCOMPARE(remote.maxInFlight, 6);
        }
    }

    // Downloads are no longer kept off HTTP/2: with prior knowledge they go to
    // nginx's cleartext HTTP/2 port (which speaks nothing else), every request
    // carries the small receive windows that bound what Qt buffers within
    // one answer, and the files arrive whole, also those several windows long.
    void downloadsUseHttp2WithSmallWindows()
    {
        NginxServer nginx(withHttp2());
        PSA_START_NGINX(nginx);
        const QList<qint64> sizes {1, 70000, 5 * 1024 * 1024 + 3};
        for (int i = 0; i < sizes.size(); ++i)
            QVERIFY(TestSupport::writeFile(nginx.rootPath() + QStringLiteral("/dl/f%1.bin").arg(i),
                                           TestSupport::randomBytes(sizes.at(i), 60 + i)));

        Http2RecordingManager manager;
        QHttpRemoteStorage remote;
        remote.setNetworkAccessManager(&manager);
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("dl/")));
        for (int i = 0; i < sizes.size(); ++i) {
            QBuffer sink;
            QVERIFY(sink.open(QIODevice::ReadWrite));
            std::unique_ptr<QAttachmentTransfer> transfer(remote.download(
                attachmentNamed(QStringLiteral("d%1").arg(i), QStringLiteral("f%1.bin").arg(i)),
                &sink));
            QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
            QVERIFY(finished.wait(20000));
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
            QCOMPARE(sink.data(), TestSupport::randomBytes(sizes.at(i), 60 + i));
        }
        // The largest comes in two parts of 4 MiB.
        const int requests = int(sizes.size()) + 1;
        QCOMPARE(manager.answers, requests);
        QCOMPARE(manager.answersOverHttp2, requests);
        QCOMPARE(manager.configurations.size(), requests);
        const QHttp2Configuration qtDefault = QNetworkRequest().http2Configuration();
        for (int i = 0; i < requests; ++i) {
            QVERIFY(manager.http2Allowed.at(i).toBool() || !manager.http2Allowed.at(i).isValid());
            const QHttp2Configuration &used = manager.configurations.at(i);
            QCOMPARE(used, QHttpExchange::http2Configuration());
            QVERIFY(used.streamReceiveWindowSize() < qtDefault.streamReceiveWindowSize());
            QVERIFY(used.streamReceiveWindowSize() <= 4u * 1024 * 1024);
            QVERIFY(used.sessionReceiveWindowSize() <= 16u * 1024 * 1024);
            QVERIFY(used.sessionReceiveWindowSize() < qtDefault.sessionReceiveWindowSize());
        }
    }

    // A download over HTTP/2 resumes with Range and If-Range as over HTTP/1.1.
    void resumeOverHttp2()
    {
        NginxServer nginx(withHttp2());
        PSA_START_NGINX(nginx);
        QHttpRemoteStorage storage;
        storage.setHttp2PriorKnowledge(true);
        storage.setBaseUrl(nginx.http2Url(QStringLiteral("bucket/")));
        const QString problem = TestSupport::checkResumeAcrossVersions(
            &storage, QAttachment(QStringLiteral("v"), QStringLiteral("versions.bin")));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    // HTTP/2 settings a caller gives its request are sent as they are.
    void ownHttp2ConfigurationWins()
    {
        NginxServer nginx(withHttp2());
        PSA_START_NGINX(nginx);
        QVERIFY(TestSupport::writeFile(nginx.rootPath() + QStringLiteral("/own/x.bin"),
                                       TestSupport::randomBytes(300000, 7)));

        Http2RecordingManager manager;
        QHttp2Configuration own;
        own.setStreamReceiveWindowSize(96 * 1024);
        own.setSessionReceiveWindowSize(3 * 1024 * 1024);
        QVERIFY(own != QHttpExchange::http2Configuration());
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer transfer(QAttachmentTransfer::Download, &manager);
        transfer.setHttp2PriorKnowledge(true);
        QHttpTransfer::Request request;
        request.request.setUrl(nginx.http2Url(QStringLiteral("own/x.bin")));
        request.request.setHttp2Configuration(own);
        request.sink = &sink;
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(20000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QCOMPARE(sink.data(), TestSupport::randomBytes(300000, 7));
        QCOMPARE(manager.configurations.size(), 1);
        QCOMPARE(manager.configurations.first(), own);
    }
};

QTEST_MAIN(tst_HttpNginx)
#include "tst_httpnginx.moc"
