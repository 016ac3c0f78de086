// Large uploads over the streaming path (QHttpSocketExchange): its response
// parser against hostile answers, and uploads against the fault server, a TLS
// server with a test certificate, nginx and the embedded server.

#include "httpsuite.h"

#include <attachmentsserver.h>
#include <qhttpresponseparser_p.h>
#include <qhttpsocketexchange_p.h>

#include <QtCore/qcryptographichash.h>
#include <QtNetwork/qnetworkcookie.h>
#include <QtNetwork/qnetworkcookiejar.h>
#include <QtNetwork/qnetworkproxy.h>

namespace {

QHttpResponseParser parsed(const QByteArray &bytes, bool close = false, int piece = 0)
{
    QHttpResponseParser parser(100);
    if (piece <= 0) {
        parser.feed(bytes);
    } else {
        for (int i = 0; i < bytes.size(); i += piece)
            parser.feed(QByteArrayView(bytes).sliced(i, qMin<int>(piece, bytes.size() - i)));
    }
    if (close)
        parser.endOfInput();
    return parser;
}

// A file of `size` pseudo-random bytes.
bool writeFile(const QString &path, qint64 size, quint32 seed)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const QByteArray block = TestSupport::randomBytes(1024 * 1024, seed);
    for (qint64 left = size; left > 0;) {
        const qint64 n = qMin<qint64>(left, block.size());
        if (file.write(block.constData(), n) != n)
            return false;
        left -= n;
    }
    return true;
}

QByteArray sha256Of(const QString &path)
{
    QFile file(path);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    return file.open(QIODevice::ReadOnly) && hash.addData(&file) ? hash.result() : QByteArray();
}

} // namespace

class tst_HttpStreamUpload : public FaultServerSuite
{
    Q_OBJECT

private:
    std::unique_ptr<QHttpTransfer> upload(const QUrl &url, QIODevice *body,
                                          QNetworkAccessManager *manager, int timeoutMs = 20000,
                                          const QByteArray &contentType = "image/jpeg",
                                          std::function<void(QHttpTransfer *)> whileRunning = {})
    {
        QHttpTransfer::Request request;
        request.request.setUrl(url);
        request.request.setRawHeader("Content-Type", contentType);
        request.request.setRawHeader("X-Tenant", "acme");
        request.method = "PUT";
        request.body = body;
        request.transferTimeoutMs = timeoutMs;
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Upload, manager);
        transfer->setStreamThreshold(0);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(request);
        if (whileRunning)
            whileRunning(transfer.get());
        if (!finished.wait(120000))
            qWarning("upload did not finish");
        if (finished.count() != 1)
            qWarning("finished %d times", int(finished.count()));
        return transfer;
    }

