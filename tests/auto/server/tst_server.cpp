// The embedded attachments server, run as its own process on 127.0.0.1: the
// HTTP contract QHttpRemoteStorage relies on, its refusals, and its memory use.

#include <attachmentsserver.h>
#include <testsupport.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

namespace {

struct Response
{
    int status = 0;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;

    QByteArray header(const QByteArray &name) const
    {
        for (const auto &header : headers) {
            if (header.first.compare(name, Qt::CaseInsensitive) == 0)
                return header.second;
        }
        return {};
    }
};

struct RawResponse
{
    int status = 0;
    QByteArray head;
    QByteArray body;
};

using TestSupport::readFile;
using TestSupport::writeFile;

// Peak resident memory of another process, from /proc.
using TestSupport::peakRssOf;

} // namespace

class tst_Server : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<AttachmentsServer> m_server;
    QNetworkAccessManager *m_nam = nullptr;

    QString rootPath() const { return m_dir->path() + QStringLiteral("/root"); }
    QString rootFile(const QString &name) const { return rootPath() + QLatin1Char('/') + name; }

    void startServer(const QByteArray &token = {})
    {
        m_server = std::make_unique<AttachmentsServer>();
        m_server->setToken(token);
        QVERIFY2(m_server->start(rootPath()), qPrintable(m_server->errorString()));
    }

    Response send(const QByteArray &verb, const QString &path, const QByteArray &body = {},
                  const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        QNetworkRequest request(m_server->url(path));
        request.setRawHeader("Accept-Encoding", "identity");
        for (const auto &header : headers)
            request.setRawHeader(header.first, header.second);
        QNetworkReply *reply = nullptr;
        if (verb == "PUT")
            reply = m_nam->put(request, body);
        else if (verb == "HEAD")
            reply = m_nam->head(request);
        else
            reply = m_nam->sendCustomRequest(request, verb, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        Response response;
        if (!reply->isFinished() && !finished.wait(20000)) {
            reply->abort();
            delete reply;
            qWarning("no reply to %s %s", verb.constData(), qPrintable(path));
            return response;
        }
        response.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        response.body = reply->readAll();
        response.headers = reply->rawHeaderPairs();
        response.error = reply->error();
        delete reply;
        return response;
    }

    // Bytes exactly as given, for request forms QNetworkAccessManager would
    // normalise. The request should say `Connection: close`: the response ends
    // when the server closes.
    RawResponse sendRaw(const QByteArray &request)
    {
        RawResponse response;
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        if (!socket.waitForConnected(5000))
            return response;
        socket.write(request);
        QByteArray data;
        const QDeadlineTimer deadline(10000);
        while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
            data += socket.readAll();
        }
        data += socket.readAll();
        const qsizetype end = data.indexOf("\r\n\r\n");
        if (end < 0)
            return response;
        response.head = data.left(end);
        response.body = data.mid(end + 4);
        const QList<QByteArray> statusLine = response.head.split('\n').value(0).split(' ');
        if (statusLine.value(0).startsWith("HTTP/1."))
            response.status = statusLine.value(1).toInt();
        return response;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(!AttachmentsServer::program().isEmpty());
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_nam = new QNetworkAccessManager;
    }

    void cleanup()
    {
        delete m_nam;
        m_nam = nullptr;
        m_server.reset();
        m_dir.reset();
    }

    // --- process --------------------------------------------------------------

    void startsOnFreePortAndCreatesRoot()
    {
        QVERIFY(!QFileInfo::exists(rootPath()));
        startServer();
        QVERIFY(m_server->port() > 0);
        QCOMPARE(m_server->url(),
                 QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_server->port())));
        QVERIFY(QFileInfo(rootPath()).isDir());

        // A second server gets a port of its own.
        AttachmentsServer second;
        QVERIFY2(second.start(m_dir->path() + QStringLiteral("/other")),
                 qPrintable(second.errorString()));
        QVERIFY(second.port() != m_server->port());
        QVERIFY(second.stop());
    }

    void exitsCleanlyOnSigterm()
    {
        startServer();
        QCOMPARE(send("PUT", QStringLiteral("a.txt"), "a").status, 201);
        QVERIFY(m_server->stop());
        QVERIFY(!m_server->isRunning());
    }

    void refusesBadCommandLines_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("no root") << QStringList {} << QByteArray("--root is required");
        QTest::newRow("bad port") << QStringList {QStringLiteral("--root"), QStringLiteral("r"),
                                                  QStringLiteral("--port"), QStringLiteral("70000")}
                                  << QByteArray("not a port number");
        QTest::newRow("bad address")
            << QStringList {QStringLiteral("--root"), QStringLiteral("r"), QStringLiteral("--bind"),
                            QStringLiteral("localhost.invalid")}
            << QByteArray("not an IP address");
        QTest::newRow("bad size") << QStringList {
            QStringLiteral("--root"), QStringLiteral("r"), QStringLiteral("--max-upload-size"),
            QStringLiteral("12X")} << QByteArray("not a size");
    }

    void refusesBadCommandLines()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, message);
        QProcess process;
        process.setWorkingDirectory(m_dir->path());
        process.start(AttachmentsServer::program(), arguments);
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 1);
        QVERIFY(process.readAllStandardError().contains(message));
        QVERIFY(process.readAllStandardOutput().isEmpty());
    }

    void portInUseIsAnError()
    {
        startServer();
        QProcess process;
        process.start(AttachmentsServer::program(),
                      {QStringLiteral("--root"), rootPath(), QStringLiteral("--port"),
                       QString::number(m_server->port())});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 1);
        QVERIFY(process.readAllStandardError().contains("cannot listen"));
    }

    void removesLeftoverPartialUploadsAtStart()
    {
        QVERIFY(writeFile(rootPath() + QStringLiteral("/.partial/upload-stale"), "stale"));
        startServer();
        QVERIFY(QDir(rootPath() + QStringLiteral("/.partial"))
                    .entryList(QDir::Files | QDir::Hidden)
                    .isEmpty());
    }

    // --- PUT / GET ------------------------------------------------------------

    void putGetRoundTrip()
    {
        startServer();
        const QByteArray data = TestSupport::randomBytes(3 * 1024 * 1024 + 17, 7);
        const Response created = send("PUT", QStringLiteral("photos/2024/p1.jpg"), data);
        QCOMPARE(created.status, 201);
        QCOMPARE(readFile(rootFile(QStringLiteral("photos/2024/p1.jpg"))), data);

        const Response got = send("GET", QStringLiteral("photos/2024/p1.jpg"));
        QCOMPARE(got.status, 200);
        QCOMPARE(got.body.size(), data.size());
        QVERIFY(got.body == data);
        QCOMPARE(got.header("Content-Length"), QByteArray::number(data.size()));
        QCOMPARE(got.header("Content-Type"), QByteArray("image/jpeg"));
        QCOMPARE(got.header("Accept-Ranges"), QByteArray("bytes"));

        const QByteArray replacement = "a much shorter replacement";
        QCOMPARE(send("PUT", QStringLiteral("photos/2024/p1.jpg"), replacement).status, 204);
        QCOMPARE(readFile(rootFile(QStringLiteral("photos/2024/p1.jpg"))), replacement);
        QCOMPARE(send("GET", QStringLiteral("photos/2024/p1.jpg")).body, replacement);

        // Nothing is left behind in the upload area.
        QVERIFY(QDir(rootPath() + QStringLiteral("/.partial"))
                    .entryList(QDir::Files | QDir::Hidden)
                    .isEmpty());
    }

    void emptyAndUnusualNames()
    {
        startServer();
        QCOMPARE(send("PUT", QStringLiteral("empty.dat"), {}).status, 201);
        QVERIFY(QFileInfo(rootFile(QStringLiteral("empty.dat"))).isFile());
        const Response empty = send("GET", QStringLiteral("empty.dat"));
        QCOMPARE(empty.status, 200);
        QVERIFY(empty.body.isEmpty());
        QCOMPARE(empty.header("Content-Type"), QByteArray("application/octet-stream"));

        const QString name = QStringLiteral("caf\u00e9 photo #1.png");
        QCOMPARE(send("PUT", name, "png bytes").status, 201);
        QCOMPARE(readFile(rootFile(name)), QByteArray("png bytes"));
        const Response got = send("GET", name);
        QCOMPARE(got.body, QByteArray("png bytes"));
        QCOMPARE(got.header("Content-Type"), QByteArray("image/png"));
    }

    void getMissingAndDirectories()
    {
        startServer();
        QCOMPARE(send("GET", QStringLiteral("missing.txt")).status, 404);
        QVERIFY(QDir().mkpath(rootFile(QStringLiteral("dir"))));
        QCOMPARE(send("GET", QStringLiteral("dir")).status, 404);
        QCOMPARE(send("GET", QString()).status, 404);
        QCOMPARE(send("PUT", QStringLiteral("dir"), "x").status, 409);
        QCOMPARE(send("DELETE", QStringLiteral("dir")).status, 409);
        QVERIFY(QFileInfo(rootFile(QStringLiteral("dir"))).isDir());
        // A file where a parent directory should be.
        QCOMPARE(send("PUT", QStringLiteral("file.txt"), "x").status, 201);
        QCOMPARE(send("PUT", QStringLiteral("file.txt/child.txt"), "x").status, 409);
    }

    // --- ranges and HEAD --------------------------------------------------------

    void ranges_data()
    {
        QTest::addColumn<QByteArray>("range");
        QTest::addColumn<int>("status");
        QTest::addColumn<qint64>("first"); // of the body within the file
        QTest::addColumn<qint64>("length");
        QTest::addColumn<QByteArray>("contentRange");
        // The file has 1000 bytes.
        QTest::newRow("from") << QByteArray("bytes=100-") << 206 << qint64(100) << qint64(900)
                              << QByteArray("bytes 100-999/1000");
        QTest::newRow("from-to") << QByteArray("bytes=10-19") << 206 << qint64(10) << qint64(10)
                                 << QByteArray("bytes 10-19/1000");
        QTest::newRow("one byte") << QByteArray("bytes=0-0") << 206 << qint64(0) << qint64(1)
                                  << QByteArray("bytes 0-0/1000");
        QTest::newRow("last byte") << QByteArray("bytes=999-") << 206 << qint64(999) << qint64(1)
                                   << QByteArray("bytes 999-999/1000");
        QTest::newRow("end clamped") << QByteArray("bytes=990-5000") << 206 << qint64(990)
                                     << qint64(10) << QByteArray("bytes 990-999/1000");
        QTest::newRow("suffix") << QByteArray("bytes=-10") << 206 << qint64(990) << qint64(10)
                                << QByteArray("bytes 990-999/1000");
        QTest::newRow("suffix longer than file") << QByteArray("bytes=-5000") << 206 << qint64(0)
                                                 << qint64(1000) << QByteArray("bytes 0-999/1000");
        QTest::newRow("at end") << QByteArray("bytes=1000-") << 416 << qint64(0) << qint64(0)
                                << QByteArray("bytes */1000");
        QTest::newRow("beyond end") << QByteArray("bytes=5000-6000") << 416 << qint64(0)
                                    << qint64(0) << QByteArray("bytes */1000");
        QTest::newRow("empty suffix") << QByteArray("bytes=-0") << 416 << qint64(0) << qint64(0)
                                      << QByteArray("bytes */1000");
        // Malformed or unsupported ranges are ignored: the whole file.
        QTest::newRow("reversed") << QByteArray("bytes=20-10") << 200 << qint64(0) << qint64(1000)
                                  << QByteArray();
        QTest::newRow("garbage") << QByteArray("bytes=abc-") << 200 << qint64(0) << qint64(1000)
                                 << QByteArray();
        QTest::newRow("other unit")
            << QByteArray("items=1-2") << 200 << qint64(0) << qint64(1000) << QByteArray();
        QTest::newRow("several") << QByteArray("bytes=0-1,5-6") << 200 << qint64(0) << qint64(1000)
                                 << QByteArray();
    }

    void ranges()
    {
        QFETCH(QByteArray, range);
        QFETCH(int, status);
        QFETCH(qint64, first);
        QFETCH(qint64, length);
        QFETCH(QByteArray, contentRange);
        startServer();
        const QByteArray data = TestSupport::randomBytes(1000, 3);
        QCOMPARE(send("PUT", QStringLiteral("r.bin"), data).status, 201);

        const Response got = send("GET", QStringLiteral("r.bin"), {}, {{"Range", range}});
        QCOMPARE(got.status, status);
        QCOMPARE(got.header("Content-Range"), contentRange);
        if (status != 416) {
            QCOMPARE(got.body, data.mid(first, length));
            QCOMPARE(got.header("Content-Length"), QByteArray::number(length));
        }

        const Response head = send("HEAD", QStringLiteral("r.bin"), {}, {{"Range", range}});
        QCOMPARE(head.status, status);
        QCOMPARE(head.header("Content-Range"), contentRange);
        QVERIFY(head.body.isEmpty());
    }

    void rangeOfChangedFileIsWhole()
    {
        startServer();
        QCOMPARE(send("PUT", QStringLiteral("v.txt"), "0123456789").status, 201);
        const QByteArray lastModified
            = send("HEAD", QStringLiteral("v.txt")).header("Last-Modified");
        QVERIFY(!lastModified.isEmpty());
        const Response same = send("GET", QStringLiteral("v.txt"), {},
                                   {{"Range", "bytes=5-"}, {"If-Range", lastModified}});
        QCOMPARE(same.status, 206);
        QCOMPARE(same.body, QByteArray("56789"));
        const Response changed
            = send("GET", QStringLiteral("v.txt"), {},
                   {{"Range", "bytes=5-"}, {"If-Range", "Thu, 01 Jan 1970 00:00:00 GMT"}});
        QCOMPARE(changed.status, 200);
        QCOMPARE(changed.body, QByteArray("0123456789"));

        const QByteArray etag = send("HEAD", QStringLiteral("v.txt")).header("ETag");
        QVERIFY(etag.startsWith('"') && etag.endsWith('"'));
        const Response sameTag
            = send("GET", QStringLiteral("v.txt"), {}, {{"Range", "bytes=8-"}, {"If-Range", etag}});
        QCOMPARE(sameTag.status, 206);
        QCOMPARE(sameTag.body, QByteArray("89"));
        // A new upload is a new version, even within the same second.
        QCOMPARE(send("PUT", QStringLiteral("v.txt"), "abcdefghijk").status, 204);
        QVERIFY(send("HEAD", QStringLiteral("v.txt")).header("ETag") != etag);
        const Response replaced
            = send("GET", QStringLiteral("v.txt"), {}, {{"Range", "bytes=8-"}, {"If-Range", etag}});
        QCOMPARE(replaced.status, 200);
        QCOMPARE(replaced.body, QByteArray("abcdefghijk"));
    }

    void head()
    {
        startServer();
        const QByteArray data = TestSupport::randomBytes(123457, 5);
        QCOMPARE(send("PUT", QStringLiteral("h.txt"), data).status, 201);
        const Response head = send("HEAD", QStringLiteral("h.txt"));
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("Content-Length"), QByteArray("123457"));
        QCOMPARE(head.header("Content-Type"), QByteArray("text/plain"));
        QVERIFY(!head.header("Last-Modified").isEmpty());
        QVERIFY(head.body.isEmpty());
        QCOMPARE(send("HEAD", QStringLiteral("nothing.txt")).status, 404);

        // The connection stays usable: no body bytes were sent after the head.
        const RawResponse raw = sendRaw("HEAD /h.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                        "GET /h.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n"
                                        "Connection: close\r\n\r\n");
        QCOMPARE(raw.status, 200);
        QVERIFY(raw.body.startsWith("HTTP/1.1 206 "));
        const QByteArray tail = QByteArray("\r\n\r\n") + data.left(4);
        QVERIFY(raw.body.endsWith(tail));

        // Nor after the head of an error answer.
        const RawResponse missing = sendRaw("HEAD /nothing.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                            "GET /h.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n"
                                            "Connection: close\r\n\r\n");
        QCOMPARE(missing.status, 404);
        QVERIFY2(missing.body.startsWith("HTTP/1.1 206 "), missing.body.left(40).constData());
        QVERIFY(missing.body.endsWith(tail));
    }

    // Two requests written at once get two complete responses, in order.
    void pipelinedRequests()
    {
        startServer();
        const QByteArray big = TestSupport::randomBytes(2 * 1024 * 1024, 9);
        QVERIFY(writeFile(rootFile(QStringLiteral("big.bin")), big));
        QVERIFY(writeFile(rootFile(QStringLiteral("small.txt")), "small"));
        const RawResponse raw = sendRaw("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                                        "GET /small.txt HTTP/1.1\r\nHost: x\r\n"
                                        "Connection: close\r\n\r\n");
        QCOMPARE(raw.status, 200);
        QVERIFY(raw.body.size() > big.size());
        QVERIFY(raw.body.left(big.size()) == big);
        const QByteArray second = raw.body.mid(big.size());
        QVERIFY(second.startsWith("HTTP/1.1 200 OK\r\n"));
        QVERIFY(second.endsWith("\r\n\r\nsmall"));
    }

    // A client that asks to be told before sending the body is told, on each
    // request of a kept-alive connection.
    void expectContinue()
    {
        startServer();
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        auto readHead = [&socket]() -> QByteArray {
            QByteArray received;
            const QDeadlineTimer deadline(10000);
            while (!received.contains("\r\n\r\n") && !deadline.hasExpired()) {
                if (!socket.bytesAvailable())
                    socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
                received += socket.read(1);
            }
            return received;
        };
        const QByteArray first = TestSupport::randomBytes(200 * 1024, 13);
        const QByteArray second = TestSupport::randomBytes(1000, 14);
        const QList<QPair<QByteArray, QByteArray>> uploads {{"/e1.bin", first},
                                                            {"/e2.bin", second}};
        for (const auto &upload : uploads) {
            socket.write("PUT " + upload.first + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         + QByteArray::number(upload.second.size())
                         + "\r\nExpect: 100-continue\r\n\r\n");
            QCOMPARE(readHead(), QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
            socket.write(upload.second);
            QVERIFY(readHead().startsWith("HTTP/1.1 201 Created\r\n"));
        }
        QVERIFY(readFile(rootFile(QStringLiteral("e1.bin"))) == first);
        QVERIFY(readFile(rootFile(QStringLiteral("e2.bin"))) == second);
        // Without the header there is no interim response.
        socket.write("PUT /e3.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        QVERIFY(readHead().startsWith("HTTP/1.1 201 Created\r\n"));
    }

    void uploadSizeLimit()
    {
        m_server = std::make_unique<AttachmentsServer>();
#ifdef PSA_SANITIZE_ADDRESS
        // Freed memory in AddressSanitizer's quarantine would read as kept.
        m_server->setEnvironment(AttachmentsServer::smallQuarantineEnvironment());
#endif
        QVERIFY2(m_server->start(rootPath(),
                                 {QStringLiteral("--max-upload-size"), QStringLiteral("1K")}),
                 qPrintable(m_server->errorString()));
        const QByteArray fits = TestSupport::randomBytes(1024, 15);
        QCOMPARE(send("PUT", QStringLiteral("fits.bin"), fits).status, 201);
        QVERIFY(readFile(rootFile(QStringLiteral("fits.bin"))) == fits);

        // Refused on its head alone: the server does not wait for a body it
        // would have to hold in memory, and ends the connection.
        const RawResponse early = sendRaw("PUT /huge.bin HTTP/1.1\r\nHost: x\r\n"
                                          "Content-Length: 1073741824\r\n\r\n");
        QCOMPARE(early.status, 413);
        QVERIFY(early.head.contains("\r\nConnection: close"));

        // Without a length up front, the body is measured once complete.
        QByteArray chunked = "PUT /chunked.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                             "chunked\r\nConnection: close\r\n\r\n";
        for (int i = 0; i < 3; ++i)
            chunked += "200\r\n" + TestSupport::randomBytes(512, quint32(i)) + "\r\n";
        chunked += "0\r\n\r\n";
        QCOMPARE(sendRaw(chunked).status, 413);

        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("huge.bin"))));
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("chunked.bin"))));
        QCOMPARE(send("GET", QStringLiteral("fits.bin")).body, fits);

        // A client still sending its body reads the refusal: the connection
        // is not reset under it, and the body it sends anyway is not kept.
        const qint64 peakBefore = peakRssOf(m_server->processId());
        const Response big = send("PUT", QStringLiteral("big.bin"),
                                  TestSupport::randomBytes(16 * 1024 * 1024, 16));
        QCOMPARE(big.status, 413);
        QVERIFY(big.body.contains("limited to 1024 bytes"));
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("big.bin"))));
        QVERIFY(peakBefore > 0);
        const qint64 growth = peakRssOf(m_server->processId()) - peakBefore;
        QVERIFY2(growth < 8 * 1024 * 1024, QByteArray::number(growth).constData());
    }

    // --- conditional requests and stored content -----------------------------

    void conditionalGet()
    {
        startServer();
        QCOMPARE(send("PUT", QStringLiteral("c.txt"), "content").status, 201);
        const Response first = send("GET", QStringLiteral("c.txt"));
        const QByteArray etag = first.header("ETag");
        const QByteArray lastModified = first.header("Last-Modified");
        QVERIFY(!etag.isEmpty());

        for (const QByteArray &verb : {QByteArray("GET"), QByteArray("HEAD")}) {
            const Response same
                = send(verb, QStringLiteral("c.txt"), {}, {{"If-None-Match", etag}});
            QCOMPARE(same.status, 304);
            QVERIFY(same.body.isEmpty());
            QCOMPARE(same.header("ETag"), etag);
        }
        QCOMPARE(
            send("GET", QStringLiteral("c.txt"), {}, {{"If-None-Match", "\"other\", W/" + etag}})
                .status,
            304);
        QCOMPARE(send("GET", QStringLiteral("c.txt"), {}, {{"If-None-Match", "*"}}).status, 304);
        const Response other
            = send("GET", QStringLiteral("c.txt"), {}, {{"If-None-Match", "\"other\""}});
        QCOMPARE(other.status, 200);
        QCOMPARE(other.body, QByteArray("content"));

        QCOMPARE(
            send("GET", QStringLiteral("c.txt"), {}, {{"If-Modified-Since", lastModified}}).status,
            304);
        QCOMPARE(send("GET", QStringLiteral("c.txt"), {},
                      {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}})
                     .status,
                 200);
        QCOMPARE(
            send("GET", QStringLiteral("c.txt"), {}, {{"If-Modified-Since", "yesterday"}}).status,
            200);
        // If-None-Match decides when both are given.
        QCOMPARE(send("GET", QStringLiteral("c.txt"), {},
                      {{"If-None-Match", "\"other\""}, {"If-Modified-Since", lastModified}})
                     .status,
                 200);
        // A new upload is a new version.
        QCOMPARE(send("PUT", QStringLiteral("c.txt"), "changed").status, 204);
        const Response changed
            = send("GET", QStringLiteral("c.txt"), {}, {{"If-None-Match", etag}});
        QCOMPARE(changed.status, 200);
        QCOMPARE(changed.body, QByteArray("changed"));
    }

    // Stored files are never sniffed, and pages are downloaded, not shown.
    void activeContentIsNotRendered()
    {
        startServer();
        const QList<QPair<QString, bool>> files {
            {QStringLiteral("page.html"), true},  {QStringLiteral("image.svg"), true},
            {QStringLiteral("data.xml"), true},   {QStringLiteral("script.js"), true},
            {QStringLiteral("photo.png"), false}, {QStringLiteral("notes.txt"), false},
        };
        for (const auto &file : files) {
            QCOMPARE(send("PUT", file.first, "<script>alert(1)</script>").status, 201);
            const Response got = send("GET", file.first);
            QCOMPARE(got.status, 200);
            QCOMPARE(got.header("X-Content-Type-Options"), QByteArray("nosniff"));
            QVERIFY(got.header("Content-Security-Policy").contains("sandbox"));
            QCOMPARE(got.header("Content-Disposition"),
                     file.second ? QByteArray("attachment") : QByteArray());
        }
        QCOMPARE(send("GET", QStringLiteral("missing.html")).header("X-Content-Type-Options"),
                 QByteArray("nosniff"));
    }

    void tokenFromFile()
    {
        const QString tokenFile = m_dir->path() + QStringLiteral("/token");
        QVERIFY(writeFile(tokenFile, "from-a-file\n"));
        m_server = std::make_unique<AttachmentsServer>();
        QVERIFY2(m_server->start(rootPath(), {QStringLiteral("--token-file"), tokenFile}),
                 qPrintable(m_server->errorString()));
        QCOMPARE(send("PUT", QStringLiteral("f.txt"), "x").status, 401);
        QCOMPARE(
            send("PUT", QStringLiteral("f.txt"), "x", {{"Authorization", "Bearer from-a-file"}})
                .status,
            201);

        // An empty or missing file, or both ways at once, is an error.
        const QString empty = m_dir->path() + QStringLiteral("/empty");
        QVERIFY(writeFile(empty, ""));
        const QList<QStringList> bad {
            {QStringLiteral("--token-file"), empty},
            {QStringLiteral("--token-file"), m_dir->path() + QStringLiteral("/missing")},
            {QStringLiteral("--token-file"), tokenFile, QStringLiteral("--token"),
             QStringLiteral("t")},
            {QStringLiteral("--token"), QStringLiteral("with blank")},
        };
        for (const QStringList &arguments : bad) {
            QProcess process;
            process.start(AttachmentsServer::program(),
                          QStringList {QStringLiteral("--root"), rootPath()} + arguments);
            QVERIFY(process.waitForFinished(10000));
            QCOMPARE(process.exitCode(), 1);
            QVERIFY(process.readAllStandardOutput().isEmpty());
        }
    }

    // --- DELETE ---------------------------------------------------------------

    void deleteFile()
    {
        startServer();
        QCOMPARE(send("PUT", QStringLiteral("d/x.bin"), "bytes").status, 201);
        QCOMPARE(send("DELETE", QStringLiteral("d/x.bin")).status, 204);
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("d/x.bin"))));
        QCOMPARE(send("DELETE", QStringLiteral("d/x.bin")).status, 404);
        QCOMPARE(send("GET", QStringLiteral("d/x.bin")).status, 404);
        QCOMPARE(send("DELETE", QStringLiteral("never.bin")).status, 404);
    }

    void otherMethods()
    {
        startServer();
        QVERIFY(writeFile(rootFile(QStringLiteral("f.txt")), "f"));
        for (const QByteArray verb : {"POST", "PATCH", "OPTIONS"}) {
            const Response response = send(verb, QStringLiteral("f.txt"), "x");
            QCOMPARE(response.status, 405);
            QCOMPARE(response.header("Allow"), QByteArray("GET, HEAD, PUT, DELETE"));
        }
        QCOMPARE(readFile(rootFile(QStringLiteral("f.txt"))), QByteArray("f"));
    }

    // --- authorization ----------------------------------------------------------

    void bearerToken()
    {
        startServer("s3cr3t-token");
        QVERIFY(writeFile(rootFile(QStringLiteral("t.txt")), "secret content"));

        const Response anonymous = send("GET", QStringLiteral("t.txt"));
        QCOMPARE(anonymous.status, 401);
        QVERIFY(anonymous.header("WWW-Authenticate").startsWith("Bearer"));
        QVERIFY(!anonymous.body.contains("secret content"));

        const QList<QByteArray> wrong {"Bearer s3cr3t-toke", "Bearer s3cr3t-token2",
                                       "Basic s3cr3t-token", "s3cr3t-token", "Bearer"};
        for (const QByteArray &authorization : wrong) {
            const Response response
                = send("GET", QStringLiteral("t.txt"), {}, {{"Authorization", authorization}});
            QCOMPARE(response.status, 401);
            QVERIFY(response.header("WWW-Authenticate").startsWith("Bearer"));
        }
        QCOMPARE(send("PUT", QStringLiteral("u.txt"), "x").status, 401);
        QCOMPARE(send("DELETE", QStringLiteral("t.txt")).status, 401);
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("u.txt"))));
        QVERIFY(QFileInfo::exists(rootFile(QStringLiteral("t.txt"))));

        const QList<QPair<QByteArray, QByteArray>> good {{"Authorization", "Bearer s3cr3t-token"}};
        const Response got = send("GET", QStringLiteral("t.txt"), {}, good);
        QCOMPARE(got.status, 200);
        QCOMPARE(got.body, QByteArray("secret content"));
        QCOMPARE(send("PUT", QStringLiteral("u.txt"), "x", good).status, 201);
        QCOMPARE(send("DELETE", QStringLiteral("u.txt"), {}, good).status, 204);
        // The scheme is case-insensitive.
        QCOMPARE(
            send("HEAD", QStringLiteral("t.txt"), {}, {{"Authorization", "bearer s3cr3t-token"}})
                .status,
            200);
    }

    void tokenFromEnvironment()
    {
        m_server = std::make_unique<AttachmentsServer>();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("POWERSYNC_ATTACHMENTS_TOKEN"), QStringLiteral("env"));
        m_server->setEnvironment(environment);
        QVERIFY2(m_server->start(rootPath()), qPrintable(m_server->errorString()));
        QCOMPARE(send("PUT", QStringLiteral("e.txt"), "x").status, 401);
        QCOMPARE(
            send("PUT", QStringLiteral("e.txt"), "x", {{"Authorization", "Bearer env"}}).status,
            201);
    }

    // --- paths ------------------------------------------------------------------

    void pathEscapesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QList<int>>("statuses");
        const QList<int> bad {400};
        const QList<int> forbidden {403};
        const QList<int> refused {400, 403, 404};
        auto get = [](const char *path) -> QByteArray {
            return "GET " + QByteArray(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        };
        QTest::newRow("dot-dot") << get("/../secret.txt") << bad;
        QTest::newRow("relative") << get("../secret.txt") << bad;
        QTest::newRow("nested dot-dot") << get("/sub/../../secret.txt") << bad;
        QTest::newRow("dot-dot inside root") << get("/sub/../inside.txt") << bad;
        QTest::newRow("dot") << get("/./inside.txt") << bad;
        QTest::newRow("encoded dot-dot") << get("/%2e%2e/secret.txt") << bad;
        QTest::newRow("upper-case encoded") << get("/%2E%2E/secret.txt") << bad;
        QTest::newRow("half encoded") << get("/.%2e/secret.txt") << bad;
        QTest::newRow("encoded slash") << get("/..%2fsecret.txt") << bad;
        QTest::newRow("encoded everything") << get("/%2e%2e%2f%2e%2e%2fsecret.txt") << bad;
        QTest::newRow("backslash") << get("/..%5csecret.txt") << bad;
        QTest::newRow("encoded absolute") << get("/%2Fetc%2Fpasswd") << bad;
        QTest::newRow("empty segment") << get("/sub//inside.txt") << bad;
        QTest::newRow("nul") << get("/inside.txt%00.jpg") << bad;
        QTest::newRow("double slash absolute") << get("//etc/passwd") << refused;
        QTest::newRow("symlink out") << get("/link-out.txt") << forbidden;
        QTest::newRow("symlinked dir out") << get("/dir-out/secret.txt") << forbidden;
        QTest::newRow("dangling symlink") << get("/dangling.txt") << forbidden;
        QTest::newRow("partial dir") << get("/.partial/upload-x") << forbidden;
        QTest::newRow("partial dir via link") << get("/link-partial/upload-x") << forbidden;
        QTest::newRow("put dot-dot") << QByteArray("PUT /../escaped.txt HTTP/1.1\r\nHost: x\r\n"
                                                   "Content-Length: 3\r\nConnection: close\r\n"
                                                   "\r\nabc")
                                     << bad;
        QTest::newRow("put through symlinked dir")
            << QByteArray("PUT /dir-out/escaped.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          "Connection: close\r\n\r\nabc")
            << forbidden;
        QTest::newRow("put new dirs through symlinked dir")
            << QByteArray("PUT /dir-out/new/escaped.txt HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 3\r\nConnection: close\r\n\r\nabc")
            << forbidden;
        QTest::newRow("put into partial dir")
            << QByteArray("PUT /.partial/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          "Connection: close\r\n\r\nabc")
            << forbidden;
        QTest::newRow("delete through symlinked dir")
            << QByteArray("DELETE /dir-out/secret.txt HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n\r\n")
            << forbidden;
        QTest::newRow("delete dot-dot") << QByteArray("DELETE /sub/../../secret.txt HTTP/1.1\r\n"
                                                      "Host: x\r\nConnection: close\r\n\r\n")
                                        << bad;
    }

    void pathEscapesAreRefused()
    {
        QFETCH(QByteArray, request);
        QFETCH(QList<int>, statuses);
        const QString outside = m_dir->path() + QStringLiteral("/outside");
        QVERIFY(writeFile(outside + QStringLiteral("/secret.txt"), "top secret"));
        QVERIFY(writeFile(m_dir->path() + QStringLiteral("/secret.txt"), "top secret"));
        QVERIFY(writeFile(rootFile(QStringLiteral("inside.txt")), "inside"));
        QVERIFY(QDir().mkpath(rootFile(QStringLiteral("sub"))));
        startServer();
        QVERIFY(writeFile(rootFile(QStringLiteral(".partial/upload-x")), "partial"));
        QVERIFY(QFile::link(outside + QStringLiteral("/secret.txt"),
                            rootFile(QStringLiteral("link-out.txt"))));
        QVERIFY(QFile::link(outside, rootFile(QStringLiteral("dir-out"))));
        QVERIFY(QFile::link(m_dir->path() + QStringLiteral("/nowhere"),
                            rootFile(QStringLiteral("dangling.txt"))));
        QVERIFY(QFile::link(rootFile(QStringLiteral(".partial")),
                            rootFile(QStringLiteral("link-partial"))));

        const RawResponse response = sendRaw(request);
        QVERIFY2(statuses.contains(response.status), response.head.constData());
        QVERIFY(!response.body.contains("top secret"));
        QVERIFY(!response.body.contains("partial"));
        // Nothing was written or removed outside the root.
        QCOMPARE(readFile(outside + QStringLiteral("/secret.txt")), QByteArray("top secret"));
        QCOMPARE(readFile(m_dir->path() + QStringLiteral("/secret.txt")), QByteArray("top secret"));
        QVERIFY(!QFileInfo::exists(m_dir->path() + QStringLiteral("/escaped.txt")));
        QVERIFY(!QFileInfo::exists(outside + QStringLiteral("/escaped.txt")));
        QVERIFY(!QFileInfo::exists(outside + QStringLiteral("/new")));
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral(".partial/x"))));
    }

    // Links that stay inside the root are followed.
    void symlinkInsideRoot()
    {
        QVERIFY(writeFile(rootFile(QStringLiteral("real/file.txt")), "real"));
        QVERIFY(QFile::link(rootFile(QStringLiteral("real/file.txt")),
                            rootFile(QStringLiteral("alias.txt"))));
        QVERIFY(QFile::link(rootFile(QStringLiteral("real")), rootFile(QStringLiteral("alias"))));
        startServer();
        QCOMPARE(send("GET", QStringLiteral("alias.txt")).body, QByteArray("real"));
        QCOMPARE(send("GET", QStringLiteral("alias/file.txt")).body, QByteArray("real"));
    }

    // --- atomic uploads ---------------------------------------------------------

    // An upload cut off mid-body leaves no file under its name, and never
    // touches the file it would have replaced.
    void interruptedUploadLeavesNoPartialFile()
    {
        startServer();
        const QByteArray old = "the previous version";
        QCOMPARE(send("PUT", QStringLiteral("keep.bin"), old).status, 201);

        const QByteArray body = TestSupport::randomBytes(1024 * 1024, 11);
        for (const QByteArray path : {"/keep.bin", "/new/fresh.bin"}) {
            QTcpSocket socket;
            socket.connectToHost(QHostAddress::LocalHost, m_server->port());
            QVERIFY(socket.waitForConnected(5000));
            socket.write("PUT " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                         + QByteArray::number(body.size()) + "\r\n\r\n");
            socket.write(body.left(body.size() / 2));
            while (socket.bytesToWrite() > 0)
                QVERIFY(socket.waitForBytesWritten(5000));
            socket.disconnectFromHost();
            if (socket.state() != QAbstractSocket::UnconnectedState)
                QVERIFY(socket.waitForDisconnected(5000));
        }

        // Whenever the server gets to the cut connections, no state may show
        // a part of their bodies.
        QCOMPARE(send("GET", QStringLiteral("keep.bin")).body, old);
        QCOMPARE(send("GET", QStringLiteral("new/fresh.bin")).status, 404);
        QCOMPARE(readFile(rootFile(QStringLiteral("keep.bin"))), old);
        QVERIFY(!QFileInfo::exists(rootFile(QStringLiteral("new/fresh.bin"))));
        QVERIFY(QDir(rootPath() + QStringLiteral("/.partial"))
                    .entryList(QDir::Files | QDir::Hidden)
                    .isEmpty());

        // The server is fine and takes the complete upload.
        QCOMPARE(send("PUT", QStringLiteral("keep.bin"), body).status, 204);
        QVERIFY(readFile(rootFile(QStringLiteral("keep.bin"))) == body);
    }

    // --- streaming --------------------------------------------------------------

    // A download does not take the file into the server's memory, even when the
    // client reads slower than the disk delivers.
    void downloadStreams()
    {
        const qint64 size = 192 * 1024 * 1024;
        {
            QVERIFY(QDir().mkpath(rootPath()));
            QFile file(rootFile(QStringLiteral("large.bin")));
            QVERIFY(file.open(QIODevice::WriteOnly));
            for (qint64 written = 0; written < size; written += 1024 * 1024)
                QVERIFY(file.write(TestSupport::randomBytes(1024 * 1024, quint32(written))) > 0);
        }
        m_server = std::make_unique<AttachmentsServer>();
#ifdef PSA_SANITIZE_ADDRESS
        // Freed memory in AddressSanitizer's quarantine would read as kept.
        m_server->setEnvironment(AttachmentsServer::smallQuarantineEnvironment());
#endif
        QVERIFY2(m_server->start(rootPath()), qPrintable(m_server->errorString()));
        const qint64 before = peakRssOf(m_server->processId());
        QVERIFY(before > 0);

        QTcpSocket socket;
        socket.setReadBufferSize(64 * 1024);
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /large.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QByteArray head;
        QCryptographicHash received(QCryptographicHash::Sha256);
        qint64 bodyBytes = 0;
        const QDeadlineTimer deadline(120000);
        while (!deadline.hasExpired()) {
            if (socket.bytesAvailable() == 0 && socket.state() != QAbstractSocket::ConnectedState)
                break;
            if (socket.bytesAvailable() == 0)
                socket.waitForReadyRead(1000);
            QByteArray chunk = socket.read(16 * 1024);
            if (head.isEmpty() || !head.endsWith("\r\n\r\n")) {
                head += chunk;
                const qsizetype end = head.indexOf("\r\n\r\n");
                if (end < 0)
                    continue;
                chunk = head.mid(end + 4);
                head.truncate(end + 4);
            }
            received.addData(chunk);
            bodyBytes += chunk.size();
        }
        QVERIFY(head.startsWith("HTTP/1.1 200 OK\r\n"));
        QCOMPARE(bodyBytes, size);

        QCryptographicHash expected(QCryptographicHash::Sha256);
        QFile file(rootFile(QStringLiteral("large.bin")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(expected.addData(&file));
        QCOMPARE(received.result(), expected.result());

        const qint64 after = peakRssOf(m_server->processId());
        QVERIFY2(after - before < 32 * 1024 * 1024,
                 qPrintable(QStringLiteral("peak grew by %1 bytes").arg(after - before)));
    }
};

QTEST_GUILESS_MAIN(tst_Server)
#include "tst_server.moc"
