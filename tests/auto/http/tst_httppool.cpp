// The managers a network storage spreads its requests over: more than Qt's
// six HTTP/1.1 connections per host when configured so, exactly six with one
// manager, and the same proxy and TLS behaviour on every manager.

#include "httpsuite.h"

#include <qnetworkremotestorage_p.h>

#include <QtNetwork/qnetworkproxy.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qtcpserver.h>

namespace {

// `count` uploads of a few bytes each, started at once.
std::vector<std::unique_ptr<QAttachmentTransfer>> startUploads(QHttpRemoteStorage &remote,
                                                               QList<QBuffer *> &bodies, int count)
{
    std::vector<std::unique_ptr<QAttachmentTransfer>> transfers;
    for (int i = 0; i < count; ++i) {
        auto *body = new QBuffer(&remote);
        body->setData(QByteArray("body ") + QByteArray::number(i));
        body->open(QIODevice::ReadOnly);
        bodies << body;
        transfers.emplace_back(remote.upload(
            attachmentNamed(QStringLiteral("u%1").arg(i), QStringLiteral("u%1.bin").arg(i)), body));
    }
    return transfers;
}

int finishedCount(const std::vector<std::unique_ptr<QAttachmentTransfer>> &transfers)
{
    int n = 0;
    for (const auto &transfer : transfers)
        n += transfer->isFinished() ? 1 : 0;
    return n;
}

// A free port nothing listens on.
quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

class CountingProxyFactory : public QNetworkProxyFactory
{
public:
    explicit CountingProxyFactory(const QNetworkProxy &proxy, int *queries)
        : m_proxy(proxy)
        , m_queries(queries)
    { }
    QList<QNetworkProxy> queryProxy(const QNetworkProxyQuery &) override
    {
        ++*m_queries;
        return {m_proxy};
    }

private:
    QNetworkProxy m_proxy;
    int *m_queries;
};

} // namespace

