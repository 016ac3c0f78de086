// Small uploads over cleartext HTTP/1.1 on kept-alive connections
// (QHttpSocketExchange with a QHttpConnectionCache): reuse counted at the
// server, no reuse after an error, "Connection: close" or a response cut
// short, a kept-alive connection the server dropped, bounded idle
// connections, TLS, and the request leaving in one write with TCP_NODELAY.

#include "httpsuite.h"

#include <qhttpconnectioncache_p.h>
#include <qhttpresponseparser_p.h>

#include <QtNetwork/qtcpsocket.h>

Q_DECLARE_METATYPE(FaultServer::Fault)

class tst_HttpKeepAlive : public FaultServerSuite
{
    Q_OBJECT

private:
    // One upload of `object` to `url` through `manager`, run to its end;
    // with `tls`, on that configuration and streamed whatever its size.
    std::unique_ptr<QHttpTransfer> put(const QUrl &url, const QByteArray &object,
                                       QNetworkAccessManager *manager,
                                       const QSslConfiguration &tls = {})
    {
        auto body = std::make_unique<QBuffer>();
        body->setData(object);
        body->open(QIODevice::ReadOnly);
        QHttpTransfer::Request request;
        request.request.setUrl(url);
        if (!tls.isNull())
            request.request.setSslConfiguration(tls);
        request.method = "PUT";
        request.body = body.get();
        request.transferTimeoutMs = 10000;
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Upload, manager);
        if (!tls.isNull())
            transfer->setStreamThreshold(0);
        body->setParent(transfer.get());
        body.release();
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(request);
        if (!finished.wait(30000))
            qWarning("upload did not finish");
        return transfer;
    }
    QUrl at(const QString &path) const { return m_server->url().resolved(QUrl(path)); }
    QString origin() const { return QHttpConnectionCache::originOf(m_server->url()); }
    QHttpConnectionCache *cache() { return QHttpConnectionCache::of(&m_manager); }

