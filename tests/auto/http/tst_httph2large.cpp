// Large transfers to a server spoken to over cleartext HTTP/2 with prior
// knowledge: which way they go, that their bytes arrive whole, and that a
// caller's own choices stay (skipped when nginx is not installed).

#include "httpsuite.h"

#include <qhttpexchange_p.h>

#include <algorithm>

namespace {

constexpr qint64 MiB = 1024 * 1024;

// A file of `size` pseudo-random bytes (seeded), written in pieces.
bool writeBytes(const QString &path, qint64 size, quint32 seed)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    qint64 written = 0;
    quint32 piece = 0;
    while (written < size) {
        const QByteArray bytes
            = TestSupport::randomBytes(qMin<qint64>(MiB, size - written), seed + piece++);
        if (file.write(bytes) != bytes.size())
            return false;
        written += bytes.size();
    }
    return file.flush();
}

QByteArray expectedBytes(qint64 size, quint32 seed)
{
    QByteArray all;
    quint32 piece = 0;
    while (all.size() < size)
        all += TestSupport::randomBytes(qMin<qint64>(MiB, size - all.size()), seed + piece++);
    return all;
}

// Records the Range header of every GET ("" for none).
class RangeRecorder : public QNetworkAccessManager
{
public:
    QList<QByteArray> ranges;

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *data) override
    {
        if (op == GetOperation)
            ranges << request.rawHeader("Range");
        return QNetworkAccessManager::createRequest(op, request, data);
    }
};

} // namespace

class tst_HttpH2Large : public QObject
{
    Q_OBJECT

private:
    // Downloads `name` through `remote` into `sink` and waits for its success.
    std::unique_ptr<QAttachmentTransfer> download(QHttpRemoteStorage &remote, const QString &name,
                                                  QBuffer &sink)
    {
        std::unique_ptr<QAttachmentTransfer> transfer;
        [&] {
            QVERIFY(sink.open(QIODevice::ReadWrite));
            transfer.reset(
                remote.download(attachmentNamed(name, name + QStringLiteral(".bin")), &sink));
            QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
            QVERIFY(finished.wait(60000));
            QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        }();
        return transfer;
    }

    // Uploads `path` as "big.bin" through `remote` and waits for its success;
    // `streamed` says whether the transfer was on the streamed path at its
    // first progress (1) or not (0).
    void uploadFile(QHttpRemoteStorage &remote, const QString &path, int *streamed)
    {
        QFile source(path);
        QVERIFY(source.open(QIODevice::ReadOnly));
        std::unique_ptr<QAttachmentTransfer> transfer(remote.upload(
            attachmentNamed(QStringLiteral("u"), QStringLiteral("big.bin")), &source));
        auto *http = qobject_cast<QHttpTransfer *>(transfer.get());
        QVERIFY(http);
        connect(transfer.get(), &QAttachmentTransfer::progress, this, [&] {
            if (*streamed < 0)
                *streamed = http->isStreamed() ? 1 : 0;
        });
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        QVERIFY(finished.wait(60000));
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
    }

