// The HTTP transfer against the fault server: ranges and resuming, error
// mapping, redirects, streaming details, certificates.

#include "httpsuite.h"

class tst_HttpTransfer : public FaultServerSuite
{
    Q_OBJECT

private Q_SLOTS:
    // --- QHttpTransfer ---------------------------------------------------------

    void resumesWithRange()
    {
        const QByteArray object = TestSupport::randomBytes(100000, 1);
        m_server->objects().insert(QStringLiteral("/a.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(object.left(30000));
        setValidator(sink, FaultServer::etagOf(object));
        QSignalSpy progress(&sink, &QIODevice::bytesWritten);

        auto transfer = exchange(Kind::Download, get(QStringLiteral("/a.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->httpStatus(), 206);
        QCOMPARE(m_server->requests().first().headers.value("range"), "bytes=30000-");
        QCOMPARE(m_server->requests().first().headers.value("if-range"),
                 FaultServer::etagOf(object));
        QCOMPARE(m_server->requests().first().headers.value("accept-encoding"), "identity");
        QCOMPARE(sink.pos(), object.size());
        QCOMPARE(sink.data(), object);
        QCOMPARE(transfer->bytesDone(), object.size());
        QCOMPARE(transfer->bytesTotal(), object.size());
        QCOMPARE(transfer->responseBody(), QByteArray()); // the body went to the sink
    }

    // A server that ignores Range sends everything again: the sink starts over.
    void rangeIgnoredStartsOver()
    {
        const QByteArray object = TestSupport::randomBytes(50000, 2);
        m_server->addFault("GET", Fault::answer(200, object));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(QByteArray(20000, 'z'));
        setValidator(sink, "\"old\"");
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/b.bin"), &sink));
        QVERIFY(!transfer->error().isError());
        QCOMPARE(transfer->httpStatus(), 200);
        QCOMPARE(sink.pos(), object.size());
        QCOMPARE(sink.data(), object);
    }

    // A partial file that no longer fits (416) is fetched whole.
    void rangeNotSatisfiableRestarts()
    {
        const QByteArray object = "short object";
        m_server->objects().insert(QStringLiteral("/c.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(QByteArray(5000, 'z'));
        setValidator(sink, FaultServer::etagOf(object));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/c.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->requests().size(), 2);
        QVERIFY(!m_server->requests().at(1).headers.contains("range"));
        QCOMPARE(sink.pos(), object.size());
        QCOMPARE(sink.data().left(sink.pos()), object);
    }

    // Aborted between the 416 and the request that starts over: nothing more
    // is sent, and the file is left alone.
    void abortBeforeRestartAfterRangeNotSatisfiable()
    {
        m_server->objects().insert(QStringLiteral("/c2.bin"), "short object");
        RewindHookBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(QByteArray(5000, 'z'));
        setValidator(sink, FaultServer::etagOf("short object"));
        QHttpTransfer transfer(Kind::Download, &m_manager);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        sink.onRewind = [&transfer] { transfer.abort(); };
        transfer.start(get(QStringLiteral("/c2.bin"), &sink));
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer.error().code(), Code::Cancelled);
        QCOMPARE(transfer.httpStatus(), 416);
        // A request started over would reach the server before this one.
        m_server->objects().insert(QStringLiteral("/probe"), "p");
        auto probe = exchange(Kind::Download, get(QStringLiteral("/probe")));
        QVERIFY2(!probe->error().isError(), qPrintable(probe->error().message()));
        QCOMPARE(m_server->requests().size(), 2);
        QCOMPARE(m_server->requests().at(1).path, QStringLiteral("/probe"));
        QCOMPARE(sink.data(), QByteArray(5000, 'z'));
        QCOMPARE(finished.count(), 1);
    }

    void wrongContentRangeIsAnError()
    {
        m_server->addFault(
            "GET",
            Fault::answer(206, "xyz", {{"Content-Range", "bytes 0-2/3"}, {"ETag", "\"v\""}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write("abc");
        setValidator(sink, "\"v\"");
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/d.bin"), &sink));
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QVERIFY(transfer->error().message().contains(QStringLiteral("Content-Range")));
        QCOMPARE(sink.data(), QByteArray("abc"));
    }

    // A range answer that stops short of the end would leave the file incomplete.
    void partialRangeAnswerIsAnError()
    {
        m_server->addFault(
            "GET",
            Fault::answer(206, "def", {{"Content-Range", "bytes 3-5/10"}, {"ETag", "\"v\""}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write("abc");
        setValidator(sink, "\"v\"");
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/d2.bin"), &sink));
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QVERIFY(transfer->error().message().contains(QStringLiteral("Content-Range")));
    }

    // Without a validator nothing tells which version the bytes in the sink
    // belong to: the download starts from 0 instead of asking for the rest.
    void resumeWithoutValidatorStartsOver()
    {
        const QByteArray object = TestSupport::randomBytes(40000, 21);
        m_server->objects().insert(QStringLiteral("/nv.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(QByteArray(10000, 'z'));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/nv.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->requests().size(), 1);
        QVERIFY(!m_server->requests().first().headers.contains("range"));
        QVERIFY(!m_server->requests().first().headers.contains("if-range"));
        QCOMPARE(transfer->httpStatus(), 200);
        QCOMPARE(sink.pos(), object.size());
        QCOMPARE(sink.data(), object);
        QCOMPARE(validatorOf(sink), FaultServer::etagOf(object)); // for the next resume
    }

    // A validator that could not go into a header as it is (control
    // characters, a line break from a tampered file) counts as none.
    void unusableValidatorStartsOver()
    {
        const QByteArray object = TestSupport::randomBytes(30000, 24);
        m_server->objects().insert(QStringLiteral("/u.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(object.left(10000));
        setValidator(sink, FaultServer::etagOf(object) + "\r\nX-Injected: 1");
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/u.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->requests().size(), 1);
        QVERIFY(!m_server->requests().first().headers.contains("range"));
        QVERIFY(!m_server->requests().first().headers.contains("if-range"));
        QVERIFY(!m_server->requests().first().headers.contains("x-injected"));
        QCOMPARE(sink.data(), object);
    }

    // The object was replaced after the first bytes arrived. This server
    // ignores If-Range and answers 206 with the rest of the new version: its
    // ETag gives it away and the download starts over from 0.
    void replacedObjectStartsOver()
    {
        const QByteArray before = TestSupport::randomBytes(60000, 22);
        const QByteArray after = TestSupport::randomBytes(60000, 23);
        m_server->objects().insert(QStringLiteral("/r.bin"), after);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(before.left(25000));
        setValidator(sink, FaultServer::etagOf(before));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/r.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->requests().size(), 2);
        QCOMPARE(m_server->requests().at(0).headers.value("if-range"), FaultServer::etagOf(before));
        QCOMPARE(m_server->requests().at(0).headers.value("range"), "bytes=25000-");
        QVERIFY(!m_server->requests().at(1).headers.contains("range"));
        QCOMPARE(sink.pos(), after.size());
        QCOMPARE(sink.data().left(sink.pos()), after);
        QCOMPARE(validatorOf(sink), FaultServer::etagOf(after));
    }

    // Without an ETag, Last-Modified is the validator; a weak ETag is none.
    void validatorFromLastModifiedOrNone()
    {
        const QByteArray date = "Tue, 01 Jul 2025 10:00:00 GMT";
        m_server->addFault("GET", Fault::answer(200, "dated", {{"Last-Modified", date}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/lm.bin"), &sink));
        QVERIFY(!transfer->error().isError());
        QCOMPARE(validatorOf(sink), date);

        // Resumed with the date, against a 206 that carries the same date.
        m_server->addFault(
            "GET",
            Fault::answer(206, "ted", {{"Content-Range", "bytes 2-4/5"}, {"Last-Modified", date}}));
        sink.seek(2);
        transfer = exchange(Kind::Download, get(QStringLiteral("/lm.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(m_server->requests().last().headers.value("if-range"), date);
        QCOMPARE(sink.data(), QByteArray("dated"));

        m_server->addFault(
            "GET", Fault::answer(200, "weak", {{"ETag", "W/\"w1\""}, {"Last-Modified", date}}));
        QBuffer other;
        QVERIFY(other.open(QIODevice::ReadWrite));
        transfer = exchange(Kind::Download, get(QStringLiteral("/weak.bin"), &other));
        QVERIFY(!transfer->error().isError());
        QCOMPARE(validatorOf(other), QByteArray());
    }

    void chunkedBodyIsAccepted()
    {
        m_server->addFault("GET",
                           Fault::of(Fault::Raw,
                                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                     "\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/e.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), QByteArray("hello world"));
    }

    // An error body is kept for the message, never written into the file.
    void errorBodyStaysOutOfTheSink()
    {
        m_server->addFault("GET", Fault::answer(500, "<Error>backend exploded</Error>"));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/f.bin"), &sink));
        QCOMPARE(transfer->error().code(), Code::ServerError);
        QCOMPARE(transfer->error().httpStatus(), 500);
        QVERIFY(transfer->error().message().contains(QStringLiteral("backend exploded")));
        QVERIFY(transfer->error().message().contains(QStringLiteral("Internal Server Error")));
        QCOMPARE(transfer->responseBody(), "<Error>backend exploded</Error>");
        QCOMPARE(sink.size(), 0);
    }

    void statusMapping_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::newRow("400") << 400 << int(Code::ClientError);
        QTest::newRow("401") << 401 << int(Code::Unauthorized);
        QTest::newRow("403") << 403 << int(Code::Unauthorized);
        QTest::newRow("404") << 404 << int(Code::NotFound);
        QTest::newRow("408") << 408 << int(Code::Timeout);
        QTest::newRow("409") << 409 << int(Code::ClientError);
        QTest::newRow("429") << 429 << int(Code::RateLimited);
        QTest::newRow("500") << 500 << int(Code::ServerError);
        QTest::newRow("502") << 502 << int(Code::ServerError);
        QTest::newRow("302") << 302 << int(Code::ProtocolError);
    }
    void statusMapping()
    {
        QFETCH(int, status);
        QFETCH(int, code);
        m_server->addFault("GET", Fault::answer(status, "why", {{"Location", "/other"}}));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/g.bin")));
        QCOMPARE(transfer->error().code(), Code(code));
        QCOMPARE(transfer->error().httpStatus(), status);
        QCOMPARE(transfer->httpStatus(), status);
        QVERIFY(transfer->error().message().contains(QString::number(status)));
        QCOMPARE(m_server->requests().size(), 1); // nothing followed, nothing resent
    }

    void customErrorParser()
    {
        m_server->addFault("GET", Fault::answer(403, "<Code>SignatureDoesNotMatch</Code>"));
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Download, &m_manager);
        QByteArray seenBody;
        transfer->setErrorParser([&](int status, const QByteArray &body) {
            seenBody = body;
            return QAttachmentError(QAttachmentError::Unauthorized,
                                    QStringLiteral("signature mismatch (%1)").arg(status));
        });
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(get(QStringLiteral("/h.bin")));
        QVERIFY(finished.wait(5000));
        QCOMPARE(seenBody, "<Code>SignatureDoesNotMatch</Code>");
        QCOMPARE(transfer->error().message(), QStringLiteral("signature mismatch (403)"));
        QCOMPARE(transfer->error().httpStatus(), 403);
    }

    void notFoundIsSuccessForDelete()
    {
        QHttpTransfer::Request request = get(QStringLiteral("/missing"));
        request.method = "DELETE";
        auto strict = exchange(Kind::Delete, request);
        QCOMPARE(strict->error().code(), Code::NotFound);
        request.notFoundIsSuccess = true;
        auto lenient = exchange(Kind::Delete, request);
        QVERIFY(!lenient->error().isError());
        QCOMPARE(lenient->httpStatus(), 404);
    }

    // Only bodySize bytes from the device's position are sent, with their length.
    void uploadsASliceOfTheDevice()
    {
        const QByteArray data = TestSupport::randomBytes(10000, 4);
        QBuffer body;
        body.setData(data);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QVERIFY(body.seek(1000));
        QHttpTransfer::Request request = get(QStringLiteral("/slice.bin"));
        request.method = "PUT";
        request.body = &body;
        request.bodySize = 4000;
        request.request.setRawHeader("X-Extra", "1");
        auto transfer = exchange(Kind::Upload, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->httpStatus(), 201);
        QCOMPARE(m_server->objects().value(QStringLiteral("/slice.bin")), data.mid(1000, 4000));
        const FaultServer::Request seen = m_server->requests().first();
        QCOMPARE(seen.headers.value("content-length"), "4000");
        QCOMPARE(seen.headers.value("x-extra"), "1");
        QCOMPARE(transfer->bytesDone(), 4000);
        QCOMPARE(transfer->bytesTotal(), 4000);
    }

    // The caller may drop a transfer, and the device it was reading, at any
    // moment after start() or abort(): QNAM's queued work must not reach them.
    void deletedRightAfterStart_data()
    {
        QTest::addColumn<bool>("abortFirst");
        QTest::newRow("deleted") << false;
        QTest::newRow("aborted then deleted") << true;
    }
    void deletedRightAfterStart()
    {
        QFETCH(bool, abortFirst);
        auto body = std::make_unique<QBuffer>();
        body->setData(TestSupport::randomBytes(300000, 5));
        QVERIFY(body->open(QIODevice::ReadOnly));
        QHttpTransfer::Request request = get(QStringLiteral("/dropped.bin"));
        request.method = "PUT";
        request.body = body.get();
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Upload, &m_manager);
        transfer->start(request);
        if (abortFirst)
            transfer->abort();
        transfer.reset();
        body.reset();
        // A later exchange on the same manager runs normally.
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        m_server->objects().insert(QStringLiteral("/after"), QByteArray(1000, 'a'));
        auto after = exchange(Kind::Download, get(QStringLiteral("/after"), &sink));
        QVERIFY2(!after->error().isError(), qPrintable(after->error().message()));
        QCOMPARE(sink.data(), QByteArray(1000, 'a'));
        QVERIFY(!m_server->objects().contains(QStringLiteral("/dropped.bin")));
    }

    void emptyUploadSendsZeroLength()
    {
        QBuffer body;
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpTransfer::Request request = get(QStringLiteral("/empty.bin"));
        request.method = "PUT";
        request.body = &body;
        auto transfer = exchange(Kind::Upload, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(m_server->objects().contains(QStringLiteral("/empty.bin")));
        QCOMPARE(m_server->requests().first().headers.value("content-length"), "0");
    }

    // A HEAD answer announces the length of the body it leaves out.
    void headRequest()
    {
        m_server->objects().insert(QStringLiteral("/head.bin"), QByteArray(1234, 'h'));
        QHttpTransfer::Request request = get(QStringLiteral("/head.bin"));
        request.method = "HEAD";
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->httpStatus(), 200);
        QCOMPARE(transfer->responseHeader("content-length"), "1234");
        QCOMPARE(transfer->responseBody(), QByteArray());
    }

    // A download follows a redirect when asked to; the sink gets the target's
    // body only, resumed when it holds a part already.
    void downloadFollowsRedirect()
    {
        const QByteArray object = TestSupport::randomBytes(20000, 6);
        QHash<QByteArray, int> requests; // path → count
        QTcpServer server;
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (QTcpSocket *socket = server.nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                connect(socket, &QTcpSocket::readyRead, socket, [&, socket, buffer] {
                    *buffer += socket->readAll();
                    qsizetype end;
                    while ((end = buffer->indexOf("\r\n\r\n")) >= 0) {
                        const QList<QByteArray> lines = buffer->left(end).split('\n');
                        buffer->remove(0, end + 4);
                        const QByteArray path = lines.value(0).split(' ').value(1);
                        ++requests[path];
                        qint64 from = 0;
                        for (const QByteArray &line : lines) {
                            if (line.toLower().startsWith("range: bytes="))
                                from = line.trimmed().mid(13).chopped(1).toLongLong();
                        }
                        if (path == "/loop") {
                            socket->write("HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
                                          "Content-Length: 0\r\n\r\n");
                        } else if (path == "/moved.bin") {
                            socket->write("HTTP/1.1 302 Found\r\nLocation: /real.bin\r\n"
                                          "Content-Length: 20\r\n\r\nmoved, see /real.bin");
                        } else if (from > 0) {
                            socket->write("HTTP/1.1 206 Partial Content\r\nETag: \"e1\"\r\n"
                                          "Content-Range: bytes "
                                          + QByteArray::number(from) + '-'
                                          + QByteArray::number(object.size() - 1) + '/'
                                          + QByteArray::number(object.size())
                                          + "\r\nContent-Length: "
                                          + QByteArray::number(object.size() - from) + "\r\n\r\n"
                                          + object.mid(from));
                        } else {
                            socket->write("HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Length: "
                                          + QByteArray::number(object.size()) + "\r\n\r\n"
                                          + object);
                        }
                    }
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        const QUrl url(QStringLiteral("http://127.0.0.1:%1/moved.bin").arg(server.serverPort()));

        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request;
        request.request.setUrl(url);
        request.sink = &sink;
        request.followRedirects = true;
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->httpStatus(), 200);
        QCOMPARE(requests.value("/real.bin"), 1);
        QCOMPARE(sink.data(), object);
        QCOMPARE(transfer->bytesDone(), object.size());

        QBuffer partial;
        QVERIFY(partial.open(QIODevice::ReadWrite));
        partial.write(object.left(5000));
        setValidator(partial, validatorOf(sink)); // kept from the first download
        QCOMPARE(validatorOf(partial), QByteArray("\"e1\""));
        request.sink = &partial;
        request.resumeFrom = 5000;
        auto resumed = exchange(Kind::Download, request);
        QVERIFY2(!resumed->error().isError(), qPrintable(resumed->error().message()));
        QCOMPARE(resumed->httpStatus(), 206);
        QCOMPARE(partial.data(), object);
        QCOMPARE(resumed->bytesDone(), object.size());
        QCOMPARE(resumed->bytesTotal(), object.size());

        // A redirect loop ends.
        request.request.setUrl(url.resolved(QUrl(QStringLiteral("/loop"))));
        auto loop = exchange(Kind::Download, request);
        QCOMPARE(loop->error().code(), Code::ProtocolError);
        QCOMPARE(loop->httpStatus(), 302);
        QVERIFY(requests.value("/loop") > 1);
        QVERIFY(requests.value("/loop") < 20);
    }

    void responseHeadersAndBody()
    {
        m_server->addFault("PUT", Fault::answer(200, "<ok/>", {{"ETag", "\"abc\""}}));
        QBuffer body;
        body.setData("x");
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpTransfer::Request request = get(QStringLiteral("/etag"));
        request.method = "PUT";
        request.body = &body;
        auto transfer = exchange(Kind::Upload, request);
        QVERIFY(!transfer->error().isError());
        QCOMPARE(transfer->responseHeader("etag"), "\"abc\"");
        QCOMPARE(transfer->responseBody(), "<ok/>");
    }

    void successBodyBeyondLimitIsAnError()
    {
        m_server->objects().insert(QStringLiteral("/big"), QByteArray(5000, 'b'));
        QHttpTransfer::Request request = get(QStringLiteral("/big"));
        request.maxKeptBody = 1000;
        auto transfer = exchange(Kind::Download, request);
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QVERIFY(transfer->responseBody().size() <= 1000);
    }

    void connectionRefused()
    {
        QHttpTransfer::Request request;
        request.request.setUrl(
            QUrl(QStringLiteral("http://127.0.0.1:%1/x").arg(TestSupport::freePort())));
        auto transfer = exchange(Kind::Download, request);
        QCOMPARE(transfer->error().code(), Code::NetworkError);
        QVERIFY(!transfer->error().message().isEmpty());
        QVERIFY(transfer->error().isRetryable());
    }

    void invalidUrl()
    {
        auto transfer = exchange(Kind::Download, QHttpTransfer::Request());
        QCOMPARE(transfer->error().code(), Code::InvalidInput);
    }

    void sinkWriteFailure()
    {
        m_server->objects().insert(QStringLiteral("/w"), QByteArray(1000, 'w'));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadOnly)); // writes fail
        auto transfer = exchange(Kind::Download, get(QStringLiteral("/w"), &sink));
        QCOMPARE(transfer->error().code(), Code::LocalStorageError);
    }

    void abortEndsAsCancelled()
    {
        m_server->addFault("GET", Fault::of(Fault::Stall));
        m_server->objects().insert(QStringLiteral("/s"), QByteArray(100000, 's'));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer transfer(Kind::Download, &m_manager);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        QSignalSpy received(m_server.get(), &FaultServer::requestReceived);
        transfer.start(get(QStringLiteral("/s"), &sink));
        QVERIFY(received.wait(5000));
        PSA_WAIT(transfer.bytesDone() > 0, 5000);
        transfer.abort();
        QVERIFY(finished.wait(5000));
        QCOMPARE(transfer.error().code(), Code::Cancelled);
        QTest::qWait(0);
        QCOMPARE(finished.count(), 1);
    }

    // A certificate nobody vouches for fails the exchange; trusting it makes
    // the same exchange succeed, so it is the verification that failed.
    void certificatesAreVerified()
    {
        TestCertificate tls;
        PSA_MAKE_CERTIFICATE(tls, TestCertificate::Issuer::Itself);

        QSslConfiguration serverConfig = tls.serverConfiguration();
        QSslServer server;
        server.setSslConfiguration(serverConfig);
        int httpRequests = 0;
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (auto *socket = qobject_cast<QSslSocket *>(server.nextPendingConnection())) {
                connect(socket, &QSslSocket::readyRead, socket, [&httpRequests, socket] {
                    if (!socket->readAll().contains("\r\n\r\n"))
                        return;
                    ++httpRequests;
                    socket->write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
                });
                connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));

        QHttpRemoteStorage storage;
        storage.setBaseUrl(QUrl(QStringLiteral("https://127.0.0.1:%1/").arg(server.serverPort())));
        const auto download = [&](QAttachmentError *error) {
            QBuffer sink;
            sink.open(QIODevice::ReadWrite);
            std::unique_ptr<QAttachmentTransfer> transfer(
                storage.download(attachmentNamed(QStringLiteral("t"), QStringLiteral("t")), &sink));
            QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
            if (!finished.wait(10000))
                return QByteArray("(timeout)");
            *error = transfer->error();
            return sink.data();
        };

        QAttachmentError error;
        QCOMPARE(download(&error), QByteArray());
        QCOMPARE(error.code(), Code::NetworkError);
        QVERIFY2(
            error.message().contains(QStringLiteral("SSL"), Qt::CaseInsensitive)
                || error.message().contains(QStringLiteral("certificate"), Qt::CaseInsensitive),
            qPrintable(error.message()));
        QCOMPARE(httpRequests, 0);

        const QSslConfiguration original = QSslConfiguration::defaultConfiguration();
        QSslConfiguration trusting = original;
        trusting.addCaCertificates({tls.certificate()});
        auto *manager = new QNetworkAccessManager(&storage);
        QSslConfiguration::setDefaultConfiguration(trusting);
        storage.setNetworkAccessManager(manager);
        const QByteArray body = download(&error);
        QSslConfiguration::setDefaultConfiguration(original);
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(body, "hello");
        QCOMPARE(httpRequests, 1);
    }
};

QTEST_MAIN(tst_HttpTransfer)
#include "tst_httptransfer.moc"
