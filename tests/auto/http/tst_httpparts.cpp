// Downloads fetched as a series of Range requests ("parts"), which bound
// what Qt holds of an HTTP/2 download. The fault server speaks HTTP/1.1
// only, so these requests allow parts over HTTP/1.1 too; the way over
// HTTP/2 itself is in tst_httph2large.

#include "httpsuite.h"

#include <algorithm>

namespace {

constexpr qint64 PartSize = 10000;

QByteArray rangeOf(const FaultServer::Request &request)
{
    return request.headers.value("range");
}

// The Range headers of the GET requests the server saw, in their order.
QList<QByteArray> rangesInOrder(const FaultServer &server)
{
    QList<QByteArray> ranges;
    for (const FaultServer::Request &request : server.requests()) {
        if (request.method == "GET")
            ranges << rangeOf(request);
    }
    return ranges;
}

// The same, sorted (parts asked for ahead travel on several connections, in
// no fixed order).
QList<QByteArray> rangesAsked(const FaultServer &server)
{
    QList<QByteArray> ranges = rangesInOrder(server);
    std::sort(ranges.begin(), ranges.end());
    return ranges;
}

QList<std::pair<QByteArray, QByteArray>> wholeHeaders(const QByteArray &object)
{
    return {{"Accept-Ranges", "bytes"}, {"ETag", FaultServer::etagOf(object)}};
}

} // namespace

