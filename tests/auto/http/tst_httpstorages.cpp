// The HTTP and presigned storages against the fault server: URLs, settings,
// headers, tokens and resolvers, and what happens when the app, the manager or
// the storage goes away mid-request.

#include "httpsuite.h"

#include <qnetworkremotestorage.h>
#include <qs3remotestorage.h>

class tst_HttpStorages : public FaultServerSuite
{
    Q_OBJECT

private Q_SLOTS:
    // --- storages' configuration -----------------------------------------------

    void urlTemplate()
    {
        QHttpRemoteStorage storage;
        storage.setBaseUrl(QUrl(QStringLiteral("https://files.example.org/base/dir?tenant=7")));
        const QAttachment a = attachmentNamed(
            QStringLiteral("id 1/2"), QStringLiteral("päth?#%.jpg"), QStringLiteral("image/jpeg"));
        QCOMPARE(storage.urlFor(a).toString(QUrl::FullyEncoded),
                 QStringLiteral("https://files.example.org/base/dir/p%C3%A4th%3F%23%25.jpg"
                                "?tenant=7"));
        storage.setPathTemplate(QStringLiteral("/{mediaType}/{id}/{filename}"));
        QCOMPARE(storage.urlFor(a).toString(QUrl::FullyEncoded),
                 QStringLiteral("https://files.example.org/base/dir/image%2Fjpeg/id%201%2F2/"
                                "p%C3%A4th%3F%23%25.jpg?tenant=7"));
    }

    void settingsNotify()
    {
        QHttpRemoteStorage storage;
        QCOMPARE(storage.pathTemplate(), QStringLiteral("{filename}"));
        QCOMPARE(storage.uploadMethod(), QStringLiteral("PUT"));
        QCOMPARE(storage.transferTimeout(), 60000);
        QSignalSpy changed(&storage, &QAttachmentRemoteStorage::configurationChanged);
        QSignalSpy base(&storage, &QHttpRemoteStorage::baseUrlChanged);
        QSignalSpy path(&storage, &QHttpRemoteStorage::pathTemplateChanged);
        QSignalSpy method(&storage, &QHttpRemoteStorage::uploadMethodChanged);
        QSignalSpy headers(&storage, &QHttpRemoteStorage::headersChanged);
        QSignalSpy timeout(&storage, &QHttpRemoteStorage::transferTimeoutChanged);
        storage.setBaseUrl(QUrl(QStringLiteral("http://127.0.0.1/")));
        storage.setBaseUrl(QUrl(QStringLiteral("http://127.0.0.1/")));
        storage.setPathTemplate(QStringLiteral("{id}"));
        storage.setUploadMethod(QStringLiteral("post"));
        storage.setHeaders({{QStringLiteral("X-App"), QStringLiteral("demo")}});
        storage.setTransferTimeout(1000);
        storage.setTokenProvider(
            [](bool, QHttpRemoteStorage::TokenCallback done) { done(QStringLiteral("t"), {}); });
        QCOMPARE(base.count(), 1);
        QCOMPARE(path.count(), 1);
        QCOMPARE(method.count(), 1);
        QCOMPARE(storage.uploadMethod(), QStringLiteral("POST"));
        QCOMPARE(headers.count(), 1);
        QCOMPARE(timeout.count(), 1);
        QCOMPARE(changed.count(), 6);

        QPresignedRemoteStorage presigned;
        QSignalSpy presignedChanged(&presigned, &QAttachmentRemoteStorage::configurationChanged);
        presigned.setTransferTimeout(5);
        presigned.setResolver({});
        QCOMPARE(presignedChanged.count(), 2);
    }