    // Uploads `size` bytes (seeded) as "big.bin" through `remote` and returns
    // the transfer once it finished, whichever way.
    std::unique_ptr<QAttachmentTransfer> finishedUpload(QHttpRemoteStorage &remote, qint64 size,
                                                        quint32 seed)
    {
        std::unique_ptr<QAttachmentTransfer> transfer;
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        if (!dir.isValid() || !writeBytes(path, size, seed))
            return transfer;
        QFile source(path);
        if (!source.open(QIODevice::ReadOnly))
            return transfer;
        transfer.reset(remote.upload(
            attachmentNamed(QStringLiteral("u"), QStringLiteral("big.bin")), &source));
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        if (!finished.wait(60000))
            transfer.reset();
        return transfer;
    }

private Q_SLOTS:
    // nginx's cleartext HTTP/2 port speaks nothing but HTTP/2 (an HTTP/1.1
    // request gets a GOAWAY frame back): an upload of any size goes there
    // over HTTP/2 and arrives whole. Under streamingUploadThreshold through
    // the manager; from it on streamed on a connection of its own
    // (QHttp2RequestCodec), several of nginx's 64 KiB windows long.
    void largeUploadsSpeakHttp2WithPriorKnowledge_data()
    {
        QTest::addColumn<qint64>("size");
        QTest::addColumn<int>("streamed");
        QTest::newRow("2 MiB (over the HTTP/2 body limit)") << 2 * MiB + 11 << 0;
        QTest::newRow("9 MiB (over streamingUploadThreshold)") << 9 * MiB + 5 << 1;
    }
    void largeUploadsSpeakHttp2WithPriorKnowledge()
    {
        QFETCH(qint64, size);
        QFETCH(int, streamed);
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        QVERIFY(writeBytes(path, size, 900));

        QHttpRemoteStorage remote;
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("h2big/")));
        QCOMPARE(remote.streamingUploadThreshold(), 8 * MiB);
        int streamedWhileSending = -1;
        uploadFile(remote, path, &streamedWhileSending);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(streamedWhileSending, streamed);
        QCOMPARE(QFileInfo(nginx.rootPath() + QStringLiteral("/h2big/big.bin")).size(), size);
        QVERIFY(readFile(nginx.rootPath() + QStringLiteral("/h2big/big.bin"))
                == expectedBytes(size, 900));
    }

    // A streamed HTTP/2 upload that the server refuses names the server's
    // answer: here nginx will not put a file where a directory is, and says
    // so (409) before the body is all sent.
    void streamedHttp2UploadNamesTheServersAnswer()
    {
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        QVERIFY(QDir(nginx.rootPath()).mkpath(QStringLiteral("h2err/big.bin/inside")));
        QHttpRemoteStorage remote;
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("h2err/")));
        const auto transfer = finishedUpload(remote, 9 * MiB, 903);
        QVERIFY(transfer);
        auto *http = qobject_cast<QHttpTransfer *>(transfer.get());
        QVERIFY(http && http->isStreamed());
        QVERIFY(transfer->error().isError());
        QCOMPARE(transfer->error().code(), QAttachmentError::ClientError);
        QCOMPARE(transfer->error().httpStatus(), 409);
        QCOMPARE(http->httpStatus(), 409);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("409 Conflict")),
                 qPrintable(transfer->error().message()));
    }

    // Prior knowledge of HTTP/2 told for a port that speaks HTTP/1.1 only: a
    // large upload fails at once as a network error that says so.
    void streamedHttp2UploadToAnHttp1PortSaysSo()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        QHttpRemoteStorage remote;
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.url(QStringLiteral("h1only/")));
        const auto transfer = finishedUpload(remote, 9 * MiB, 904);
        QVERIFY(transfer);
        QCOMPARE(transfer->error().code(), QAttachmentError::NetworkError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("did not answer with HTTP/2")),
                 qPrintable(transfer->error().message()));
        QVERIFY(!QFileInfo::exists(nginx.rootPath() + QStringLiteral("/h1only/big.bin")));
    }

    // Without prior knowledge the same upload to an ordinary port is still
    // streamed over HTTP/1.1 (the way that keeps memory flat).
    void largeUploadsStreamWithoutPriorKnowledge()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const qint64 size = 9 * MiB + 5;
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        QVERIFY(writeBytes(path, size, 901));
        QHttpRemoteStorage remote;
        remote.setBaseUrl(nginx.url(QStringLiteral("h1big/")));
        int streamedWhileSending = -1;
        uploadFile(remote, path, &streamedWhileSending);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(streamedWhileSending, 1);
        QVERIFY(readFile(nginx.rootPath() + QStringLiteral("/h1big/big.bin"))
                == expectedBytes(size, 901));
    }

    // Every request offers the server DATA frames of up to 64 KiB (Qt's
    // default is the protocol's minimum, 16 KiB), so a server configured to
    // send larger frames does (nginx: http2_chunk_size), and such a download
    // arrives whole: a 5 MiB file in 64 KiB frames, several windows long.
    void downloadsAcceptLargeFrames()
    {
        NginxServer::Options options;
        options.http2 = true;
        options.http2ChunkSize = QStringLiteral("64k");
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        const qint64 size = 5 * MiB + 3;
        QDir().mkpath(nginx.rootPath() + QStringLiteral("/frames"));
        QVERIFY(writeBytes(nginx.rootPath() + QStringLiteral("/frames/f.bin"), size, 902));

        // Records the HTTP/2 settings of every GET, and the protocol of every answer.
        class RecordingManager : public QNetworkAccessManager
        {
        public:
            QList<QHttp2Configuration> configurations;
            int answersOverHttp2 = 0;

        protected:
            QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                         QIODevice *data) override
            {
                configurations << request.http2Configuration();
                QNetworkReply *reply = QNetworkAccessManager::createRequest(op, request, data);
                connect(reply, &QNetworkReply::finished, this, [this, reply] {
                    if (reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool())
                        ++answersOverHttp2;
                });
                return reply;
            }
        } manager;
        QHttpRemoteStorage remote;
        remote.setNetworkAccessManager(&manager);
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("frames/")));
        QBuffer sink;
        const auto transfer = download(remote, QStringLiteral("f"), sink);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(sink.size(), size);
        QVERIFY(sink.data() == expectedBytes(size, 902));
        // Two parts of 4 MiB (see largeDownloadsComeInParts()).
        QCOMPARE(manager.configurations.size(), 2);
        QCOMPARE(manager.answersOverHttp2, 2);
        for (const QHttp2Configuration &configuration : manager.configurations)
            QCOMPARE(configuration.maxFrameSize(), 64u * 1024);
        QCOMPARE(QHttpExchange::http2Configuration().maxFrameSize(), 64u * 1024);
        QVERIFY(QNetworkRequest().http2Configuration().maxFrameSize() < 64u * 1024);
    }

    // A download larger than a part comes over HTTP/2 as a series of Range
    // requests of QHttpRequest::DefaultHttp2PartSize, and arrives whole. With
    // prior knowledge the server is known to speak HTTP/2: the first request
    // asks for the first part already.
    void largeDownloadsComeInParts()
    {
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        const qint64 part = QHttpRequest::DefaultHttp2PartSize;
        const qint64 size = 2 * part + MiB + 5;
        QDir().mkpath(nginx.rootPath() + QStringLiteral("/parts"));
        QVERIFY(writeBytes(nginx.rootPath() + QStringLiteral("/parts/p.bin"), size, 903));

        RangeRecorder manager;
        QHttpRemoteStorage remote;
        remote.setNetworkAccessManager(&manager);
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("parts/")));
        QBuffer sink;
        const auto transfer = download(remote, QStringLiteral("p"), sink);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(sink.data() == expectedBytes(size, 903));
        QCOMPARE(transfer->bytesTotal(), size);
        QList<QByteArray> ranges = manager.ranges;
        std::sort(ranges.begin(), ranges.end());
        const QList<QByteArray> expected
            = {"bytes=0-" + QByteArray::number(part - 1),
               "bytes=" + QByteArray::number(part) + '-' + QByteArray::number(2 * part - 1),
               "bytes=" + QByteArray::number(2 * part) + '-' + QByteArray::number(size - 1)};
        QCOMPARE(ranges, expected);
    }

    // The part size is the storage's http2DownloadPartSize; 0 fetches every
    // download in one answer.
    void partSizeIsAStorageProperty_data()
    {
        QTest::addColumn<qint64>("partSize");
        QTest::newRow("1 MiB") << MiB;
        QTest::newRow("0: one answer") << qint64(0);
    }
    void partSizeIsAStorageProperty()
    {
        QFETCH(qint64, partSize);
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        const qint64 size = 2 * MiB + 3;
        QDir().mkpath(nginx.rootPath() + QStringLiteral("/sized"));
        QVERIFY(writeBytes(nginx.rootPath() + QStringLiteral("/sized/s.bin"), size, 907));

        RangeRecorder manager;
        QHttpRemoteStorage remote;
        QCOMPARE(remote.http2DownloadPartSize(), 4 * MiB);
        QSignalSpy changed(&remote, &QNetworkRemoteStorage::http2DownloadPartSizeChanged);
        remote.setHttp2DownloadPartSize(-5);
        QCOMPARE(remote.http2DownloadPartSize(), 0);
        remote.setHttp2DownloadPartSize(partSize);
        QCOMPARE(remote.http2DownloadPartSize(), partSize);
        QCOMPARE(changed.size(), partSize == 0 ? 1 : 2);
        remote.setNetworkAccessManager(&manager);
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("sized/")));
        QBuffer sink;
        const auto transfer = download(remote, QStringLiteral("s"), sink);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(sink.data() == expectedBytes(size, 907));
        QList<QByteArray> ranges = manager.ranges;
        std::sort(ranges.begin(), ranges.end());
        const QList<QByteArray> expected = partSize == 0
            ? QList<QByteArray> {""}
            : QList<QByteArray> {"bytes=0-1048575", "bytes=1048576-2097151",
                                 "bytes=2097152-2097154"};
        QCOMPARE(ranges, expected);
    }

    // End to end: a queue that watches a file larger than a part downloads it
    // over HTTP/2 in parts, into its own file, whole.
    void queueDownloadsInParts()
    {
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        const qint64 size = 2 * QHttpRequest::DefaultHttp2PartSize + 12345;
        QDir().mkpath(nginx.rootPath() + QStringLiteral("/bucket"));
        QVERIFY(writeBytes(nginx.rootPath() + QStringLiteral("/bucket/large.bin"), size, 906));

        TemporaryDatabase database;
        QVERIFY(database.isValid());
        RangeRecorder manager;
        QHttpRemoteStorage remote;
        remote.setNetworkAccessManager(&manager);
        remote.setHttp2PriorKnowledge(true);
        remote.setBaseUrl(nginx.http2Url(QStringLiteral("bucket/")));
        QAttachmentQueue queue;
        database.setUpQueue(queue, &remote);
        QVERIFY(queue.startSync());
        queue.setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("large"), QStringLiteral("bin"))});
        PSA_WAIT(queue.attachment(QStringLiteral("large")).state() == State::Synced, 60000);
        const QString local = queue.localUrl(QStringLiteral("large")).toLocalFile();
        QCOMPARE(QFileInfo(local).size(), size);
        QVERIFY(readFile(local) == expectedBytes(size, 906));
        QCOMPARE(manager.ranges.size(), 3); // three parts
    }

    // The file was replaced on the server between two parts: the next part,
    // asked for with If-Range, comes back as the whole new file, and that is
    // what the download ends with.
    void fileReplacedBetweenPartsEndsWithTheNewOne()
    {
        NginxServer::Options options;
        options.http2 = true;
        NginxServer nginx(options);
        PSA_START_NGINX(nginx);
        const QString dir = nginx.rootPath() + QStringLiteral("/replaced");
        QDir().mkpath(dir);
        const QString path = dir + QStringLiteral("/r.bin");
        const qint64 before = 4 * MiB + 1;
        const qint64 after = 4 * MiB + 77; // another length: another ETag
        QVERIFY(writeBytes(path, before, 904));
        QVERIFY(writeBytes(dir + QStringLiteral("/next.tmp"), after, 905));

        RangeRecorder manager;
        QHttpTransfer transfer(Kind::Download, &manager);
        transfer.setHttp2PriorKnowledge(true);
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QHttpTransfer::Request request;
        request.request.setUrl(nginx.http2Url(QStringLiteral("replaced/r.bin")));
        request.sink = &sink;
        request.http2PartSize = MiB;
        request.http2PartsAhead = 0; // each part asked for after the one before
        bool replaced = false;
        connect(&transfer, &QAttachmentTransfer::progress, this, [&](qint64 done, qint64) {
            if (!replaced && done >= MiB)
                replaced = QFile::rename(dir + QStringLiteral("/next.tmp"), path)
                    || (QFile::remove(path)
                        && QFile::rename(dir + QStringLiteral("/next.tmp"), path));
        });
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(60000));
        QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
        QVERIFY(replaced);
        QCOMPARE(sink.pos(), after);
        QVERIFY(sink.data() == expectedBytes(after, 905));
        const QList<QByteArray> expected
            = {"bytes=0-" + QByteArray::number(MiB - 1),
               "bytes=" + QByteArray::number(MiB) + '-' + QByteArray::number(2 * MiB - 1)};
        QCOMPARE(manager.ranges, expected);
    }

    // What the manager is asked for: with prior knowledge a large upload
    // carries Http2DirectAttribute and is allowed HTTP/2; a caller that set
    // Http2AllowedAttribute itself keeps its value.
    void ownHttp2AllowedAttributeWins_data()
    {
        QTest::addColumn<QVariant>("own");
        QTest::addColumn<QVariant>("sent");
        QTest::newRow("left open") << QVariant() << QVariant(true);
        QTest::newRow("caller's false") << QVariant(false) << QVariant(false);
    }
    void ownHttp2AllowedAttributeWins()
    {
        QFETCH(QVariant, own);
        QFETCH(QVariant, sent);
        // Records the attributes of every PUT; answers nothing (aborted below).
        class RecordingManager : public QNetworkAccessManager
        {
        public:
            QList<QVariant> allowed;
            QList<QVariant> direct;

        protected:
            QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                         QIODevice *data) override
            {
                if (op == PutOperation) {
                    allowed << request.attribute(QNetworkRequest::Http2AllowedAttribute);
                    direct << request.attribute(QNetworkRequest::Http2DirectAttribute);
                }
                return QNetworkAccessManager::createRequest(op, request, data);
            }
        } manager;
        const quint16 closedPort = TestSupport::freePort();
        QBuffer body;
        body.setData(QByteArray(3 * MiB, 'x'));
        QVERIFY(body.open(QIODevice::ReadOnly));
        QHttpTransfer transfer(Kind::Upload, &manager);
        transfer.setHttp2PriorKnowledge(true);
        QHttpTransfer::Request request;
        request.request.setUrl(QUrl(QStringLiteral("http://127.0.0.1:%1/x.bin").arg(closedPort)));
        if (own.isValid())
            request.request.setAttribute(QNetworkRequest::Http2AllowedAttribute, own);
        request.method = "PUT";
        request.body = &body;
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(20000)); // refused: nothing listens there
        QCOMPARE(manager.allowed.size(), 1);
        QCOMPARE(manager.allowed.first(), sent);
        QCOMPARE(manager.direct.first(), QVariant(true));
    }
};

QTEST_MAIN(tst_HttpH2Large)
#include "tst_httph2large.moc"