class tst_HttpPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults()
    {
        QHttpRemoteStorage remote;
        QCOMPARE(remote.maxConnectionsPerHost(), 36);
        QCOMPARE(remote.maxHttp2Streams(), 32);
        QCOMPARE(remote.suggestedConcurrentTransfers(), 36);

        QSignalSpy connections(&remote, &QNetworkRemoteStorage::maxConnectionsPerHostChanged);
        QSignalSpy streams(&remote, &QNetworkRemoteStorage::maxHttp2StreamsChanged);
        QSignalSpy suggested(&remote, &QNetworkRemoteStorage::suggestedConcurrentTransfersChanged);
        QSignalSpy configuration(&remote, &QAttachmentRemoteStorage::configurationChanged);
        remote.setMaxConnectionsPerHost(12);
        remote.setMaxConnectionsPerHost(12);
        QCOMPARE(connections.size(), 1);
        QCOMPARE(suggested.size(), 1);
        QCOMPARE(remote.suggestedConcurrentTransfers(), 12);
        remote.setMaxConnectionsPerHost(-3);
        QCOMPARE(remote.maxConnectionsPerHost(), 1);
        // Qt opens six connections per manager whatever is asked below that.
        QCOMPARE(remote.suggestedConcurrentTransfers(), 6);
        remote.setMaxHttp2Streams(64);
        QCOMPARE(streams.size(), 1);
        QCOMPARE(configuration.size(), 3);
        // No response over HTTP/2 yet: the streams do not count.
        QCOMPARE(remote.suggestedConcurrentTransfers(), 6);
        QCOMPARE(remote.property("suggestedConcurrentTransfers").toInt(), 6);

        // A manager of the app that cannot be copied (a subclass) takes
        // every request: six connections.
        class Subclass : public QNetworkAccessManager
        {
        } subclass;
        remote.setMaxConnectionsPerHost(24);
        remote.setNetworkAccessManager(&subclass);
        QCOMPARE(remote.suggestedConcurrentTransfers(), 6);
        QNetworkAccessManager plain;
        remote.setNetworkAccessManager(&plain);
        QCOMPARE(remote.suggestedConcurrentTransfers(), 24);
    }

    // Requests that the server holds open: Qt queues whatever its
    // connections cannot carry, so the number of requests that reach the
    // server is the number of connections.
    void spreadsRequestsOverConnections_data()
    {
        QTest::addColumn<int>("maxConnections");
        QTest::addColumn<int>("uploads");
        QTest::addColumn<int>("expected");
        QTest::newRow("one manager") << 6 << 12 << 6;
        QTest::newRow("one manager, 4 asked") << 4 << 12 << 6;
        QTest::newRow("two managers") << 12 << 12 << 12;
        QTest::newRow("default") << -1 << 40 << 36;
    }
    void spreadsRequestsOverConnections()
    {
        QFETCH(int, maxConnections);
        QFETCH(int, uploads);
        QFETCH(int, expected);
        FaultServer server;
        QVERIFY(server.listen());
        server.addFault("PUT", Fault::of(Fault::Stall), uploads);
        QHttpRemoteStorage remote;
        remote.setBaseUrl(server.url());
        if (maxConnections > 0)
            remote.setMaxConnectionsPerHost(maxConnections);
        QList<QBuffer *> bodies;
        const auto transfers = startUploads(remote, bodies, uploads);
        PSA_WAIT(server.requestCount("PUT") == expected, 20000);
        // The connections were all opened before the requests on them arrived.
        QCOMPARE(server.connectionCount(), expected);
        QCOMPARE(finishedCount(transfers), 0);
        for (const auto &transfer : transfers)
            transfer->abort();
    }

    // The app's proxy, set on the storage's manager, carries the requests of
    // every manager; a proxy that refuses connections fails them all, and
    // nothing reaches the server.
    void everyManagerUsesTheProxy_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("proxy") << QStringLiteral("proxy");
        QTest::newRow("proxy factory") << QStringLiteral("factory");
        QTest::newRow("refused") << QStringLiteral("refused");
    }
    void everyManagerUsesTheProxy()
    {
        QFETCH(QString, how);
        constexpr int Uploads = 12;
        FaultServer server;
        QVERIFY(server.listen());
        FaultServer proxy;
        QVERIFY(proxy.listen());
        proxy.addFault("PUT", Fault::of(Fault::Stall), Uploads);

        QHttpRemoteStorage remote;
        remote.setBaseUrl(server.url());
        remote.setMaxConnectionsPerHost(Uploads);
        remote.setTransferTimeout(10000);
        const quint16 proxyPort
            = how == QLatin1String("refused") ? closedPort() : quint16(proxy.url().port());
        QVERIFY(proxyPort != 0);
        const QNetworkProxy httpProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"),
                                      proxyPort);
        int queries = 0;
        if (how == QLatin1String("factory"))
            remote.networkAccessManager()->setProxyFactory(
                new CountingProxyFactory(httpProxy, &queries));
        else
            remote.networkAccessManager()->setProxy(httpProxy);

        QList<QBuffer *> bodies;
        const auto transfers = startUploads(remote, bodies, Uploads);
        if (how == QLatin1String("refused")) {
            PSA_WAIT(finishedCount(transfers) == Uploads, 20000);
            for (const auto &transfer : transfers)
                QCOMPARE(transfer->error().code(), Code::NetworkError);
        } else {
            // Held open at the proxy: twelve connections to it at once.
            PSA_WAIT(proxy.requestCount("PUT") == Uploads, 20000);
            QCOMPARE(proxy.connectionCount(), Uploads);
            if (how == QLatin1String("factory"))
                QVERIFY2(queries >= Uploads, qPrintable(QString::number(queries)));
        }
        QCOMPARE(server.connectionCount(), 0);
        for (const auto &transfer : transfers)
            transfer->abort();
    }

    // TLS: a certificate nobody vouches for fails the requests on every
    // manager; the app's sslErrors handler on the storage's manager sees the
    // replies of every manager (here it accepts the certificate), and the
    // server answers only once twelve requests are in flight at once.
    void everyManagerVerifiesCertificates()
    {
        constexpr int Downloads = 12;
        TestCertificate tls;
        PSA_MAKE_CERTIFICATE(tls, TestCertificate::Issuer::Itself);

        QSslConfiguration serverConfig = tls.serverConfiguration();
        serverConfig.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        QSslServer server;
        server.setSslConfiguration(serverConfig);
        int httpRequests = 0;
        QList<QPointer<QSslSocket>> waiting;
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (auto *socket = qobject_cast<QSslSocket *>(server.nextPendingConnection())) {
                connect(socket, &QSslSocket::readyRead, socket, [&, socket] {
                    if (!socket->readAll().contains("\r\n\r\n"))
                        return;
                    ++httpRequests;
                    waiting << socket;
                    if (waiting.size() < Downloads)
                        return;
                    for (const QPointer<QSslSocket> &held : std::as_const(waiting)) {
                        if (held)
                            held->write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                    }
                    waiting.clear();
                });
                connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));

        QHttpRemoteStorage storage;
        storage.setBaseUrl(QUrl(QStringLiteral("https://127.0.0.1:%1/").arg(server.serverPort())));
        storage.setMaxConnectionsPerHost(Downloads);
        storage.setTransferTimeout(20000);
        const auto downloadAll = [&](QList<QAttachmentError> *errors) {
            std::vector<std::unique_ptr<QBuffer>> sinks;
            std::vector<std::unique_ptr<QAttachmentTransfer>> transfers;
            for (int i = 0; i < Downloads; ++i) {
                sinks.push_back(std::make_unique<QBuffer>());
                sinks.back()->open(QIODevice::ReadWrite);
                transfers.emplace_back(storage.download(
                    attachmentNamed(QStringLiteral("d%1").arg(i), QStringLiteral("d%1").arg(i)),
                    sinks.back().get()));
            }
            if (!QTest::qWaitFor([&] { return finishedCount(transfers) == Downloads; }, 30000))
                return false;
            for (int i = 0; i < Downloads; ++i) {
                errors->append(transfers.at(i)->error());
                if (!transfers.at(i)->error().isError() && sinks.at(i)->data() != "hello")
                    return false;
            }
            return true;
        };

        QList<QAttachmentError> errors;
        QVERIFY(downloadAll(&errors));
        for (const QAttachmentError &error : std::as_const(errors)) {
            QCOMPARE(error.code(), Code::NetworkError);
            QVERIFY2(
                error.message().contains(QStringLiteral("SSL"), Qt::CaseInsensitive)
                    || error.message().contains(QStringLiteral("certificate"), Qt::CaseInsensitive),
                qPrintable(error.message()));
        }
        QCOMPARE(httpRequests, 0);

        // The app accepts this one certificate, on the storage's manager.
        int handled = 0;
        connect(storage.networkAccessManager(), &QNetworkAccessManager::sslErrors, this,
                [&](QNetworkReply *reply, const QList<QSslError> &sslErrors) {
                    ++handled;
                    QList<QSslError> expected;
                    for (const QSslError &sslError : sslErrors) {
                        if (sslError.certificate() == tls.certificate())
                            expected << sslError;
                    }
                    reply->ignoreSslErrors(expected);
                });
        errors.clear();
        QVERIFY(downloadAll(&errors));
        for (const QAttachmentError &error : std::as_const(errors))
            QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(httpRequests, Downloads);
        QVERIFY2(handled >= Downloads, qPrintable(QString::number(handled)));
    }

    // A reply over HTTP/2 raises the suggestion to maxHttp2Streams; the
    // queue follows it (tst_httpnginx shows the queue's side against nginx).
    void poolRoutesAndLearns()
    {
        QNetworkAccessManager source;
        QNetworkManagerPool pool([&] { return &source; });
        QCOMPARE(pool.managerCount(), 1);
        pool.setConnectionsPerHost(13);
        QCOMPARE(pool.managerCount(), 3);
        pool.setConnectionsPerHost(0);
        QCOMPARE(pool.managerCount(), 1);
        QVERIFY(QNetworkManagerPool::canSpread(&source));
        QVERIFY(!QNetworkManagerPool::canSpread(nullptr));
        QVERIFY(!pool.http2Seen());
    }
};

QTEST_MAIN(tst_HttpPool)
#include "tst_httppool.moc"