private Q_SLOTS:
    // --- the response parser --------------------------------------------------

    void parsesLengthChunkedAndClose()
    {
        auto p
            = parsed("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhelloEXTRA");
        QVERIFY(p.isDone());
        QCOMPARE(p.status(), 201);
        QCOMPARE(p.reason(), "Created");
        QCOMPARE(p.header("etag"), "\"x\"");
        QCOMPARE(p.keptBody(), "hello");

        // One byte at a time, chunked, with an interim answer first.
        p = parsed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n4;x=y\r\ndisk\r\n5\r\n full\r\n0\r\nTrailer: 1\r\n\r\n",
                   false, 1);
        QVERIFY2(p.isDone(), qPrintable(p.errorString()));
        QCOMPARE(p.status(), 500);
        QCOMPARE(p.keptBody(), "disk full");

        // A body without framing runs to the close; only its start is kept.
        p = parsed("HTTP/1.0 403 Forbidden\n\n" + QByteArray(300, 'a'));
        QCOMPARE(p.state(), QHttpResponseParser::Body);
        p.endOfInput();
        QVERIFY(p.isDone());
        QCOMPARE(p.bodyReceived(), 300);
        QCOMPARE(p.keptBody().size(), 100);
    }

    void refusesHostileResponses_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not http") << QByteArray("SSH-2.0-OpenSSH\r\n") << "status line";
        QTest::newRow("status letters") << QByteArray("HTTP/1.1 2x0 OK\r\n") << "status code";
        QTest::newRow("status 999") << QByteArray("HTTP/1.1 999 OK\r\n") << "status line";
        QTest::newRow("http/2 text") << QByteArray("HTTP/2 200\r\n") << "status line";
        QTest::newRow("nul in reason") << QByteArray("HTTP/1.1 200 O\0K\r\n", 18) << "control";
        QTest::newRow("folded header")
            << QByteArray("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n") << "folded";
        QTest::newRow("space in name")
            << QByteArray("HTTP/1.1 200 OK\r\nContent Length: 5\r\n\r\n") << "header name";
        QTest::newRow("no colon") << QByteArray("HTTP/1.1 200 OK\r\nhello\r\n\r\n")
                                  << "header line";
        QTest::newRow("control in value")
            << QByteArray("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n") << "control character";
        QTest::newRow("length letters")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n") << "Content-Length";
        QTest::newRow("negative length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") << "Content-Length";
        QTest::newRow("huge length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n")
            << "Content-Length";
        QTest::newRow("two lengths")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")
            << "Content-Length";
        QTest::newRow("length and chunked") << QByteArray(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
                                            << "both";
        QTest::newRow("gzip chunked")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            << "Transfer-Encoding";
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            << "chunk size";
        QTest::newRow("chunk size overflow")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "ffffffffffffffffffff\r\n")
            << "chunk size";
        QTest::newRow("chunk too long")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n")
            << "chunk data";
        QTest::newRow("endless line")
            << ("HTTP/1.1 200 OK\r\nX: " + QByteArray(9000, 'a')) << "longer than";
        QByteArray many = "HTTP/1.1 200 OK\r\n";
        for (int i = 0; i < 101; ++i)
            many += "X-" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("too many headers") << many << "more than 100";
        QByteArray big = "HTTP/1.1 200 OK\r\n";
        for (int i = 0; i < 90; ++i)
            big += "X-" + QByteArray::number(i) + ": " + QByteArray(800, 'v') + "\r\n";
        QTest::newRow("header block too large") << big << "exceeds";
        QByteArray interim;
        for (int i = 0; i < 20; ++i)
            interim += "HTTP/1.1 100 Continue\r\n\r\n";
        QTest::newRow("endless interim answers") << interim << "interim";
        QTest::newRow("switching protocols")
            << QByteArray("HTTP/1.1 101 Switching Protocols\r\n\r\n") << "switched";
    }
    void refusesHostileResponses()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        for (const int piece : {0, 1, 7}) {
            const auto p = parsed(bytes, false, piece);
            QVERIFY2(p.hasFailed(), qPrintable(QString::number(piece)));
            QVERIFY2(p.errorString().contains(expected), qPrintable(p.errorString()));
            QVERIFY(p.errorString().size() < 200);
        }
    }

    void cutShortResponsesFail()
    {
        auto p = parsed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
        QVERIFY(p.hasFailed());
        QVERIFY(p.headersComplete()); // the status stays known
        QCOMPARE(p.status(), 200);
        QVERIFY2(p.errorString().contains(QStringLiteral("3 of the announced 10")),
                 qPrintable(p.errorString()));
        p = parsed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true);
        QVERIFY(p.hasFailed());
        p = parsed("HTTP/1.1 200 OK\r\nContent-Le", true);
        QVERIFY(p.hasFailed());
        QVERIFY(!p.headersComplete());
        p = parsed("", true);
        QVERIFY(p.errorString().contains(QStringLiteral("before a response")));
    }

    // --- which requests stream ------------------------------------------------

    void proxiesAndCookiesStayWithTheManager()
    {
        QBuffer body;
        body.setData(QByteArray(100, 'x'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpRequest request;
        request.request.setUrl(m_server->url().resolved(QUrl(QStringLiteral("/a"))));
        request.method = "PUT";
        request.body = &body;
        QNetworkAccessManager manager;
        QCOMPARE(QHttpSocketExchange::whyNotStream(request, &manager), QString());

        manager.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), 9));
        QVERIFY(
            QHttpSocketExchange::whyNotStream(request, &manager).contains(QStringLiteral("proxy")));
        manager.setProxy(QNetworkProxy::NoProxy);
        QCOMPARE(QHttpSocketExchange::whyNotStream(request, &manager), QString());

        // The application's proxy, as the manager would pick it (Qt never
        // proxies loopback addresses: the host is only looked at, not used).
        QHttpRequest remote = request;
        remote.request.setUrl(QUrl(QStringLiteral("http://files.example.com/a")));
        QNetworkProxy::setApplicationProxy(
            QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), 9));
        QNetworkAccessManager defaultProxy;
        const QString why = QHttpSocketExchange::whyNotStream(remote, &defaultProxy);
        QNetworkProxy::setApplicationProxy(QNetworkProxy());
        QVERIFY2(why.contains(QStringLiteral("proxy")), qPrintable(why));
        QCOMPARE(QHttpSocketExchange::whyNotStream(remote, &defaultProxy), QString());

        QNetworkCookie cookie("session", "1");
        cookie.setDomain(QStringLiteral("127.0.0.1"));
        cookie.setPath(QStringLiteral("/"));
        defaultProxy.cookieJar()->insertCookie(cookie);
        QVERIFY(QHttpSocketExchange::whyNotStream(request, &defaultProxy)
                    .contains(QStringLiteral("cookie")));

        // A subclass may change requests in createRequest(): it keeps them.
        class Recording : public QNetworkAccessManager
        {
        };
        Recording recording;
        QVERIFY(QHttpSocketExchange::whyNotStream(request, &recording)
                    .contains(QStringLiteral("subclass")));

        QHttpRequest withUser = request;
        withUser.request.setUrl(QUrl(QStringLiteral("http://me:pw@127.0.0.1:1/a")));
        QVERIFY(!QHttpSocketExchange::whyNotStream(withUser, &manager).isEmpty());
        QBuffer sink;
        QHttpRequest ftp = request;
        ftp.request.setUrl(QUrl(QStringLiteral("ftp://127.0.0.1/a")));
        QVERIFY(!QHttpSocketExchange::whyNotStream(ftp, &manager).isEmpty());
    }

    // --- against the fault server ----------------------------------------------

    void uploadsWhatTheManagerWould()
    {
        const QByteArray object = TestSupport::randomBytes(3 * 1024 * 1024 + 17, 3);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QSignalSpy progress(&body, &QIODevice::readyRead);
        const QUrl url = m_server->url().resolved(QUrl(QStringLiteral("/dir/a%20b.bin?x=1")));
        auto transfer = upload(url, &body, &m_manager);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->httpStatus(), 201);
        QCOMPARE(m_server->objects().value(QStringLiteral("/dir/a b.bin")), object);
        const FaultServer::Request &seen = m_server->requests().first();
        QCOMPARE(seen.method, "PUT");
        QCOMPARE(seen.headers.value("content-type"), "image/jpeg");
        QCOMPARE(seen.headers.value("x-tenant"), "acme");
        QCOMPARE(seen.headers.value("content-length"), QByteArray::number(object.size()));
        QCOMPARE(seen.headers.value("host"),
                 "127.0.0.1:" + QByteArray::number(m_server->url().port()));
        QCOMPARE(transfer->bytesDone(), object.size());
        QCOMPARE(transfer->bytesTotal(), object.size());
    }

    // A body slice: only bodySize bytes from the device's position go out.
    void sendsOnlyTheSlice()
    {
        const QByteArray object = TestSupport::randomBytes(500000, 4);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QVERIFY(body.seek(1000));
        QHttpTransfer::Request request;
        request.request.setUrl(m_server->url().resolved(QUrl(QStringLiteral("/part"))));
        request.method = "PUT";
        request.body = &body;
        request.bodySize = 200000;
        QHttpTransfer transfer(Kind::Upload, &m_manager);
        transfer.setStreamThreshold(0);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(10000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QVERIFY(transfer.isStreamed());
        QCOMPARE(m_server->objects().value(QStringLiteral("/part")), object.mid(1000, 200000));
    }

    void serverErrorsMapLikeTheManager_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<qint64>("retryAfterMs");
        QTest::newRow("500") << 500 << int(Code::ServerError) << QByteArray() << qint64(-1);
        QTest::newRow("404") << 404 << int(Code::NotFound) << QByteArray() << qint64(-1);
        QTest::newRow("403") << 403 << int(Code::Unauthorized) << QByteArray() << qint64(-1);
        QTest::newRow("413") << 413 << int(Code::ClientError) << QByteArray() << qint64(-1);
        QTest::newRow("408") << 408 << int(Code::Timeout) << QByteArray() << qint64(-1);
        QTest::newRow("429") << 429 << int(Code::RateLimited) << QByteArray("7") << qint64(7000);
        QTest::newRow("503") << 503 << int(Code::ServerError) << QByteArray("2") << qint64(2000);
    }
    void serverErrorsMapLikeTheManager()
    {
        QFETCH(int, status);
        QFETCH(int, code);
        QFETCH(QByteArray, retryAfter);
        QFETCH(qint64, retryAfterMs);
        QList<std::pair<QByteArray, QByteArray>> headers;
        if (!retryAfter.isEmpty())
            headers.append({"Retry-After", retryAfter});
        const QByteArray object = TestSupport::randomBytes(300000, 5);
        QAttachmentError errors[2];
        for (int streamed = 0; streamed < 2; ++streamed) {
            m_server->addFault("PUT", Fault::answer(status, "disk full", headers));
            QBuffer body;
            body.setData(object);
            QVERIFY(body.open(QIODevice::ReadOnly));
            QHttpTransfer::Request request;
            request.request.setUrl(m_server->url().resolved(QUrl(QStringLiteral("/e?sig=secret"))));
            request.method = "PUT";
            request.body = &body;
            QHttpTransfer transfer(Kind::Upload, &m_manager);
            transfer.setStreamThreshold(streamed ? 0 : -1);
            QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
            transfer.start(request);
            QVERIFY(finished.wait(10000));
            QCOMPARE(transfer.isStreamed(), bool(streamed));
            errors[streamed] = transfer.error();
            QCOMPARE(int(transfer.error().code()), code);
            QCOMPARE(transfer.error().httpStatus(), status);
            QCOMPARE(transfer.error().retryAfterMs(), retryAfterMs);
            QVERIFY2(transfer.error().message().contains(QStringLiteral("127.0.0.1")),
                     qPrintable(transfer.error().message()));
            QVERIFY(!transfer.error().message().contains(QStringLiteral("secret")));
            QCOMPARE(transfer.responseBody(), "disk full");
        }
        // Word for word what the manager's path says.
        QCOMPARE(errors[1].message(), errors[0].message());
    }

    // A 401 asks the token provider again and sends the whole body once more.
    void refreshedTokenResendsTheBody()
    {
        m_server->setRequiredToken("good");
        const QByteArray object = TestSupport::randomBytes(2 * 1024 * 1024, 11);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpRemoteStorage storage;
        storage.setNetworkAccessManager(&m_manager);
        storage.setStreamingUploadThreshold(1024 * 1024);
        storage.setBaseUrl(m_server->url());
        QList<bool> asked;
        storage.setTokenProvider([&](bool refresh, QHttpRemoteStorage::TokenCallback done) {
            asked.append(refresh);
            done(refresh ? QStringLiteral("good") : QStringLiteral("stale"), {});
        });
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.upload(attachmentNamed(QStringLiteral("t"), QStringLiteral("t.bin")), &body));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(20000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(static_cast<QHttpTransfer *>(transfer.get())->isStreamed());
        QCOMPARE(asked, QList<bool>({false, true}));
        QCOMPARE(m_server->requestCount("PUT"), 2);
        QCOMPARE(m_server->objects().value(QStringLiteral("/t.bin")), object);
    }

    // The server resets the connection in the middle of the body.
    void connectionResetMidBodyFails()
    {
        m_server->addFault("PUT", Fault::of(Fault::Reset));
        const QByteArray object = TestSupport::randomBytes(4 * 1024 * 1024, 6);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer
            = upload(m_server->url().resolved(QUrl(QStringLiteral("/r"))), &body, &m_manager);
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->error().code(), Code::NetworkError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("127.0.0.1")),
                 qPrintable(transfer->error().message()));
        QVERIFY(!m_server->objects().contains(QStringLiteral("/r")));
    }

    void garbageAnswerIsAProtocolError()
    {
        m_server->addFault("PUT",
                           Fault::of(Fault::Raw, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));
        QBuffer body;
        body.setData(QByteArray(100000, 'g'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer
            = upload(m_server->url().resolved(QUrl(QStringLiteral("/g"))), &body, &m_manager);
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QVERIFY2(transfer->error().message().startsWith(QStringLiteral("127.0.0.1:")),
                 qPrintable(transfer->error().message()));
    }

    // The answer's body ends with the connection, short of its length.
    void cutOffAnswerIsAProtocolError()
    {
        m_server->addFault("PUT",
                           Fault::of(Fault::Raw,
                                     "HTTP/1.1 500 Oops\r\nContent-Length: "
                                     "100\r\n\r\nshort"));
        QBuffer body;
        body.setData(QByteArray(100000, 'g'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer
            = upload(m_server->url().resolved(QUrl(QStringLiteral("/o"))), &body, &m_manager);
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QCOMPARE(transfer->error().httpStatus(), 500);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("5 of the announced 100")),
                 qPrintable(transfer->error().message()));
    }

    void silentServerTimesOut()
    {
        m_server->addFault("PUT", Fault::of(Fault::Stall));
        QBuffer body;
        body.setData(QByteArray(100000, 's'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer
            = upload(m_server->url().resolved(QUrl(QStringLiteral("/s"))), &body, &m_manager, 500);
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->error().code(), Code::Timeout);
    }

    void refusedConnectionNamesThePeer()
    {
        const QUrl url = m_server->url().resolved(QUrl(QStringLiteral("/x")));
        m_server.reset(); // nothing listens there any more
        QBuffer body;
        body.setData(QByteArray(1000, 'r'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer = upload(url, &body, &m_manager);
        QCOMPARE(transfer->error().code(), Code::NetworkError);
        QVERIFY2(transfer->error().message().startsWith(
                     QStringLiteral("request to 127.0.0.1:%1 failed").arg(url.port())),
                 qPrintable(transfer->error().message()));
    }

    void headerInjectionIsRefused()
    {
        QBuffer body;
        body.setData(QByteArray(1000, 'h'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer = upload(m_server->url().resolved(QUrl(QStringLiteral("/h"))), &body,
                               &m_manager, 2000, "image/jpeg\r\nX-Evil: 1");
        QCOMPARE(transfer->error().code(), Code::InvalidInput);
        QCOMPARE(m_server->connectionCount(), 0);
    }

    // Cancelled while the body goes out: the transfer ends at once as
    // Cancelled, the connection is dropped and nothing is stored.
    void cancelMidUpload()
    {
        m_server->addFault("PUT", Fault::of(Fault::Stall));
        const QByteArray object = TestSupport::randomBytes(64 * 1024 * 1024, 7);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));
        auto transfer = upload(m_server->url().resolved(QUrl(QStringLiteral("/c"))), &body,
                               &m_manager, 20000, "image/jpeg", [](QHttpTransfer *t) {
                                   QSignalSpy progress(t, &QAttachmentTransfer::progress);
                                   while (t->bytesDone() == 0 && progress.wait(5000)) { }
                                   QVERIFY(t->bytesDone() > 0);
                                   QVERIFY(t->bytesDone() < t->bytesTotal());
                                   t->abort();
                               });
        QCOMPARE(transfer->error().code(), Code::Cancelled);
        QVERIFY(!m_server->objects().contains(QStringLiteral("/c")));
    }

    // --- TLS ------------------------------------------------------------------

    // An untrusted certificate: the request goes to the manager, which fails
    // it as it always did; trusted through the request's configuration, the
    // same upload streams over TLS and arrives whole.
    void tlsWithATestCa()
    {
        TestCertificate tls;
        PSA_MAKE_CERTIFICATE(tls, TestCertificate::Issuer::TestCa);

        TlsPutSink server(tls.serverConfiguration());
        QVERIFY(server.listen());
        const QUrl url = server.url(QStringLiteral("t.bin"));
        const QByteArray object = TestSupport::randomBytes(5 * 1024 * 1024, 8);
        QBuffer body;
        body.setData(object);
        QVERIFY(body.open(QIODevice::ReadOnly));

        QNetworkAccessManager manager;
        auto untrusted = upload(url, &body, &manager);
        QCOMPARE(untrusted->error().code(), Code::NetworkError);
        QVERIFY2(untrusted->error().message().contains(QStringLiteral("SSL"), Qt::CaseInsensitive)
                     || untrusted->error().message().contains(QStringLiteral("certificate"),
                                                              Qt::CaseInsensitive),
                 qPrintable(untrusted->error().message()));
        QCOMPARE(server.requests, 0);

        QVERIFY(body.seek(0));
        QHttpTransfer::Request request;
        request.request.setUrl(url);
        QSslConfiguration trusting = QSslConfiguration::defaultConfiguration();
        trusting.addCaCertificates({tls.ca()});
        request.request.setSslConfiguration(trusting);
        request.method = "PUT";
        request.body = &body;
        QHttpTransfer transfer(Kind::Upload, &manager);
        transfer.setStreamThreshold(0);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(30000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QVERIFY(transfer.isStreamed());
        QCOMPARE(server.requests, 1);
        QCOMPARE(server.received.size(), 1);
        QCOMPARE(server.received.last(), object);
    }

    // --- real servers -----------------------------------------------------------

    void byteIdenticalToNginx()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        const qint64 size = 48 * 1024 * 1024 + 123;
        QVERIFY(writeFile(path, size, 9));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        auto transfer = upload(nginx.url(QStringLiteral("up/big.bin")), &file, &m_manager);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(transfer->isStreamed());
        const QString stored = nginx.rootPath() + QStringLiteral("/up/big.bin");
        QCOMPARE(QFileInfo(stored).size(), size);
        QCOMPARE(sha256Of(stored), sha256Of(path));

        // A method nginx refuses for the location: its status comes back.
        QVERIFY(file.seek(0));
        QHttpTransfer::Request request;
        request.request.setUrl(nginx.url(QStringLiteral("up/")));
        request.method = "PUT";
        request.body = &file;
        QHttpTransfer refused(Kind::Upload, &m_manager);
        refused.setStreamThreshold(0);
        QSignalSpy finished(&refused, &QAttachmentTransfer::finished);
        refused.start(request);
        QVERIFY(finished.wait(60000));
        QVERIFY(refused.isStreamed());
        QVERIFY2(refused.error().httpStatus() >= 400, qPrintable(refused.error().message()));
    }

    // The whole way: queue, QHttpRemoteStorage, the embedded server.
    void byteIdenticalToTheEmbeddedServer()
    {
        if (AttachmentsServer::program().isEmpty())
            QSKIP("powersync-attachments-server is not built");
        QTemporaryDir root;
        AttachmentsServer server;
        QVERIFY2(server.start(root.path()), qPrintable(server.errorString()));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        const qint64 size = 20 * 1024 * 1024 + 5;
        QVERIFY(writeFile(path, size, 10));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));

        QHttpRemoteStorage storage;
        QCOMPARE(storage.streamingUploadThreshold(), QHttpTransfer::DefaultStreamThreshold);
        storage.setBaseUrl(server.url());
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage.upload(attachmentNamed(QStringLiteral("b"), QStringLiteral("b.bin"),
                                           QStringLiteral("image/png")),
                           &file));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(60000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(static_cast<QHttpTransfer *>(transfer.get())->isStreamed());
        const QString stored = root.filePath(QStringLiteral("b.bin"));
        QCOMPARE(QFileInfo(stored).size(), size);
        QCOMPARE(sha256Of(stored), sha256Of(path));

        // A server that wants a token: its 401 comes back as Unauthorized.
        QTemporaryDir lockedRoot;
        AttachmentsServer locked;
        locked.setToken("s3cret");
        QVERIFY2(locked.start(lockedRoot.path()), qPrintable(locked.errorString()));
        QVERIFY(file.seek(0));
        QHttpRemoteStorage noToken;
        noToken.setBaseUrl(locked.url());
        std::unique_ptr<QAttachmentTransfer> refused(
            noToken.upload(attachmentNamed(QStringLiteral("c"), QStringLiteral("c.bin")), &file));
        QSignalSpy refusedFinished(refused.get(), &QAttachmentTransfer::finished);
        QVERIFY(refusedFinished.wait(60000));
        QVERIFY(static_cast<QHttpTransfer *>(refused.get())->isStreamed());
        QCOMPARE(refused->error().code(), Code::Unauthorized);
        QCOMPARE(refused->error().httpStatus(), 401);
        QVERIFY(!QFileInfo::exists(lockedRoot.filePath(QStringLiteral("c.bin"))));
    }
};

QTEST_MAIN(tst_HttpStreamUpload)
#include "tst_httpstreamupload.moc"