    void staticHeadersAndMethod()
    {
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        storage.setPathTemplate(QStringLiteral("up/{id}"));
        storage.setUploadMethod(QStringLiteral("POST"));
        storage.setHeaders({{QStringLiteral("X-Tenant"), 42}});
        QBuffer body;
        body.setData("payload");
        QVERIFY(body.open(QIODevice::ReadOnly));
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.upload(attachmentNamed(QStringLiteral("i"), QStringLiteral("i.txt"),
                                           QStringLiteral("text/plain")),
                           &body));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        const FaultServer::Request seen = m_server->requests().first();
        QCOMPARE(seen.method, "POST");
        QCOMPARE(seen.path, QStringLiteral("/up/i"));
        QCOMPARE(seen.headers.value("x-tenant"), "42");
        QCOMPARE(seen.headers.value("content-type"), "text/plain");
        QVERIFY(!seen.headers.contains("authorization"));
    }

    void withoutBaseUrlFails()
    {
        QHttpRemoteStorage storage;
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.remove(attachmentNamed(QStringLiteral("x"), QStringLiteral("x"))));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::InvalidInput);
    }

    // Several requests waiting for a token share one provider call.
    void tokenRequestsAreShared()
    {
        m_server->setRequiredToken("shared");
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        int calls = 0;
        QHttpRemoteStorage::TokenCallback pending;
        storage.setTokenProvider([&](bool, QHttpRemoteStorage::TokenCallback done) {
            ++calls;
            pending = done;
        });
        std::vector<std::unique_ptr<QAttachmentTransfer>> transfers;
        for (int i = 0; i < 3; ++i)
            transfers.emplace_back(
                storage.remove(attachmentNamed(QString::number(i), QStringLiteral("f%1").arg(i))));
        PSA_WAIT(pending, 5000);
        QCOMPARE(calls, 1);
        pending(QStringLiteral("shared"), {});
        for (auto &t : transfers)
            PSA_WAIT(t->isFinished(), 5000);
        for (auto &t : transfers)
            QVERIFY2(!t->error().isError(), qPrintable(t->error().message()));
        QCOMPARE(calls, 1);
        QCOMPARE(m_server->requestCount("DELETE"), 3);
    }

    // A stream read once cannot be sent again after a 401: the upload fails
    // instead of sending what is left of it (nothing) as the object.
    void rejectedStreamUploadIsNotRepeated()
    {
        m_server->setRequiredToken("fresh");
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        int calls = 0;
        storage.setTokenProvider([&](bool, QHttpRemoteStorage::TokenCallback done) {
            ++calls;
            done(calls == 1 ? QStringLiteral("stale") : QStringLiteral("fresh"), {});
        });
        OneWayStream stream(QByteArray(5000, 's'));
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.upload(attachmentNamed(QStringLiteral("s"), QStringLiteral("s.bin")), &stream));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::Unauthorized);
        QCOMPARE(m_server->requestCount("PUT"), 1);
        QVERIFY(!m_server->objects().contains(QStringLiteral("/s.bin")));
        // The rejected token was replaced: the next attempt goes through.
        QCOMPARE(calls, 2);
        OneWayStream again(QByteArray(5000, 's'));
        transfer.reset(
            storage.upload(attachmentNamed(QStringLiteral("s"), QStringLiteral("s.bin")), &again));
        QSignalSpy finishedAgain(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finishedAgain.wait(5000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->objects().value(QStringLiteral("/s.bin")), QByteArray(5000, 's'));
    }

    // A token provider or resolver that never answers must not hold a
    // transfer (and with it one of the queue's slots) for good.
    void silentCallbackEndsAsTimeout()
    {
        QHttpRemoteStorage http;
        http.setBaseUrl(m_server->url());
        http.setTransferTimeout(200);
        http.setTokenProvider([](bool, QHttpRemoteStorage::TokenCallback) {});
        QPresignedRemoteStorage presigned;
        presigned.setTransferTimeout(200);
        presigned.setResolver([](const QAttachment &, QAttachmentTransfer::Kind,
                                 QPresignedRemoteStorage::ResolverCallback) {});
        for (QAttachmentRemoteStorage *storage :
             {static_cast<QAttachmentRemoteStorage *>(&http),
              static_cast<QAttachmentRemoteStorage *>(&presigned)}) {
            std::unique_ptr<QAttachmentTransfer> transfer(
                storage->remove(attachmentNamed(QStringLiteral("t"), QStringLiteral("t"))));
            QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
            QVERIFY(finished.wait(5000));
            QCOMPARE(transfer->error().code(), Code::Timeout);
            QVERIFY(transfer->error().isRetryable());
        }
        QCOMPARE(m_server->requests().size(), 0);
    }

    // Destroying a transfer while the app still computes its token is safe.
    void lateTokenAfterAbort()
    {
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        QHttpRemoteStorage::TokenCallback pending;
        storage.setTokenProvider(
            [&](bool, QHttpRemoteStorage::TokenCallback done) { pending = done; });
        QAttachmentTransfer *transfer
            = storage.remove(attachmentNamed(QStringLiteral("l"), QStringLiteral("l")));
        PSA_WAIT(pending, 5000);
        QSignalSpy finished(transfer, &QAttachmentTransfer::finished);
        transfer->abort();
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::Cancelled);
        delete transfer;
        pending(QStringLiteral("late"), {});
        // The late token is kept for the next request; the cancelled one never goes out.
        std::unique_ptr<QAttachmentTransfer> next(
            storage.remove(attachmentNamed(QStringLiteral("m"), QStringLiteral("m"))));
        QSignalSpy nextFinished(next.get(), &QAttachmentTransfer::finished);
        QVERIFY(nextFinished.wait(5000));
        QCOMPARE(m_server->requests().size(), 1);
        QCOMPARE(m_server->requests().first().path, QStringLiteral("/m"));
        QCOMPARE(m_server->requests().first().headers.value("authorization"), "Bearer late");
    }

    // A manager destroyed under a running exchange ends it instead of leaving it hanging.
    void managerDestroyedDuringExchange()
    {
        m_server->addFault("GET", Fault::of(Fault::Stall));
        auto *manager = new QNetworkAccessManager;
        QHttpTransfer transfer(Kind::Download, manager);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        QSignalSpy received(m_server.get(), &FaultServer::requestReceived);
        transfer.start(get(QStringLiteral("/gone")));
        QVERIFY(received.wait(5000));
        delete manager;
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer.error().code(), Code::NetworkError);
    }

    // The storage, and the manager it made, may go while the resolver is still
    // busy: its late answer then fails the transfer instead of using the manager.
    void presignedStorageDestroyedBeforeResolverAnswers()
    {
        m_server->objects().insert(QStringLiteral("/late.bin"), "late");
        auto storage = std::make_unique<QPresignedRemoteStorage>();
        QPresignedRemoteStorage::ResolverCallback pending;
        storage->setResolver(
            [&](const QAttachment &, Kind, QPresignedRemoteStorage::ResolverCallback done) {
                pending = done;
            });
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        std::unique_ptr<QAttachmentTransfer> transfer(storage->download(
            attachmentNamed(QStringLiteral("r"), QStringLiteral("late.bin")), &sink));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        PSA_WAIT(bool(pending), 5000);
        storage.reset();
        pending(QPresignedRequest(m_server->url().resolved(QUrl(QStringLiteral("late.bin")))), {});
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::NetworkError);
        QCOMPARE(sink.size(), 0);
        QCOMPARE(finished.count(), 1);
    }

    // The same for an app's manager destroyed while the token is computed.
    void managerDestroyedBeforeTokenArrives()
    {
        auto manager = std::make_unique<QNetworkAccessManager>();
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        storage.setNetworkAccessManager(manager.get());
        QHttpRemoteStorage::TokenCallback pending;
        storage.setTokenProvider(
            [&](bool, QHttpRemoteStorage::TokenCallback done) { pending = done; });
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.remove(attachmentNamed(QStringLiteral("t"), QStringLiteral("t"))));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        PSA_WAIT(bool(pending), 5000);
        manager.reset();
        pending(QStringLiteral("token"), {});
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::NetworkError);
        QCOMPARE(finished.count(), 1);
    }

    void presignedResolverError()
    {
        QPresignedRemoteStorage storage;
        storage.setResolver(
            [](const QAttachment &, Kind, QPresignedRemoteStorage::ResolverCallback done) {
                QTimer::singleShot(0, [done] {
                    done({},
                         QAttachmentError(QAttachmentError::ServerError,
                                          QStringLiteral("backend cannot sign")));
                });
            });
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.download(attachmentNamed(QStringLiteral("p"), QStringLiteral("p")), &sink));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer->error().code(), Code::ServerError);
        QCOMPARE(transfer->error().message(), QStringLiteral("backend cannot sign"));

        QPresignedRemoteStorage unconfigured;
        std::unique_ptr<QAttachmentTransfer> other(
            unconfigured.remove(attachmentNamed(QStringLiteral("p"), QStringLiteral("p"))));
        QSignalSpy otherFinished(other.get(), &QAttachmentTransfer::finished);
        QVERIFY(otherFinished.wait(5000));
        QCOMPARE(other->error().code(), Code::InvalidInput);
    }

    // The method and headers of the presigned request are used as given.
    void presignedRequestIsUsedAsGiven()
    {
        QPresignedRemoteStorage storage;
        QList<Kind> kinds;
        storage.setResolver([&](const QAttachment &attachment, Kind kind,
                                QPresignedRemoteStorage::ResolverCallback done) {
            kinds.append(kind);
            QUrl url
                = m_server->url().resolved(QUrl(QStringLiteral("signed/") + attachment.filename()));
            url.setQuery(QStringLiteral("X-Signature=abc"));
            done(QPresignedRequest(url, QStringLiteral("post"),
                                   {{QStringLiteral("x-amz-meta-id"), attachment.id()}}),
                 {});
        });
        QBuffer body;
        body.setData("signed body");
        QVERIFY(body.open(QIODevice::ReadOnly));
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.upload(attachmentNamed(QStringLiteral("q"), QStringLiteral("q.txt")), &body));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(kinds, QList<Kind> {Kind::Upload});
        const FaultServer::Request seen = m_server->requests().first();
        QCOMPARE(seen.method, "POST");
        QCOMPARE(seen.path, QStringLiteral("/signed/q.txt"));
        QCOMPARE(seen.headers.value("x-amz-meta-id"), "q");
        QCOMPARE(m_server->objects().value(QStringLiteral("/signed/q.txt")), "signed body");
    }
    // The manager and the timeout are the network base's, the same in all three storages.
    void networkBaseIsShared()
    {
        QHttpRemoteStorage http;
        QPresignedRemoteStorage presigned;
        QS3RemoteStorage s3;
        for (QNetworkRemoteStorage *storage : {static_cast<QNetworkRemoteStorage *>(&http),
                                               static_cast<QNetworkRemoteStorage *>(&presigned),
                                               static_cast<QNetworkRemoteStorage *>(&s3)}) {
            QCOMPARE(storage->transferTimeout(), 60000);
            QSignalSpy timeout(storage, &QNetworkRemoteStorage::transferTimeoutChanged);
            QSignalSpy changed(storage, &QAttachmentRemoteStorage::configurationChanged);
            storage->setTransferTimeout(-5);
            QCOMPARE(storage->transferTimeout(), 0);
            storage->setTransferTimeout(0);
            QCOMPARE(timeout.count(), 1);

            QNetworkAccessManager *own = storage->networkAccessManager();
            QVERIFY(own);
            QCOMPARE(own->parent(), storage);
            auto app = std::make_unique<QNetworkAccessManager>();
            storage->setNetworkAccessManager(app.get());
            storage->setNetworkAccessManager(app.get());
            QCOMPARE(storage->networkAccessManager(), app.get());
            QCOMPARE(changed.count(), 2);
            // An app's manager that goes leaves the storage its own again.
            app.reset();
            QCOMPARE(storage->networkAccessManager(), own);
        }
    }

    // One level reports: the transfer a storage hands out runs its exchanges
    // itself instead of wrapping another transfer.
    void oneTransferPerOperation()
    {
        m_server->objects().insert(QStringLiteral("/one.bin"), "one");
        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url());
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        std::unique_ptr<QAttachmentTransfer> transfer(storage.download(
            attachmentNamed(QStringLiteral("o"), QStringLiteral("one.bin")), &sink));
        QSignalSpy progress(transfer.get(), &QAttachmentTransfer::progress);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(5000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), QByteArray("one"));
        QVERIFY(transfer->findChildren<QAttachmentTransfer *>().isEmpty());
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toLongLong(), 3);
        QCOMPARE(finished.count(), 1);
    }
};

QTEST_MAIN(tst_HttpStorages)
#include "tst_httpstorages.moc"
