// Downloads from http:// on the storage's own HTTP/1.1 reader
// (QHttpSocketExchange with a sink): what it takes, what it refuses, what it
// hands to the manager, against the fault server.

#include "httpsuite.h"

#include <qattachmentremotestorage.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qcryptographichash.h>

namespace {

// A sink that refuses every write, as a full disk would.
class FullSink : public QIODevice
{
public:
    FullSink() { open(QIODevice::WriteOnly); }

protected:
    qint64 readData(char *, qint64) override { return -1; }
    qint64 writeData(const char *, qint64) override
    {
        setErrorString(QStringLiteral("No space left on device"));
        return -1;
    }
};

} // namespace

class tst_HttpStreamDownload : public FaultServerSuite
{
    Q_OBJECT

private Q_SLOTS:
    void downloadsOnItsOwnSocket()
    {
        const QByteArray object = TestSupport::randomBytes(300 * 1024, 1);
        m_server->objects().insert(QStringLiteral("/a.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Download, &m_manager);
        QSignalSpy progress(transfer.get(), &QAttachmentTransfer::progress);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(get(QStringLiteral("a.bin"), &sink));
        QVERIFY(finished.wait(10000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        // One write carried the request: it went over the storage's socket.
        QCOMPARE(transfer->requestWrites(), 1);
        QVERIFY(sink.data() == object);
        QCOMPARE(validatorOf(sink), FaultServer::etagOf(object));
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().at(0).toLongLong(), object.size());
        QCOMPARE(progress.last().at(1).toLongLong(), object.size());
        const FaultServer::Request &seen = m_server->requests().first();
        QCOMPARE(seen.method, QByteArray("GET"));
        QVERIFY(!seen.headers.contains("content-length"));
        QVERIFY(!seen.headers.contains("range"));
        QCOMPARE(seen.headers.value("accept-encoding"), QByteArray("identity"));
    }

    void nextDownloadReusesTheConnection()
    {
        m_server->objects().insert(QStringLiteral("/a.bin"), "first");
        m_server->objects().insert(QStringLiteral("/b.bin"), "second");
        QBuffer first;
        QVERIFY(first.open(QIODevice::ReadWrite));
        auto one = exchange(Kind::Download, get(QStringLiteral("a.bin"), &first));
        QVERIFY(!one->error().isError());
        QBuffer second;
        QVERIFY(second.open(QIODevice::ReadWrite));
        auto two = exchange(Kind::Download, get(QStringLiteral("b.bin"), &second));
        QVERIFY2(!two->error().isError(), qPrintable(two->error().message()));
        QCOMPARE(second.data(), QByteArray("second"));
        QVERIFY(two->reusedConnection());
        QCOMPARE(m_server->connectionCount(), 1);
    }

    void chunkedBodyIsTaken()
    {
        m_server->addFault("GET",
                           Fault::of(Fault::Raw,
                                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                     "ETag: \"c1\"\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("c.bin"), &sink));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->requestWrites(), 1);
        QCOMPARE(sink.data(), QByteArray("hello world"));
        QCOMPARE(validatorOf(sink), QByteArray("\"c1\""));
    }

    // No range was asked for: a 206 is taken only when it is the whole
    // resource; a part of it, or a body longer than its range, is an error
    // and nothing of a part is kept as if it were the file.
    void partialAnswersAreChecked_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<bool>("taken");
        QTest::addColumn<QString>("messagePart");
        QTest::newRow("the whole resource")
            << QByteArray("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                          "Content-Length: 5\r\n\r\nwhole")
            << true << QString();
        QTest::newRow("a part") << QByteArray(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/10\r\n"
            "Content-Length: 5\r\n\r\nhalf.")
                                << false << QStringLiteral("Content-Range");
        QTest::newRow("another start")
            << QByteArray("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\n"
                          "Content-Length: 5\r\n\r\nlater")
            << false << QStringLiteral("bytes 5-9/10");
        QTest::newRow("chunked, longer than its range")
            << QByteArray("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/5\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n8\r\ntoo long\r\n0\r\n\r\n")
            << false << QStringLiteral("longer than");
        QTest::newRow("no length, no chunks")
            << QByteArray("HTTP/1.1 200 OK\r\n\r\nuntil the close") << false
            << QStringLiteral("neither a Content-Length nor chunked");
    }
    void partialAnswersAreChecked()
    {
        QFETCH(QByteArray, answer);
        QFETCH(bool, taken);
        QFETCH(QString, messagePart);
        m_server->addFault("GET", Fault::of(Fault::Raw, answer));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("p.bin"), &sink));
        QCOMPARE(transfer->requestWrites(), 1);
        if (taken) {
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
            QCOMPARE(sink.data(), QByteArray("whole"));
            return;
        }
        QCOMPARE(transfer->error().code(), QAttachmentError::ProtocolError);
        QVERIFY2(transfer->error().message().contains(messagePart),
                 qPrintable(transfer->error().message()));
        QVERIFY(sink.data().size() <= 5);
    }

    void sinkThatFailsIsALocalError()
    {
        m_server->objects().insert(QStringLiteral("/a.bin"), TestSupport::randomBytes(1000, 2));
        FullSink sink;
        auto transfer = exchange(Kind::Download, get(QStringLiteral("a.bin"), &sink));
        QCOMPARE(transfer->requestWrites(), 1);
        QCOMPARE(transfer->error().code(), QAttachmentError::LocalStorageError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("No space left")),
                 qPrintable(transfer->error().message()));
    }

    // A redirect is handed to the manager, which follows it: the server
    // sees the first request once and then the target, nothing written
    // before.
    void redirectGoesToTheManager()
    {
        m_server->objects().insert(QStringLiteral("/there.bin"), "moved here");
        m_server->addFault("GET", Fault::answer(302, "see there", {{"Location", "/there.bin"}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request = get(QStringLiteral("here.bin"), &sink);
        request.followRedirects = true;
        auto transfer = exchange(Kind::Download, request);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), QByteArray("moved here"));
        QCOMPARE(m_server->requests().size(), 2);
        QCOMPARE(m_server->requests().at(0).path, QStringLiteral("/here.bin"));
        QCOMPARE(m_server->requests().at(1).path, QStringLiteral("/there.bin"));
    }

    // Not followed when the request does not ask for it: the 302 is the error.
    void redirectNotAskedForIsAnError()
    {
        m_server->addFault("GET", Fault::answer(302, {}, {{"Location", "/there.bin"}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = exchange(Kind::Download, get(QStringLiteral("here.bin"), &sink));
        QCOMPARE(transfer->requestWrites(), 1);
        QVERIFY(transfer->error().isError());
        QCOMPARE(transfer->error().httpStatus(), 302);
        QCOMPARE(m_server->requests().size(), 1);
        QVERIFY(sink.data().isEmpty());
    }

    // A download that resumes (Range, If-Range) stays with the manager, as
    // does every download when the storage turns streaming off.
    void resumedOrTurnedOffGoesThroughTheManager()
    {
        const QByteArray object = TestSupport::randomBytes(4000, 3);
        m_server->objects().insert(QStringLiteral("/r.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        sink.write(object.left(1000));
        sink.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty,
                         FaultServer::etagOf(object));
        auto resumed = exchange(Kind::Download, get(QStringLiteral("r.bin"), &sink));
        QVERIFY2(!resumed->error().isError(), qPrintable(resumed->error().message()));
        QCOMPARE(resumed->requestWrites(), 0);
        QVERIFY(sink.data() == object);
        QCOMPARE(m_server->requests().last().headers.value("range"), QByteArray("bytes=1000-"));

        QBuffer off;
        QVERIFY(off.open(QIODevice::ReadWrite));
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Download, &m_manager);
        transfer->setStreamCleartextDownloads(false);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(get(QStringLiteral("r.bin"), &off));
        QVERIFY(finished.wait(10000));
        QVERIFY(!transfer->error().isError());
        QCOMPARE(transfer->requestWrites(), 0);
        QVERIFY(off.data() == object);
    }

    // More than one turn of the event loop's worth (4 MiB a turn): written
    // whole, in order, as it came.
    void largeDownloadArrivesWhole()
    {
        const QByteArray object = TestSupport::randomBytes(24 * 1024 * 1024, 4);
        m_server->objects().insert(QStringLiteral("/big.bin"), object);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Download, &m_manager);
        QSignalSpy progress(transfer.get(), &QAttachmentTransfer::progress);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(get(QStringLiteral("big.bin"), &sink));
        QVERIFY(finished.wait(60000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(transfer->requestWrites(), 1);
        QCOMPARE(sink.size(), object.size());
        QCOMPARE(QCryptographicHash::hash(sink.data(), QCryptographicHash::Sha256),
                 QCryptographicHash::hash(object, QCryptographicHash::Sha256));
        QVERIFY(progress.size() > 2);
    }
};

QTEST_GUILESS_MAIN(tst_HttpStreamDownload)
#include "tst_httpstreamdownload.moc"