private Q_SLOTS:
    void init()
    {
        cache()->clear();
        cache()->setMaxIdlePerOrigin(QHttpConnectionCache::DefaultMaxIdlePerOrigin);
        cache()->setIdleTimeout(QHttpConnectionCache::DefaultIdleTimeoutMs);
        m_server = std::make_unique<FaultServer>();
        QVERIFY(m_server->listen());
    }
    void cleanup()
    {
        cache()->clear();
        m_server.reset();
    }

    // Five small uploads one after another: one connection carries them all.
    void reusesOneConnection()
    {
        for (int i = 0; i < 5; ++i) {
            const QByteArray object = TestSupport::randomBytes(64 * 1024, 100 + i);
            auto transfer = put(at(QStringLiteral("k%1.bin").arg(i)), object, &m_manager);
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
            QVERIFY(transfer->isStreamed());
            QCOMPARE(transfer->reusedConnection(), i > 0);
            QCOMPARE(m_server->objects().value(QStringLiteral("/k%1.bin").arg(i)), object);
        }
        QCOMPARE(m_server->requestCount("PUT"), 5);
        QCOMPARE(m_server->connectionCount(), 1);
        QCOMPARE(cache()->idleCount(origin()), 1);
        QCOMPARE(cache()->reuseCount(), 4);
        // The requests ask for nothing but the default (keep-alive).
        QVERIFY(!m_server->requests().last().headers.contains("connection"));
    }

    // The request (head and a 64 KiB body) goes to the socket in one write,
    // on a socket with TCP_NODELAY: nothing waits for a delayed ACK.
    void requestInOneWriteWithNoDelay()
    {
        auto transfer = put(at(QStringLiteral("one.bin")), QByteArray(64 * 1024, 'a'), &m_manager);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->requestWrites(), 1);
        const QList<QTcpSocket *> idle = cache()->idleSockets(origin());
        QCOMPARE(idle.size(), 1);
        QCOMPARE(idle.first()->socketOption(QAbstractSocket::LowDelayOption).toInt(), 1);
        QCOMPARE(m_server->objects().value(QStringLiteral("/one.bin")), QByteArray(64 * 1024, 'a'));
    }

    // Small uploads over TLS, to an HTTP/2 prior-knowledge origin, or with
    // the mechanism switched off stay with the manager.
    void smallUploadsElsewhereStayWithTheManager()
    {
        QBuffer body;
        body.setData("abc");
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpTransfer::Request request;
        request.request.setUrl(QUrl(QStringLiteral("https://127.0.0.1:1/x.bin")));
        request.method = "PUT";
        request.body = &body;
        {
            QHttpTransfer transfer(Kind::Upload, &m_manager);
            transfer.start(request);
            QVERIFY(!transfer.isStreamed());
            transfer.abort();
        }
        request.request.setUrl(at(QStringLiteral("x.bin")));
        {
            QHttpTransfer transfer(Kind::Upload, &m_manager);
            transfer.setHttp2PriorKnowledge(true);
            transfer.start(request);
            QVERIFY(!transfer.isStreamed());
            transfer.abort();
        }
        {
            QHttpTransfer transfer(Kind::Upload, &m_manager);
            transfer.setStreamSmallCleartextUploads(false);
            transfer.start(request);
            QVERIFY(!transfer.isStreamed());
            transfer.abort();
        }
        {
            QHttpTransfer transfer(Kind::Upload, &m_manager);
            transfer.setStreamThreshold(-1);
            transfer.start(request);
            QVERIFY(!transfer.isStreamed());
            transfer.abort();
        }
    }

    // An error answer, "Connection: close", a response that runs to the
    // close, and one cut short: the connection is not used again.
    void noReuseAfter_data()
    {
        QTest::addColumn<Fault>("fault");
        QTest::addColumn<bool>("fails");
        QTest::newRow("server error") << Fault::answer(500, "boom") << true;
        QTest::newRow("Connection: close")
            << Fault::answer(201, {}, {{"Connection", "keep-alive, close"}}) << false;
        QTest::newRow("HTTP/1.0") << Fault::of(Fault::Raw,
                                               "HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n")
                                  << false;
        QTest::newRow("body to the close")
            << Fault::of(Fault::Raw, "HTTP/1.1 201 Created\r\n\r\ndone") << false;
        QTest::newRow("cut short")
            << Fault::of(Fault::Raw, "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc")
            << true;
        QTest::newRow("more than announced")
            << Fault::of(Fault::Raw, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1")
            << false;
    }
    void noReuseAfter()
    {
        QFETCH(Fault, fault);
        QFETCH(bool, fails);
        auto first = put(at(QStringLiteral("a.bin")), "first", &m_manager);
        QVERIFY2(!first->error().isError(), qPrintable(first->error().message()));
        QCOMPARE(cache()->idleCount(origin()), 1);
        m_server->addFault("PUT", fault);
        auto faulty = put(at(QStringLiteral("b.bin")), "second", &m_manager);
        QVERIFY(faulty->isStreamed());
        QVERIFY(faulty->reusedConnection());
        QCOMPARE(faulty->error().isError(), fails);
        QCOMPARE(cache()->idleCount(origin()), 0);
        auto third = put(at(QStringLiteral("c.bin")), "third", &m_manager);
        QVERIFY2(!third->error().isError(), qPrintable(third->error().message()));
        QVERIFY(!third->reusedConnection());
        QCOMPARE(m_server->connectionCount(), 2);
        QCOMPARE(m_server->objects().value(QStringLiteral("/c.bin")), QByteArray("third"));
    }

    // A kept-alive connection that the server resets when the next request
    // arrives on it (it timed out while idle): the request goes once more,
    // on a new connection, and succeeds. A reset on a new connection fails.
    void droppedKeptAliveConnectionIsResentOnce()
    {
        auto first = put(at(QStringLiteral("a.bin")), "first", &m_manager);
        QVERIFY2(!first->error().isError(), qPrintable(first->error().message()));
        m_server->addFault("PUT", Fault::of(Fault::Reset));
        auto second = put(at(QStringLiteral("b.bin")), "second", &m_manager);
        QVERIFY2(!second->error().isError(), qPrintable(second->error().message()));
        QVERIFY(!second->reusedConnection());
        QCOMPARE(m_server->objects().value(QStringLiteral("/b.bin")), QByteArray("second"));
        QCOMPARE(m_server->connectionCount(), 2);

        cache()->clear();
        m_server->addFault("PUT", Fault::of(Fault::Reset));
        auto fresh = put(at(QStringLiteral("c.bin")), "third", &m_manager);
        QCOMPARE(fresh->error().code(), Code::NetworkError);
        QCOMPARE(m_server->connectionCount(), 3);
    }

    // The server closes idle connections: the cache lets them go at once.
    void idleConnectionClosedByTheServerIsDropped()
    {
        auto first = put(at(QStringLiteral("a.bin")), "first", &m_manager);
        QVERIFY2(!first->error().isError(), qPrintable(first->error().message()));
        QCOMPARE(cache()->idleCount(origin()), 1);
        m_server.reset();
        QTRY_COMPARE_WITH_TIMEOUT(cache()->idleCount(), 0, 5000);
    }

    // At most maxIdlePerOrigin idle connections; each closed after the idle
    // timeout.
    void idleConnectionsAreBounded()
    {
        cache()->setMaxIdlePerOrigin(2);
        std::vector<std::unique_ptr<QHttpTransfer>> transfers;
        std::vector<std::unique_ptr<QBuffer>> bodies;
        int done = 0;
        for (int i = 0; i < 5; ++i) {
            bodies.push_back(std::make_unique<QBuffer>());
            bodies.back()->setData(QByteArray(1000, char('a' + i)));
            QVERIFY(bodies.back()->open(QIODevice::ReadOnly));
            QHttpTransfer::Request request;
            request.request.setUrl(at(QStringLiteral("p%1.bin").arg(i)));
            request.method = "PUT";
            request.body = bodies.back().get();
            transfers.push_back(std::make_unique<QHttpTransfer>(Kind::Upload, &m_manager));
            connect(transfers.back().get(), &QAttachmentTransfer::finished, this, [&] { ++done; });
            transfers.back()->start(request);
        }
        QTRY_COMPARE_WITH_TIMEOUT(done, 5, 20000);
        for (const auto &transfer : transfers)
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->connectionCount(), 5);
        QCOMPARE(cache()->idleCount(origin()), 2);

        cache()->setIdleTimeout(200);
        QTRY_COMPARE_WITH_TIMEOUT(cache()->idleCount(), 0, 5000);
        auto after = put(at(QStringLiteral("after.bin")), "after", &m_manager);
        QVERIFY2(!after->error().isError(), qPrintable(after->error().message()));
        QVERIFY(!after->reusedConnection());
        QCOMPARE(m_server->connectionCount(), 6);
    }

    // No more uploads connected at once than the manager's six connections;
    // the others wait, and aborting them frees their place.
    void connectionsPerOriginAreLimited()
    {
        constexpr int Uploads = 10;
        m_server->addFault("PUT", Fault::of(Fault::Stall), Uploads);
        std::vector<std::unique_ptr<QHttpTransfer>> transfers;
        std::vector<std::unique_ptr<QBuffer>> bodies;
        for (int i = 0; i < Uploads; ++i) {
            bodies.push_back(std::make_unique<QBuffer>());
            bodies.back()->setData(QByteArray(1000, 'x'));
            QVERIFY(bodies.back()->open(QIODevice::ReadOnly));
            QHttpTransfer::Request request;
            request.request.setUrl(at(QStringLiteral("s%1.bin").arg(i)));
            request.method = "PUT";
            request.body = bodies.back().get();
            request.transferTimeoutMs = 60000;
            transfers.push_back(std::make_unique<QHttpTransfer>(Kind::Upload, &m_manager));
            transfers.back()->start(request);
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_server->requestCount("PUT"), 6, 10000);
        QCOMPARE(m_server->connectionCount(), 6);
        QCOMPARE(cache()->activeCount(origin()), 6);
        QCOMPARE(cache()->waitingCount(), 4);
        for (const auto &transfer : transfers)
            transfer->abort();
        QCOMPARE(cache()->activeCount(origin()), 0);
        QCOMPARE(cache()->waitingCount(), 0);
    }

    // The cache belongs to the manager: another manager's uploads do not
    // share its connections.
    void oneCachePerManager()
    {
        QNetworkAccessManager other;
        auto first = put(at(QStringLiteral("a.bin")), "first", &m_manager);
        auto second = put(at(QStringLiteral("b.bin")), "second", &other);
        QVERIFY(!first->error().isError());
        QVERIFY(!second->error().isError());
        QVERIFY(!second->reusedConnection());
        QCOMPARE(m_server->connectionCount(), 2);
        QVERIFY(QHttpConnectionCache::of(&other) != cache());
    }

    // Over TLS (large uploads take this path there): the connection and its
    // session are reused; a different TLS configuration gets its own.
    void tlsConnectionsAreReused()
    {
        TestCertificate tls;
        PSA_MAKE_CERTIFICATE(tls, TestCertificate::Issuer::Itself);
        TlsPutSink server(tls.serverConfiguration());
        QVERIFY(server.listen());
        QSslConfiguration trusting = QSslConfiguration::defaultConfiguration();
        trusting.addCaCertificates({tls.certificate()});

        for (int i = 0; i < 3; ++i) {
            const QByteArray object = TestSupport::randomBytes(300 * 1024, 40 + i);
            auto transfer
                = put(server.url(QStringLiteral("t%1.bin").arg(i)), object, &m_manager, trusting);
            QVERIFY(transfer->isFinished());
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
            QVERIFY(transfer->isStreamed());
            QCOMPARE(transfer->reusedConnection(), i > 0);
            QCOMPARE(server.received.size(), i + 1);
            QCOMPARE(server.received.last(), object);
        }
        QCOMPARE(server.connections, 1);

        // Another configuration (here: one that also trusts the system's
        // CAs differently) does not get that connection.
        QSslConfiguration other = trusting;
        other.setPeerVerifyDepth(5);
        auto transfer = put(server.url(QStringLiteral("o.bin")), "x", &m_manager, other);
        QVERIFY(transfer->isFinished());
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(!transfer->reusedConnection());
        QCOMPARE(server.connections, 2);
    }

    // The storage against nginx: a series of small uploads through the
    // storage's pool, byte-identical, on kept-alive connections.
    void storageAgainstNginx()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        QHttpRemoteStorage storage;
        storage.setBaseUrl(nginx.url(QStringLiteral("ka/")));
        int reused = 0;
        for (int i = 0; i < 20; ++i) {
            const QByteArray object = TestSupport::randomBytes(16 * 1024 + i, 200 + i);
            QBuffer body;
            body.setData(object);
            QVERIFY(body.open(QIODevice::ReadOnly));
            std::unique_ptr<QAttachmentTransfer> transfer(storage.upload(
                attachmentNamed(QStringLiteral("k%1").arg(i), QStringLiteral("k%1.bin").arg(i),
                                QStringLiteral("image/jpeg")),
                &body));
            QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
            QVERIFY(finished.wait(20000));
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
            auto *http = static_cast<QHttpTransfer *>(transfer.get());
            QVERIFY(http->isStreamed());
            reused += http->reusedConnection() ? 1 : 0;
            QCOMPARE(readFile(nginx.rootPath() + QStringLiteral("/ka/k%1.bin").arg(i)), object);
        }
        QCOMPARE(reused, 19);
    }

    // --- the parser's say on reuse ---------------------------------------------

    void parserAllowsReuse_data()
    {
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<bool>("close");
        QTest::addColumn<bool>("reusable");
        QTest::newRow("length") << QByteArray("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
                                << false << true;
        QTest::newRow("chunked") << QByteArray(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "2\r\nok\r\n0\r\n\r\n")
                                 << false << true;
        QTest::newRow("interim then final")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") << false
            << true;
        QTest::newRow("close token")
            << QByteArray("HTTP/1.1 201 Created\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n")
            << false << false;
        QTest::newRow("HTTP/1.0") << QByteArray("HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n")
                                  << false << false;
        QTest::newRow("until close") << QByteArray("HTTP/1.1 200 OK\r\n\r\nabc") << true << false;
        QTest::newRow("incomplete")
            << QByteArray("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nab") << false << false;
    }
    void parserAllowsReuse()
    {
        QFETCH(QByteArray, response);
        QFETCH(bool, close);
        QFETCH(bool, reusable);
        QHttpResponseParser parser;
        parser.feed(response);
        if (close)
            parser.endOfInput();
        QCOMPARE(parser.allowsReuse(), reusable);
    }
};

QTEST_MAIN(tst_HttpKeepAlive)
#include "tst_httpkeepalive.moc"