class tst_HttpParts : public FaultServerSuite
{
    Q_OBJECT

private:
    QHttpTransfer::Request partsGet(const QString &path, QIODevice *sink, int ahead = 0)
    {
        QHttpTransfer::Request request = get(path, sink);
        request.partsOverHttp1 = true;
        request.http2PartSize = PartSize;
        request.http2PartsAhead = ahead;
        return request;
    }

private Q_SLOTS:
    // The first answer is dropped once its headers say the server serves
    // ranges of a version it names; the parts follow, each with If-Range,
    // some asked for ahead, and the file arrives whole with progress that
    // never goes back.
    void downloadsInParts_data()
    {
        QTest::addColumn<int>("ahead");
        QTest::newRow("one part at a time") << 0;
        QTest::newRow("three parts ahead") << 3;
    }
    void downloadsInParts()
    {
        QFETCH(int, ahead);
        const QByteArray object = TestSupport::randomBytes(45000, 31);
        m_server->objects().insert(QStringLiteral("/p.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer transfer(Kind::Download, &m_manager);
        qint64 lastDone = 0;
        bool wentBack = false;
        bool beyondTotal = false;
        connect(&transfer, &QAttachmentTransfer::progress, this, [&](qint64 done, qint64 total) {
            wentBack = wentBack || done < lastDone;
            beyondTotal = beyondTotal || (total >= 0 && done > total);
            lastDone = done;
        });
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(partsGet(QStringLiteral("/p.bin"), &sink, ahead));
        QVERIFY(finished.wait(10000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QCOMPARE(sink.data(), object);
        QCOMPARE(transfer.bytesDone(), object.size());
        QCOMPARE(transfer.bytesTotal(), object.size());
        QVERIFY(!wentBack);
        QVERIFY(!beyondTotal);
        const QList<QByteArray> expected = {"",
                                            "bytes=0-9999",
                                            "bytes=10000-19999",
                                            "bytes=20000-29999",
                                            "bytes=30000-39999",
                                            "bytes=40000-44999"};
        QCOMPARE(rangesAsked(*m_server), expected);
        for (const FaultServer::Request &request : m_server->requests()) {
            if (!rangeOf(request).isEmpty())
                QCOMPARE(request.headers.value("if-range"), FaultServer::etagOf(object));
        }
    }

    // A partial file is resumed where it ends, in parts from there.
    void resumesInParts()
    {
        const QByteArray object = TestSupport::randomBytes(45000, 32);
        m_server->objects().insert(QStringLiteral("/r.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(object.left(15000));
        setValidator(sink, FaultServer::etagOf(object));
        auto transfer = exchange(Kind::Download, partsGet(QStringLiteral("/r.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), object);
        const QList<QByteArray> expected
            = {"bytes=15000-", "bytes=15000-24999", "bytes=25000-34999", "bytes=35000-44999"};
        QCOMPARE(rangesAsked(*m_server), expected);
    }

    // To a server known to speak HTTP/2 the first request asks for the first
    // part already (without If-Range: nothing came before it), and what its
    // answer says decides the rest.
    void knownServerStartsWithAPart_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("resumeFrom");
        QTest::addColumn<bool>("overHttp1");
        QTest::addColumn<QList<QByteArray>>("ranges");
        QTest::newRow("in parts") << 45000 << 0 << true
                                  << QList<QByteArray> {"bytes=0-9999", "bytes=10000-19999",
                                                        "bytes=20000-29999", "bytes=30000-39999",
                                                        "bytes=40000-44999"};
        QTest::newRow("resumed in parts")
            << 45000 << 15000 << true
            << QList<QByteArray> {"bytes=15000-24999", "bytes=25000-34999", "bytes=35000-44999"};
        QTest::newRow("all in the first part")
            << 8000 << 0 << true << QList<QByteArray> {"bytes=0-9999"};
        QTest::newRow("empty: one answer after the 416")
            << 0 << 0 << true << QList<QByteArray> {"bytes=0-9999", ""};
        QTest::newRow("HTTP/1.1 after all: the rest in one answer")
            << 45000 << 0 << false << QList<QByteArray> {"bytes=0-9999", "bytes=10000-"};
    }
    void knownServerStartsWithAPart()
    {
        QFETCH(int, size);
        QFETCH(int, resumeFrom);
        QFETCH(bool, overHttp1);
        QFETCH(QList<QByteArray>, ranges);
        const QByteArray object = TestSupport::randomBytes(size, 42);
        m_server->objects().insert(QStringLiteral("/k.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        if (resumeFrom > 0) {
            sink.write(object.left(resumeFrom));
            setValidator(sink, FaultServer::etagOf(object));
        }
        QHttpTransfer::Request request = partsGet(QStringLiteral("/k.bin"), &sink);
        request.partsFromTheStart = true;
        request.partsOverHttp1 = overHttp1;
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), object);
        QCOMPARE(transfer->bytesTotal(), size);
        QCOMPARE(rangesInOrder(*m_server), ranges);
        QCOMPARE(m_server->requests().first().headers.contains("if-range"), resumeFrom > 0);
    }

    // A first part without a version to ask the rest of: the whole comes in
    // one answer. A first part answered whole is the download.
    void knownServerFirstAnswerDecides_data()
    {
        QTest::addColumn<bool>("whole");
        QTest::newRow("206 without a validator") << false;
        QTest::newRow("200: ranges ignored") << true;
    }
    void knownServerFirstAnswerDecides()
    {
        QFETCH(bool, whole);
        const QByteArray object = TestSupport::randomBytes(45000, 43);
        m_server->objects().insert(QStringLiteral("/n.bin"), object);
        if (whole)
            m_server->addFault("GET", Fault::answer(200, object, wholeHeaders(object)));
        else
            m_server->addFault("GET",
                               Fault::answer(206, object.left(PartSize),
                                             {{"Content-Range", "bytes 0-9999/45000"}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request = partsGet(QStringLiteral("/n.bin"), &sink);
        request.partsFromTheStart = true;
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data().left(sink.pos()), object);
        QCOMPARE(sink.pos(), object.size());
        const QList<QByteArray> expected
            = whole ? QList<QByteArray> {"bytes=0-9999"} : QList<QByteArray> {"bytes=0-9999", ""};
        QCOMPARE(rangesInOrder(*m_server), expected);
    }

    // Parts need a server that serves ranges, a version to ask them of, a
    // body larger than one part and, by default, HTTP/2: otherwise the first
    // answer is the download.
    void partsOnlyWhereTheyFit_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<bool>("acceptRanges");
        QTest::addColumn<bool>("etag");
        QTest::addColumn<bool>("overHttp1");
        QTest::newRow("no Accept-Ranges") << 45000 << false << true << true;
        QTest::newRow("no validator") << 45000 << true << false << true;
        QTest::newRow("one part or less") << int(PartSize) << true << true << true;
        QTest::newRow("HTTP/1.1") << 45000 << true << true << false;
    }
    void partsOnlyWhereTheyFit()
    {
        QFETCH(int, size);
        QFETCH(bool, acceptRanges);
        QFETCH(bool, etag);
        QFETCH(bool, overHttp1);
        const QByteArray object = TestSupport::randomBytes(size, 33);
        QList<std::pair<QByteArray, QByteArray>> headers;
        if (acceptRanges)
            headers.append(std::make_pair(QByteArray("Accept-Ranges"), QByteArray("bytes")));
        if (etag)
            headers.append(std::make_pair(QByteArray("ETag"), FaultServer::etagOf(object)));
        m_server->addFault("GET", Fault::answer(200, object, headers));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request = partsGet(QStringLiteral("/o.bin"), &sink);
        request.partsOverHttp1 = overHttp1;
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), object);
        QCOMPARE(m_server->requestCount("GET"), 1);
    }

    // A server may send less than a part asked for: the next part starts
    // where that one ended.
    void shortPartGoesOnWhereItEnded()
    {
        const QByteArray object = TestSupport::randomBytes(45000, 34);
        m_server->objects().insert(QStringLiteral("/s.bin"), object);
        m_server->addFault("GET", Fault::answer(200, object, wholeHeaders(object)));
        m_server->addFault("GET",
                           Fault::answer(206, object.left(4000),
                                         {{"Content-Range", "bytes 0-3999/45000"},
                                          {"ETag", FaultServer::etagOf(object)}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, partsGet(QStringLiteral("/s.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), object);
        QCOMPARE(m_server->requests().size(), 7);
        QCOMPARE(rangeOf(m_server->requests().at(1)), "bytes=0-9999");
        QCOMPARE(rangeOf(m_server->requests().at(2)), "bytes=4000-13999");
        QCOMPARE(rangeOf(m_server->requests().at(6)), "bytes=44000-44999");
    }

    // The object was replaced between two parts, and this server ignores
    // If-Range: the part's ETag gives it away, and the new version is
    // fetched whole, in one answer.
    void partOfAnotherVersionStartsOver()
    {
        const QByteArray before = TestSupport::randomBytes(45000, 35);
        const QByteArray after = TestSupport::randomBytes(45000, 36);
        m_server->objects().insert(QStringLiteral("/v.bin"), after);
        m_server->addFault("GET", Fault::answer(200, before, wholeHeaders(before)));
        m_server->addFault("GET",
                           Fault::answer(206, before.left(PartSize),
                                         {{"Content-Range", "bytes 0-9999/45000"},
                                          {"ETag", FaultServer::etagOf(before)}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, partsGet(QStringLiteral("/v.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data().left(sink.pos()), after);
        QCOMPARE(sink.pos(), after.size());
        QCOMPARE(validatorOf(sink), FaultServer::etagOf(after));
        QCOMPARE(m_server->requests().size(), 4);
        QCOMPARE(rangeOf(m_server->requests().at(2)), "bytes=10000-19999");
        QCOMPARE(m_server->requests().at(2).headers.value("if-range"), FaultServer::etagOf(before));
        QCOMPARE(rangeOf(m_server->requests().at(3)), QByteArray());
    }

    // A part answered with the whole resource (the server ignores Range
    // after all, or the version changed and it honours If-Range): that
    // answer is the download, and no part follows.
    void partAnsweredWholeIsTheDownload()
    {
        const QByteArray before = TestSupport::randomBytes(45000, 37);
        const QByteArray after = TestSupport::randomBytes(47000, 38);
        m_server->addFault("GET", Fault::answer(200, before, wholeHeaders(before)));
        m_server->addFault("GET", Fault::answer(200, after, wholeHeaders(after)));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer
            = exchange(Kind::Download, partsGet(QStringLiteral("/w.bin"), &sink, /*ahead*/ 3));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.pos(), after.size());
        QCOMPARE(sink.data().left(sink.pos()), after);
        QCOMPARE(transfer->bytesTotal(), after.size());
        // Parts ahead are asked for once a part has begun as one: none here.
        QTest::qWait(100);
        QCOMPARE(m_server->requestCount("GET"), 2);
    }

    // A part must be what was asked for: from where it was asked, not
    // beyond, of a resource of the same length.
    void partThatDoesNotFitIsAnError_data()
    {
        QTest::addColumn<QByteArray>("contentRange");
        QTest::addColumn<int>("bytes");
        QTest::newRow("beyond the part") << QByteArray("bytes 0-19999/45000") << 20000;
        QTest::newRow("another start") << QByteArray("bytes 1-10000/45000") << 10000;
        QTest::newRow("another length") << QByteArray("bytes 0-9999/46000") << 10000;
        QTest::newRow("length unknown") << QByteArray("bytes 0-9999/*") << 10000;
        QTest::newRow("not a range") << QByteArray("bytes %1-%2/45000") << 10000;
    }
    void partThatDoesNotFitIsAnError()
    {
        QFETCH(QByteArray, contentRange);
        QFETCH(int, bytes);
        const QByteArray object = TestSupport::randomBytes(45000, 39);
        m_server->addFault("GET", Fault::answer(200, object, wholeHeaders(object)));
        m_server->addFault("GET",
                           Fault::answer(206, object.left(bytes),
                                         {{"Content-Range", contentRange},
                                          {"ETag", FaultServer::etagOf(object)}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, partsGet(QStringLiteral("/f.bin"), &sink));
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        // The message names what was asked for and what came, as it came.
        const QString message = transfer->error().message();
        QVERIFY2(message.contains(QStringLiteral("bytes 0-9999 of 45000")), qPrintable(message));
        QVERIFY2(
            message.contains(QStringLiteral("Content-Range \"%1\" and Content-Length %2")
                                 .arg(QString::fromLatin1(contentRange), QString::number(bytes))),
            qPrintable(message));
        QCOMPARE(sink.size(), 0);
    }

    // Credentials that expire during a download in parts (each part is a
    // request of its own): every 401 gets fresh ones, and the download goes
    // on from what it holds, however often that happens while it gets further.
    void expiringCredentialsDuringParts()
    {
        const QByteArray object = TestSupport::randomBytes(45000, 41);
        m_server->objects().insert(QStringLiteral("/t.bin"), object);
        QByteArray token = "t1";
        m_server->setRequiredToken(token);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer transfer(Kind::Download, &m_manager);
        transfer.setDevice(&sink);
        transfer.setRetryOnUnauthorized(true);
        int refreshed = 0;
        transfer.setPrepare([&](bool afterUnauthorized, QHttpTransfer::Ready ready) {
            refreshed += afterUnauthorized ? 1 : 0;
            QHttpTransfer::Request request = partsGet(QStringLiteral("/t.bin"), &sink);
            request.request.setRawHeader("Authorization", "Bearer " + token);
            ready(request, {});
        });
        // The server takes a new token once the first part is in, and again
        // once the third is.
        connect(&transfer, &QAttachmentTransfer::progress, this, [&](qint64 done, qint64) {
            const QByteArray next = done >= 3 * PartSize && token == "t2" ? "t3"
                : done >= PartSize && token == "t1"                       ? "t2"
                                                                          : QByteArray();
            if (!next.isEmpty()) {
                token = next;
                m_server->setRequiredToken(next);
            }
        });
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start();
        QVERIFY(finished.wait(10000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QCOMPARE(sink.data(), object);
        QCOMPARE(token, QByteArray("t3"));
        QCOMPARE(refreshed, 2);
        // Nothing was fetched twice from the start: after each refresh the
        // download resumed where its sink was.
        int fromStart = 0;
        for (const FaultServer::Request &request : m_server->requests())
            fromStart += rangeOf(request).startsWith("bytes=0-") ? 1 : 0;
        QCOMPARE(fromStart, 1);
    }

    // A part without a Content-Length (chunked here) is held to the range its
    // Content-Range claims: more bytes than that are an error, not data.
    void chunkedPartLongerThanItsRangeIsAnError()
    {
        const QByteArray object = TestSupport::randomBytes(45000, 44);
        QByteArray raw = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9999/45000\r\n"
                         "ETag: "
            + FaultServer::etagOf(object)
            + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        raw += QByteArray::number(15000, 16) + "\r\n" + object.left(15000) + "\r\n0\r\n\r\n";
        m_server->addFault("GET", Fault::of(Fault::Raw, raw));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request = partsGet(QStringLiteral("/c.bin"), &sink);
        request.partsFromTheStart = true;
        auto transfer = exchange(Kind::Download, request);
        QCOMPARE(transfer->error().code(), Code::ProtocolError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("longer than")),
                 qPrintable(transfer->error().message()));
        QVERIFY(sink.size() <= PartSize);
    }

    // Aborted while parts are asked for ahead: it ends once, as cancelled,
    // and the sink gets nothing more.
    void abortDuringParts()
    {
        const QByteArray object = TestSupport::randomBytes(45000, 40);
        m_server->objects().insert(QStringLiteral("/a.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer transfer(Kind::Download, &m_manager);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        qint64 sizeAtAbort = -1;
        connect(&transfer, &QAttachmentTransfer::progress, this, [&](qint64 done, qint64) {
            if (sizeAtAbort < 0 && done >= PartSize) {
                sizeAtAbort = sink.size();
                transfer.abort();
            }
        });
        transfer.start(partsGet(QStringLiteral("/a.bin"), &sink, 3));
        QVERIFY(finished.wait(10000));
        QTest::qWait(100);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(transfer.error().code(), Code::Cancelled);
        QVERIFY(sizeAtAbort >= PartSize);
        QCOMPARE(sink.size(), sizeAtAbort);
    }
};

QTEST_MAIN(tst_HttpParts)
#include "tst_httpparts.moc"
