#include "faultserver.h"
#include "onewaystream.h"
#include "qattachmentqueue.h"
#include "qfunctionattachmenterrorhandler.h"
#include "qs3remotestorage.h"
#include "qs3signer_p.h"
#include "resumecheck.h"
#include "rgwprocess.h"
#include "s3rverprocess.h"
#include "testsupport.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtCore/qxmlstream.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtSql/qsqldatabase.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using State = QAttachmentState::State;

namespace {

QByteArray fileSha256(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result().toHex();
}

struct HttpAnswer
{
    int status = 0;
    QByteArray body;
    QByteArray contentType;
};

// A plain request through a manager of its own, waiting for the answer.
HttpAnswer fetch(const QUrl &url, const QByteArray &method = "GET")
{
    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    QNetworkReply *reply = manager.sendCustomRequest(request, method);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    HttpAnswer answer;
    if (!finished.wait(30000)) {
        delete reply;
        return answer;
    }
    answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    answer.body = reply->readAll();
    answer.contentType = reply->rawHeader("Content-Type");
    delete reply;
    return answer;
}

// A request signed with Signature Version 4 for `service`, waiting for the answer.
HttpAnswer signedFetch(const QUrl &url, const QByteArray &method, const QS3Signer &signer,
                       const QByteArray &body = {}, const QByteArray &contentType = {})
{
    QNetworkAccessManager manager;
    QNetworkRequest request(url);
    if (!contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    signer.sign(request, method, QS3Signer::sha256Hex(body));
    QNetworkReply *reply = manager.sendCustomRequest(request, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    HttpAnswer answer;
    if (finished.wait(30000)) {
        answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        answer.body = reply->readAll();
        answer.contentType = reply->rawHeader("Content-Type");
    }
    delete reply;
    return answer;
}

// Every text of elements named `name` in `xml`.
QStringList xmlTexts(const QByteArray &xml, const QString &name)
{
    QStringList texts;
    QXmlStreamReader reader(xml);
    while (!reader.atEnd()) {
        reader.readNext();
        if (reader.isStartElement() && reader.name() == name)
            texts.append(reader.readElementText(QXmlStreamReader::IncludeChildElements));
    }
    return texts;
}

// Waits for `transfer` to finish and returns its error.
QAttachmentError waitFor(QAttachmentTransfer *transfer, int timeoutMs = 60000)
{
    if (!transfer->isFinished()) {
        QSignalSpy finished(transfer, &QAttachmentTransfer::finished);
        if (!finished.wait(timeoutMs))
            return QAttachmentError(QAttachmentError::Timeout, QStringLiteral("test timeout"));
    }
    return transfer->error();
}

// Records the requests the storage sends, and how many part uploads were in
// flight at once.
class RecordingManager : public QNetworkAccessManager
{
public:
    QStringList requests; // "METHOD query"
    int partsInFlight = 0;
    int maxPartsInFlight = 0;

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *outgoingData) override
    {
        QNetworkReply *reply = QNetworkAccessManager::createRequest(op, request, outgoingData);
        const QString query = request.url().query();
        const QByteArray verb = op == PutOperation ? "PUT"
            : op == PostOperation                  ? "POST"
            : op == GetOperation                   ? "GET"
            : op == DeleteOperation
            ? "DELETE"
            : request.attribute(QNetworkRequest::CustomVerbAttribute).toByteArray();
        requests.append(QString::fromLatin1(verb) + QLatin1Char(' ') + query);
        if (query.contains(QLatin1String("partNumber="))) {
            maxPartsInFlight = qMax(maxPartsInFlight, ++partsInFlight);
            connect(reply, &QNetworkReply::finished, this, [this] { --partsInFlight; });
        }
        return reply;
    }
};

// Sends the first attempt of one part of a multipart upload to another
// server (a FaultServer that fails it), everything else where it belongs.
class DivertingManager : public RecordingManager
{
public:
    QString divertedPart; // "partNumber=N"
    QUrl divertTo;
    int diverted = 0;

    // Sends the first request for part `partNumber` to the server at `to`.
    void divert(int partNumber, const QUrl &to)
    {
        divertedPart = QStringLiteral("partNumber=%1").arg(partNumber);
        divertTo = to;
    }

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *outgoingData) override
    {
        const QStringList parameters = request.url().query().split(QLatin1Char('&'));
        if (diverted == 0 && parameters.contains(divertedPart)) {
            ++diverted;
            QNetworkRequest elsewhere(request);
            QUrl url = request.url();
            url.setPort(divertTo.port());
            elsewhere.setUrl(url);
            return RecordingManager::createRequest(op, elsewhere, outgoingData);
        }
        return RecordingManager::createRequest(op, request, outgoingData);
    }
};

} // namespace

class tst_S3 : public QObject
{
    Q_OBJECT

private:
    // The same tests run against s3rver (default) or Ceph's RADOS Gateway
    // (PSA_S3_BACKEND=rgw).
    bool m_isRgw = qEnvironmentVariable("PSA_S3_BACKEND") == QLatin1String("rgw");
    std::unique_ptr<S3rverProcess> m_s3rver;
    std::unique_ptr<RgwProcess> m_rgw;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_connection;

    QUrl endpoint() const { return m_isRgw ? m_rgw->endpoint() : m_s3rver->endpoint(); }
    QString bucket() const { return m_isRgw ? RgwProcess::bucket() : m_s3rver->bucket(); }
    QString accessKeyId() const
    {
        return m_isRgw ? RgwProcess::accessKeyId() : S3rverProcess::accessKeyId();
    }
    QString secretAccessKey() const
    {
        return m_isRgw ? RgwProcess::secretAccessKey() : S3rverProcess::secretAccessKey();
    }

    std::unique_ptr<QS3RemoteStorage> makeStorage(const QString &secret = {})
    {
        auto storage = std::make_unique<QS3RemoteStorage>();
        storage->setEndpoint(endpoint());
        storage->setBucket(bucket());
        storage->setKeyPrefix(QStringLiteral("attachments/"));
        storage->setAccessKeyId(accessKeyId());
        storage->setSecretAccessKey(secret.isEmpty() ? secretAccessKey() : secret);
        return storage;
    }
    // A storage that uploads anything over 1 KiB in parts of `partSize`,
    // `parallelParts` at a time.
    std::unique_ptr<QS3RemoteStorage> makeMultipartStorage(qint64 partSize, int parallelParts)
    {
        auto storage = makeStorage();
        storage->setMultipartThreshold(1024);
        storage->setPartSize(partSize);
        storage->setMaxParallelParts(parallelParts);
        return storage;
    }
    // A storage whose credentials come only from a provider.
    std::unique_ptr<QS3RemoteStorage> makeProvidedStorage()
    {
        auto storage = makeStorage();
        storage->setAccessKeyId(QString());
        storage->setSecretAccessKey(QString());
        return storage;
    }
    // What the server holds under `key`, read back through the S3 API (a
    // presigned GET the server checks): status 200 and the bytes, or 404.
    HttpAnswer stored(const QString &key)
    {
        return fetch(makeStorage()->presignedUrl(key, "GET", 300));
    }
    // Size and SHA-256 of the object, streamed (for objects too big to hold).
    std::pair<qint64, QByteArray> storedHash(const QString &key)
    {
        QNetworkAccessManager manager;
        QNetworkReply *reply
            = manager.get(QNetworkRequest(makeStorage()->presignedUrl(key, "GET", 300)));
        reply->setReadBufferSize(1024 * 1024);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        qint64 size = 0;
        connect(reply, &QNetworkReply::readyRead, reply, [&] {
            const QByteArray chunk = reply->readAll();
            size += chunk.size();
            hash.addData(chunk);
        });
        QSignalSpy finished(reply, &QNetworkReply::finished);
        const bool done = finished.wait(240000);
        const QByteArray rest = reply->readAll();
        size += rest.size();
        hash.addData(rest);
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        delete reply;
        if (!done || status != 200)
            return {-status, {}};
        return {size, hash.result().toHex()};
    }
    std::unique_ptr<QAttachmentQueue> makeQueue(QS3RemoteStorage *storage, const QString &subdir)
    {
        auto queue = std::make_unique<QAttachmentQueue>();
        queue->setConnectionName(m_connection);
        queue->setLocalDirectory(m_dir->path() + QLatin1Char('/') + subdir);
        queue->setRemoteStorage(storage);
        queue->setSyncInterval(0);
        queue->setRetryDelay(20);
        queue->setMaxRetryDelay(200);
        return queue;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        QString error;
        if (m_isRgw) {
            if (!RgwProcess::isAvailable(&why))
                QSKIP(qPrintable(why));
            m_rgw = std::make_unique<RgwProcess>();
            QVERIFY2(m_rgw->start(&error), qPrintable(error));
            qInfo("RADOS Gateway ready after %lld ms", qlonglong(m_rgw->startupMs()));
            return;
        }
        if (!S3rverProcess::isAvailable(&why))
            QSKIP(qPrintable(why));
        m_s3rver = std::make_unique<S3rverProcess>();
        QVERIFY2(m_s3rver->start(&error), qPrintable(error));
    }
    void cleanupTestCase()
    {
        m_s3rver.reset();
        if (m_rgw) {
            m_rgw->stop();
            const QByteArray output = m_rgw->output();
            const qsizetype at = output.lastIndexOf("RGW_MEMORY");
            qInfo("Ceph cluster: started in %lld ms, peak resident memory of its daemons %lld "
                  "KiB (%s)",
                  qlonglong(m_rgw->startupMs()), qlonglong(m_rgw->peakMemoryKiB()),
                  at < 0 ? "" : output.mid(at, output.indexOf('\n', at) - at).constData());
            m_rgw.reset();
        }
    }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
    }
    void cleanup()
    {
        TestSupport::closeDatabase(m_connection);
        m_dir.reset();
    }

    void defaults()
    {
        QS3RemoteStorage storage;
        QCOMPARE(storage.multipartThreshold(), qint64(64) * 1024 * 1024);
        QCOMPARE(storage.partSize(), qint64(16) * 1024 * 1024);
        QCOMPARE(storage.region(), QStringLiteral("us-east-1"));
        QVERIFY(!storage.pathStyle()); // AWS: virtual-hosted buckets
        QSignalSpy pathStyleChanged(&storage, &QS3RemoteStorage::pathStyleChanged);
        QSignalSpy configurationChanged(&storage, &QAttachmentRemoteStorage::configurationChanged);
        storage.setEndpoint(QUrl(QStringLiteral("http://127.0.0.1:9000")));
        QVERIFY(storage.pathStyle()); // a custom endpoint: bucket in the path
        QCOMPARE(pathStyleChanged.count(), 1);
        QCOMPARE(configurationChanged.count(), 1);
        storage.setBucket(QStringLiteral("b"));
        storage.setKeyPrefix(QStringLiteral("p/"));
        QCOMPARE(storage.objectKey(QAttachment(QStringLiteral("id"), QStringLiteral("a b.jpg"))),
                 QStringLiteral("p/a b.jpg"));
        QCOMPARE(storage.objectUrl(QStringLiteral("p/a b+é.jpg")).toString(QUrl::FullyEncoded),
                 QStringLiteral("http://127.0.0.1:9000/b/p/a%20b%2B%C3%A9.jpg"));
        storage.setPathStyle(false);
        QCOMPARE(storage.objectUrl(QStringLiteral("k")).toString(QUrl::FullyEncoded),
                 QStringLiteral("http://b.127.0.0.1:9000/k"));

        QS3RemoteStorage aws;
        aws.setRegion(QStringLiteral("eu-central-1"));
        aws.setBucket(QStringLiteral("photos"));
        QCOMPARE(aws.objectUrl(QStringLiteral("x.png")).toString(),
                 QStringLiteral("https://photos.s3.eu-central-1.amazonaws.com/x.png"));
        QVERIFY(aws.presignedUrl(QStringLiteral("x.png"), "GET", 60).isEmpty()); // no credentials
    }

    // saveFile → the object is in the bucket with the same bytes and type;
    // watched elsewhere → downloaded; deleteFile → the object is gone.
    void queueEndToEnd()
    {
        auto storage = makeStorage();
        auto queue = makeQueue(storage.get(), QStringLiteral("a"));
        QSignalSpy uploaded(queue.get(), &QAttachmentQueue::uploadFinished);
        QSignalSpy failed(queue.get(), &QAttachmentQueue::transferFailed);
        const QByteArray data = TestSupport::randomBytes(300 * 1024, 7);
        QString error;
        const QAttachment saved = queue->saveFile(data, QStringLiteral("image/png"),
                                                  QStringLiteral("png"), {}, {}, &error);
        QVERIFY2(saved.isValid(), qPrintable(error));
        QVERIFY(queue->startSync());
        queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("png"))});
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 30000);
        QCOMPARE(failed.count(), 0);
        QCOMPARE(queue->attachment(saved.id()).state(), State::Synced);

        const QString key = QStringLiteral("attachments/") + saved.filename();
        // Read back through the S3 API, with a presigned URL the server checks.
        const HttpAnswer answer = fetch(storage->presignedUrl(key, "GET", 300));
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, data);
        QCOMPARE(answer.contentType, QByteArray("image/png"));

        // A second device (own directory, same database table is not shared:
        // a table of its own) references the id and downloads it.
        auto otherStorage = makeStorage();
        auto other = makeQueue(otherStorage.get(), QStringLiteral("b"));
        other->setTableName(QStringLiteral("other_queue"));
        QSignalSpy downloaded(other.get(), &QAttachmentQueue::downloadFinished);
        QVERIFY(other->startSync());
        other->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("png"))});
        QTRY_COMPARE_WITH_TIMEOUT(downloaded.count(), 1, 30000);
        const QUrl local = other->localUrl(saved.id());
        QFile localFile(local.toLocalFile());
        QVERIFY(localFile.open(QIODevice::ReadOnly));
        QCOMPARE(localFile.readAll(), data);
        QCOMPARE(other->attachment(saved.id()).state(), State::Synced);

        QSignalSpy deleted(queue.get(), &QAttachmentQueue::deleteFinished);
        QVERIFY(queue->deleteFile(saved.id()));
        queue->setWatchedAttachments({});
        QTRY_COMPARE_WITH_TIMEOUT(deleted.count(), 1, 30000);
        const HttpAnswer gone = fetch(storage->presignedUrl(key, "GET", 300));
        QCOMPARE(gone.status, 404);
        QVERIFY(gone.body.contains("NoSuchKey"));
    }

    void deletingAMissingObjectSucceeds()
    {
        auto storage = makeStorage();
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage->remove(QAttachment(QStringLiteral("x"), QStringLiteral("never-there.bin"))));
        const QAttachmentError error = waitFor(transfer.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
    }

    void missingObjectIsNotFound()
    {
        auto storage = makeStorage();
        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> transfer(storage->download(
            QAttachment(QStringLiteral("x"), QStringLiteral("absent.bin")), &sink));
        const QAttachmentError error = waitFor(transfer.get());
        QCOMPARE(error.code(), QAttachmentError::NotFound);
        QCOMPARE(error.httpStatus(), 404);
        QVERIFY2(error.message().contains(QStringLiteral("NoSuchKey")),
                 qPrintable(error.message()));
        // The text says which server answered: the host the request went to.
        const QUrl contacted = storage->objectUrl(QStringLiteral("attachments/absent.bin"));
        QVERIFY2(error.message().contains(
                     QStringLiteral(" from %1:%2 ").arg(contacted.host()).arg(contacted.port())),
                 qPrintable(error.message()));
        QCOMPARE(sink.size(), 0); // the error document is not the file
    }

    // The server checks signatures: a wrong secret is Unauthorized, handed to
    // the error handler once, and the upload is given up instead of retried.
    void wrongSecretIsUnauthorized()
    {
        auto storage = makeStorage(QStringLiteral("not-the-secret"));
        auto queue = makeQueue(storage.get(), QStringLiteral("a"));
        QList<QAttachmentError> seen;
        QFunctionAttachmentErrorHandler handler(
            [&](QAttachmentTransfer::Kind, const QAttachment &, const QAttachmentError &error) {
                seen.append(error);
                return false;
            });
        queue->setErrorHandler(&handler);
        QSignalSpy failed(queue.get(), &QAttachmentQueue::transferFailed);
        const QAttachment saved
            = queue->saveFile("secret bytes", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QVERIFY(queue->startSync());
        queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("txt"))});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen.first().code(), QAttachmentError::Unauthorized);
        QVERIFY(!seen.first().isRetryable());
        QCOMPARE(seen.first().httpStatus(), 403);
        QVERIFY2(seen.first().message().contains(QStringLiteral("SignatureDoesNotMatch")),
                 qPrintable(seen.first().message()));
        const QAttachmentError reported = failed.first().at(2).value<QAttachmentError>();
        QCOMPARE(reported.code(), QAttachmentError::Unauthorized);
        QCOMPARE(failed.first().at(3).toBool(), false); // will not retry
        QTRY_COMPARE_WITH_TIMEOUT(queue->attachment(saved.id()).state(), State::Archived, 5000);
        QCOMPARE(stored(QStringLiteral("attachments/") + saved.filename()).status, 404);
    }

    void unknownAccessKeyIsUnauthorized()
    {
        auto storage = makeStorage();
        storage->setAccessKeyId(QStringLiteral("NOBODY"));
        QBuffer source;
        source.setData("x");
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> transfer(
            storage->upload(QAttachment(QStringLiteral("x"), QStringLiteral("x.txt")), &source));
        const QAttachmentError error = waitFor(transfer.get());
        QCOMPARE(error.code(), QAttachmentError::Unauthorized);
        QVERIFY2(error.message().contains(QStringLiteral("InvalidAccessKeyId")),
                 qPrintable(error.message()));
    }

    // Temporary credentials: the provider is asked once for the first request,
    // and again when the server rejects what it gave.
    void credentialsProviderRefreshesAfterRejection()
    {
        auto storage = makeProvidedStorage();
        int calls = 0;
        storage->setCredentialsProvider([&](QS3RemoteStorage::CredentialsCallback done) {
            ++calls;
            // First a secret that has been revoked, then a working one.
            const QString secret = calls == 1 ? QStringLiteral("revoked") : secretAccessKey();
            // s3rver ignores session tokens; the gateway checks them (see
            // sessionTokenFromTheTokenService), so it gets none here.
            QS3Credentials credentials(accessKeyId(), secret,
                                       m_isRgw ? QString() : QStringLiteral("session-token"),
                                       QDateTime::currentDateTimeUtc().addSecs(3600));
            // Answer later, as a network round trip would.
            QTimer::singleShot(0, storage.get(), [done, credentials] { done(credentials, {}); });
        });

        QBuffer source;
        source.setData("with temporary credentials");
        source.open(QIODevice::ReadOnly);
        const QAttachment attachment(QStringLiteral("t"), QStringLiteral("temporary.txt"));
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(calls, 2);

        // The cached credentials serve the next requests.
        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &sink));
        error = waitFor(down.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(sink.data(), QByteArray("with temporary credentials"));
        QCOMPARE(calls, 2);

        // A provider that cannot deliver fails the transfer with its error.
        storage->setCredentialsProvider([](QS3RemoteStorage::CredentialsCallback done) {
            done({},
                 QAttachmentError(QAttachmentError::NetworkError,
                                  QStringLiteral("token "
                                                 "service "
                                                 "down")));
        });
        std::unique_ptr<QAttachmentTransfer> third(storage->remove(attachment));
        error = waitFor(third.get());
        QCOMPARE(error.code(), QAttachmentError::NetworkError);
        QCOMPARE(error.message(), QStringLiteral("token service down"));

        // One that never answers fails the transfer after transferTimeout
        // instead of holding it, and is asked again by the next request.
        int silentCalls = 0;
        storage->setTransferTimeout(200);
        storage->setCredentialsProvider(
            [&](QS3RemoteStorage::CredentialsCallback) { ++silentCalls; });
        std::unique_ptr<QAttachmentTransfer> fourth(storage->remove(attachment));
        error = waitFor(fourth.get());
        QCOMPARE(error.code(), QAttachmentError::Timeout);
        std::unique_ptr<QAttachmentTransfer> fifth(storage->remove(attachment));
        error = waitFor(fifth.get());
        QCOMPARE(error.code(), QAttachmentError::Timeout);
        QCOMPARE(silentCalls, 2);
    }

    // A rejected upload from a stream cannot be repeated with new credentials:
    // the stream has been read. It fails instead of storing what is left of
    // it, and the next upload asks for new credentials.
    void rejectedStreamUploadIsNotRepeated()
    {
        auto storage = makeProvidedStorage();
        int calls = 0;
        storage->setCredentialsProvider([&](QS3RemoteStorage::CredentialsCallback done) {
            ++calls;
            const QString secret = calls == 1 ? QStringLiteral("revoked") : secretAccessKey();
            done(QS3Credentials(accessKeyId(), secret), {});
        });
        const QAttachment attachment(QStringLiteral("s"), QStringLiteral("stream.txt"));
        const QString key = QStringLiteral("attachments/stream.txt");
        const QByteArray data = "bytes that can be read only once";

        OneWayStream first(data);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &first));
        QAttachmentError error = waitFor(up.get());
        QCOMPARE(error.code(), QAttachmentError::Unauthorized);
        QCOMPARE(stored(key).status, 404);

        OneWayStream second(data);
        up.reset(storage->upload(attachment, &second));
        error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(calls, 2);
        const HttpAnswer answer = stored(key);
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, data);
    }

    // Keys with spaces, reserved and non-ASCII characters sign and store correctly.
    void unusualKeys_data()
    {
        QTest::addColumn<QString>("prefix");
        QTest::addColumn<QString>("filename");
        QTest::newRow("space") << QStringLiteral("attachments/") << QStringLiteral("my photo.jpg");
        QTest::newRow("non-ascii")
            << QStringLiteral("fotos/Größe/") << QStringLiteral("çà 写真 😀.jpg");
        QTest::newRow("reserved") << QStringLiteral("a+b/")
                                  << QStringLiteral("x=1&y=(2)!$'*,;@ ~.bin");
        QTest::newRow("percent-plus")
            << QStringLiteral("attachments/") << QStringLiteral("100% a+b %41%2F.txt");
    }
    void unusualKeys()
    {
        QFETCH(QString, prefix);
        QFETCH(QString, filename);
        auto storage = makeStorage();
        storage->setKeyPrefix(prefix);
        const QAttachment attachment(QStringLiteral("k"), filename);
        const QByteArray data = "bytes of " + filename.toUtf8();

        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        const HttpAnswer answer = stored(prefix + filename);
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body, data);

        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &sink));
        error = waitFor(down.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(sink.data(), data);

        std::unique_ptr<QAttachmentTransfer> del(storage->remove(attachment));
        error = waitFor(del.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(stored(prefix + filename).status, 404);
    }

    // A download that already has the first bytes asks only for the rest.
    void downloadResumesWithRange()
    {
        auto storage = makeStorage();
        const QAttachment attachment(QStringLiteral("r"), QStringLiteral("resume.bin"));
        const QByteArray data = TestSupport::randomBytes(200 * 1024, 3);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));

        // The first 1000 bytes "received earlier" are marked, so a full
        // download would overwrite them and a ranged one keeps them. They
        // carry the validator of the version they came from.
        QBuffer first;
        first.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> whole(storage->download(attachment, &first));
        error = waitFor(whole.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        const QByteArray etag
            = first.property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
        QVERIFY2(etag.startsWith('"') && etag.endsWith('"'), etag.constData());
        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        const QByteArray marker(1000, 'M');
        sink.write(marker);
        sink.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, etag);
        std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &sink));
        error = waitFor(down.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(sink.pos(), data.size());
        QCOMPARE(sink.data(), marker + data.mid(1000));
        QCOMPARE(down->bytesDone(), data.size());
    }

    // A resume asks only for the rest of the same version; an object replaced
    // in between is downloaded again from 0. (The RADOS Gateway 16.2 ignores
    // If-Range and answers 206 with the new version's ETag.)
    void resumeNeverMixesVersions()
    {
        auto storage = makeStorage();
        RecordingManager manager;
        storage->setNetworkAccessManager(&manager);
        const QString problem = TestSupport::checkResumeAcrossVersions(
            storage.get(), QAttachment(QStringLiteral("v"), QStringLiteral("versions.bin")));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    // Above the threshold the file goes up in parts, several at a time, and
    // comes back whole.
    void multipartUpload100MiB()
    {
        const qint64 size = 100 * 1024 * 1024 + 12345;
        const QString sourcePath = m_dir->path() + QStringLiteral("/big.bin");
        {
            QFile file(sourcePath);
            QVERIFY(file.open(QIODevice::WriteOnly));
            const QByteArray chunk = TestSupport::randomBytes(1024 * 1024, 11);
            for (qint64 written = 0; written < size;) {
                const qint64 n = qMin<qint64>(chunk.size(), size - written);
                // Vary each mebibyte so misplaced parts cannot go unnoticed.
                QByteArray block = chunk.left(n);
                const QByteArray tag = QByteArray::number(written);
                block.replace(0, tag.size(), tag);
                QCOMPARE(file.write(block), n);
                written += n;
            }
        }
        const QByteArray expectedHash = fileSha256(sourcePath);

        auto storage = makeStorage();
        storage->setPartSize(8 * 1024 * 1024);
        RecordingManager manager;
        storage->setNetworkAccessManager(&manager);
        auto queue = makeQueue(storage.get(), QStringLiteral("a"));
        QSignalSpy uploaded(queue.get(), &QAttachmentQueue::uploadFinished);
        QSignalSpy failed(queue.get(), &QAttachmentQueue::transferFailed);
        qint64 lastProgress = -1;
        bool progressWentBack = false;
        connect(queue.get(), &QAttachmentQueue::transferProgress, this,
                [&](const QString &, QAttachmentTransfer::Kind, qint64 done, qint64) {
                    progressWentBack = progressWentBack || done < lastProgress;
                    lastProgress = done;
                });
        QString error;
        const QAttachment saved
            = queue->saveFileFromPath(sourcePath, QStringLiteral("application/octet-stream"),
                                      QStringLiteral("bin"), {}, {}, &error);
        QVERIFY2(saved.isValid(), qPrintable(error));
        QVERIFY(queue->startSync());
        queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("bin"))});
        QTRY_VERIFY_WITH_TIMEOUT(uploaded.count() == 1 || failed.count() > 0, 240000);
        if (!failed.isEmpty())
            QFAIL(qPrintable(failed.first().at(2).value<QAttachmentError>().message()));
        QCOMPARE(lastProgress, size);
        QVERIFY(!progressWentBack);
        // One multipart upload of 13 parts (8 MiB each, the last one shorter),
        // several in flight at once but never more than maxParallelParts.
        QCOMPARE(manager.requests.count(QStringLiteral("POST uploads")), 1);
        QCOMPARE(manager.requests.filter(QStringLiteral("PUT partNumber=")).size(), 13);
        QCOMPARE(
            manager.requests.filter(QRegularExpression(QStringLiteral("^POST uploadId="))).size(),
            1);
        QVERIFY2(manager.maxPartsInFlight > 1,
                 qPrintable(QString::number(manager.maxPartsInFlight)));
        QVERIFY(manager.maxPartsInFlight <= storage->maxParallelParts());

        const auto [storedSize, storedSha]
            = storedHash(QStringLiteral("attachments/") + saved.filename());
        QCOMPARE(storedSize, size);
        QCOMPARE(storedSha, expectedHash);

        // And back, streamed into a file.
        const QString backPath = m_dir->path() + QStringLiteral("/back.bin");
        QFile back(backPath);
        QVERIFY(back.open(QIODevice::ReadWrite));
        std::unique_ptr<QAttachmentTransfer> down(storage->download(saved, &back));
        const QAttachmentError downError = waitFor(down.get(), 240000);
        QVERIFY2(!downError.isError(), qPrintable(downError.message()));
        back.close();
        QCOMPARE(fileSha256(backPath), expectedHash);
    }

    // Below the threshold but with a tiny threshold: the multipart path with
    // a source that is not a file (parts read from one shared device).
    void multipartFromBuffer()
    {
        // A part size of 1: raised to the 5 MiB S3 minimum.
        auto storage = makeMultipartStorage(1, 2);
        const QByteArray data = TestSupport::randomBytes(12 * 1024 * 1024 + 5, 5);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        const QAttachment attachment(QStringLiteral("m"), QStringLiteral("parts.bin"));
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        const QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        const HttpAnswer answer = stored(QStringLiteral("attachments/parts.bin"));
        QCOMPARE(answer.status, 200);
        QCOMPARE(QCryptographicHash::hash(answer.body, QCryptographicHash::Sha256),
                 QCryptographicHash::hash(data, QCryptographicHash::Sha256));
    }

    // A multipart upload's requests go through the same refresh as single
    // ones: rejected credentials are replaced once and the upload completes.
    void multipartRefreshesRejectedCredentials()
    {
        auto storage = makeProvidedStorage();
        storage->setMultipartThreshold(1024);
        storage->setMaxParallelParts(2);
        int calls = 0;
        storage->setCredentialsProvider([&](QS3RemoteStorage::CredentialsCallback done) {
            ++calls;
            const QString secret = calls == 1 ? QStringLiteral("revoked") : secretAccessKey();
            QS3Credentials credentials(accessKeyId(), secret, QString(),
                                       QDateTime::currentDateTimeUtc().addSecs(3600));
            QTimer::singleShot(0, storage.get(), [done, credentials] { done(credentials, {}); });
        });
        const QByteArray data = TestSupport::randomBytes(11 * 1024 * 1024, 17);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(
            QAttachment(QStringLiteral("r"), QStringLiteral("refreshed-parts.bin")), &source));
        const QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(calls, 2);
        const HttpAnswer answer = stored(QStringLiteral("attachments/refreshed-parts.bin"));
        QCOMPARE(answer.status, 200);
        QCOMPARE(QCryptographicHash::hash(answer.body, QCryptographicHash::Sha256),
                 QCryptographicHash::hash(data, QCryptographicHash::Sha256));
    }

    // An empty file has no parts to upload, whatever the threshold: it goes
    // up in a single PUT instead of a multipart upload that never completes.
    void emptyFileWithNegativeThreshold()
    {
        auto storage = makeStorage();
        storage->setMultipartThreshold(-1);
        RecordingManager manager;
        storage->setNetworkAccessManager(&manager);
        QBuffer source;
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(
            QAttachment(QStringLiteral("e"), QStringLiteral("empty.bin")), &source));
        const QAttachmentError error = waitFor(up.get(), 10000);
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(manager.requests, QStringList {QStringLiteral("PUT ")});
        const HttpAnswer answer = stored(QStringLiteral("attachments/empty.bin"));
        QCOMPARE(answer.status, 200);
        QCOMPARE(answer.body.size(), 0);
    }

    // Progress of a multipart upload counts each part's bytes once: it never
    // runs ahead of the parts that have been sent.
    void multipartProgressCountsEachPartOnce()
    {
        const qint64 partSize = 5 * 1024 * 1024;
        auto storage = makeMultipartStorage(partSize, 1);
        RecordingManager manager;
        storage->setNetworkAccessManager(&manager);
        const QByteArray data = TestSupport::randomBytes(4 * partSize, 13);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(
            QAttachment(QStringLiteral("p"), QStringLiteral("progress.bin")), &source));
        QString ahead;
        connect(up.get(), &QAttachmentTransfer::progress, this, [&](qint64 done, qint64) {
            const qint64 started
                = manager.requests.filter(QStringLiteral("PUT partNumber=")).size();
            if (ahead.isEmpty() && done > started * partSize)
                ahead = QStringLiteral("%1 bytes reported with %2 parts started")
                            .arg(done)
                            .arg(started);
        });
        const QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QVERIFY2(ahead.isEmpty(), qPrintable(ahead));
        QCOMPARE(manager.requests.filter(QStringLiteral("PUT partNumber=")).size(), 4);
        QCOMPARE(up->bytesDone(), data.size());
    }

    // S3 answers CompleteMultipartUpload with 200 at once and keeps the
    // connection alive with white space; a failure then comes as an <Error>
    // document after that white space. The upload must fail, not succeed.
    void completionErrorAfterWhiteSpaceFails()
    {
        FaultServer server;
        QVERIFY(server.listen());
        using Fault = FaultServer::Fault;
        server.addFault("POST",
                        Fault::answer(200,
                                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                      "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
                                      "<Key>k</Key><UploadId>upload-1</UploadId>"
                                      "</InitiateMultipartUploadResult>"));
        server.addFault("PUT", Fault::answer(200, {}, {{"ETag", "\"part-etag\""}}), 2);
        server.addFault("POST",
                        Fault::answer(200,
                                      "\n  \n  <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                      "<Error><Code>InternalError</Code><Message>We "
                                      "encountered an internal error.</Message></Error>"));

        QS3RemoteStorage storage;
        storage.setEndpoint(server.url());
        storage.setBucket(QStringLiteral("b"));
        storage.setAccessKeyId(S3rverProcess::accessKeyId());
        storage.setSecretAccessKey(S3rverProcess::secretAccessKey());
        storage.setMultipartThreshold(1024);
        storage.setPartSize(5 * 1024 * 1024);
        const QByteArray data = TestSupport::randomBytes(5 * 1024 * 1024 + 10, 17);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(
            storage.upload(QAttachment(QStringLiteral("w"), QStringLiteral("w.bin")), &source));
        const QAttachmentError error = waitFor(up.get());
        QCOMPARE(server.pendingFaults(), 0);
        QCOMPARE(error.code(), QAttachmentError::ServerError);
        QVERIFY(error.isRetryable());
        QVERIFY2(error.message().contains(QStringLiteral("InternalError")),
                 qPrintable(error.message()));
        QVERIFY2(error.message().contains(
                     QStringLiteral(" from 127.0.0.1:%1 ").arg(server.url().port())),
                 qPrintable(error.message()));
        QVERIFY2(!error.message().contains(QStringLiteral("upload-1")),
                 qPrintable(error.message())); // the query's uploadId
    }

    void abortStopsTheTransfer()
    {
        auto storage = makeStorage();
        const QByteArray data = TestSupport::randomBytes(4 * 1024 * 1024, 9);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(
            QAttachment(QStringLiteral("a"), QStringLiteral("aborted.bin")), &source));
        QSignalSpy finished(up.get(), &QAttachmentTransfer::finished);
        up->abort();
        QVERIFY(finished.wait(10000));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(up->error().code(), QAttachmentError::Cancelled);
    }

    void presignedUrlWorksWithoutCredentials()
    {
        auto storage = makeStorage();
        const QString key = QStringLiteral("attachments/presigned ü.txt");
        const HttpAnswer put = [&] {
            QNetworkAccessManager manager;
            QNetworkRequest request(storage->presignedUrl(key, "PUT", 300));
            QNetworkReply *reply = manager.put(request, QByteArray("via presigned PUT"));
            QSignalSpy finished(reply, &QNetworkReply::finished);
            finished.wait(30000);
            HttpAnswer answer;
            answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            delete reply;
            return answer;
        }();
        QCOMPARE(put.status, 200);
        const HttpAnswer get = fetch(storage->presignedUrl(key, "GET", 300));
        QCOMPARE(get.status, 200);
        QCOMPARE(get.body, QByteArray("via presigned PUT"));

        // Tampering with the URL breaks the signature.
        QUrl tampered = storage->presignedUrl(key, "GET", 300);
        tampered.setPath(tampered.path() + QStringLiteral("x"));
        QCOMPARE(fetch(tampered).status, 403);
        // So does using it for another method.
        QCOMPARE(fetch(storage->presignedUrl(key, "GET", 300), "DELETE").status, 403);
    }

    // One part answered with a server error is sent again on its own: the
    // multipart upload goes on, no other part is repeated and nothing starts over.
    void failingPartIsRetriedAlone()
    {
        FaultServer faults;
        QVERIFY(faults.listen());
        faults.addFault(
            "PUT",
            FaultServer::Fault::answer(500,
                                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                                       "InternalError</Code><Message>injected</Message></Error>",
                                       {{"Content-Type", "application/xml"}}));
        auto storage = makeMultipartStorage(5 * 1024 * 1024, 2);
        DivertingManager manager;
        manager.divert(2, faults.url());
        storage->setNetworkAccessManager(&manager);
        const QByteArray data = TestSupport::randomBytes(15 * 1024 * 1024 + 7, 23); // 4 parts
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        const QString key = QStringLiteral("attachments/retried-part.bin");
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(
            QAttachment(QStringLiteral("r"), QStringLiteral("retried-part.bin")), &source));
        const QAttachmentError error = waitFor(up.get(), 120000);
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(manager.diverted, 1);
        QCOMPARE(faults.requestCount("PUT"), 1);
        QCOMPARE(manager.requests.count(QStringLiteral("POST uploads")), 1);
        for (int part = 1; part <= 4; ++part) {
            const QRegularExpression sent(QStringLiteral("^PUT partNumber=%1&").arg(part));
            QCOMPARE(manager.requests.filter(sent).size(), part == 2 ? 2 : 1);
        }
        const auto [size, sha] = storedHash(key);
        QCOMPARE(size, data.size());
        QCOMPARE(sha, QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
    }

    // The multipart uploads the server keeps open for `key` (ListMultipartUploads).
    QStringList openUploads(const QString &key)
    {
        QUrl url = endpoint();
        url.setPath(QLatin1Char('/') + bucket());
        url.setQuery(QStringLiteral("uploads&prefix=")
                         + QString::fromLatin1(QS3Signer::uriEncode(key.toUtf8())),
                     QUrl::StrictMode);
        const QS3Signer signer(accessKeyId().toUtf8(), secretAccessKey().toUtf8(), "us-east-1");
        const HttpAnswer answer = signedFetch(url, "GET", signer);
        if (answer.status != 200)
            return {QStringLiteral("ListMultipartUploads failed: HTTP %1 %2")
                        .arg(answer.status)
                        .arg(QString::fromUtf8(answer.body))};
        return xmlTexts(answer.body, QStringLiteral("UploadId"));
    }

    // An upload given up half way (aborted, or failed for good) aborts its
    // multipart upload: the server keeps no parts and no object.
    void abandonedMultipartLeavesNothing()
    {
        if (!m_isRgw)
            QSKIP("s3rver has no AbortMultipartUpload and ignores ListMultipartUploads; this "
                  "runs against the RADOS Gateway (PSA_S3_BACKEND=rgw)");
        const QByteArray data = TestSupport::randomBytes(20 * 1024 * 1024, 29);
        const QString key = QStringLiteral("attachments/abandoned.bin");
        const QAttachment attachment(QStringLiteral("x"), QStringLiteral("abandoned.bin"));
        {
            auto storage = makeMultipartStorage(5 * 1024 * 1024, 1);
            RecordingManager manager;
            storage->setNetworkAccessManager(&manager);
            QBuffer source;
            source.setData(data);
            source.open(QIODevice::ReadOnly);
            std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
            // Part 2 starts once part 1 is stored.
            QTRY_VERIFY_WITH_TIMEOUT(
                !manager.requests.filter(QStringLiteral("PUT partNumber=2&")).isEmpty(), 60000);
            QCOMPARE(openUploads(key).size(), 1); // the check below can see an open upload
            QSignalSpy finished(up.get(), &QAttachmentTransfer::finished);
            up->abort();
            QVERIFY(finished.count() == 1 || finished.wait(10000));
            QCOMPARE(up->error().code(), QAttachmentError::Cancelled);
            QTRY_COMPARE_WITH_TIMEOUT(openUploads(key), QStringList(), 15000);
            QCOMPARE(stored(key).status, 404);
        }
        {
            // A part the server refuses (not worth repeating) fails the upload.
            FaultServer faults;
            QVERIFY(faults.listen());
            faults.addFault(
                "PUT",
                FaultServer::Fault::answer(400,
                                           "<Error><Code>InvalidArgument</Code><Message>injected"
                                           "</Message></Error>",
                                           {{"Content-Type", "application/xml"}}));
            auto storage = makeMultipartStorage(5 * 1024 * 1024, 1);
            DivertingManager manager;
            manager.divert(3, faults.url());
            storage->setNetworkAccessManager(&manager);
            QBuffer source;
            source.setData(data);
            source.open(QIODevice::ReadOnly);
            std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
            const QAttachmentError error = waitFor(up.get(), 60000);
            QCOMPARE(error.code(), QAttachmentError::ClientError);
            QVERIFY2(error.message().contains(QStringLiteral("InvalidArgument")),
                     qPrintable(error.message()));
            QCOMPARE(manager.diverted, 1);
            QTRY_COMPARE_WITH_TIMEOUT(openUploads(key), QStringList(), 15000);
            QCOMPARE(stored(key).status, 404);
        }
    }

    // Credentials that are valid but not for this bucket: AccessDenied,
    // reported as Unauthorized and not worth a blind retry.
    void accessDeniedOnAnotherUsersBucket()
    {
        if (!m_isRgw)
            QSKIP("s3rver has a single user; this runs against the RADOS Gateway "
                  "(PSA_S3_BACKEND=rgw)");
        auto storage = makeStorage();
        storage->setBucket(RgwProcess::otherBucket());
        QBuffer source;
        source.setData("not mine");
        source.open(QIODevice::ReadOnly);
        const QAttachment attachment(QStringLiteral("o"), QStringLiteral("intruder.txt"));
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        QAttachmentError error = waitFor(up.get());
        QCOMPARE(error.code(), QAttachmentError::Unauthorized);
        QCOMPARE(error.httpStatus(), 403);
        QVERIFY(!error.isRetryable());
        QVERIFY2(error.message().contains(QStringLiteral("AccessDenied")),
                 qPrintable(error.message()));

        // The bucket is there, and its owner may write to it.
        auto owner = makeStorage();
        owner->setBucket(RgwProcess::otherBucket());
        owner->setAccessKeyId(RgwProcess::otherAccessKeyId());
        owner->setSecretAccessKey(RgwProcess::otherSecretAccessKey());
        source.seek(0);
        up.reset(owner->upload(attachment, &source));
        error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));

        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &sink));
        error = waitFor(down.get());
        QCOMPARE(error.code(), QAttachmentError::Unauthorized);
        QVERIFY2(error.message().contains(QStringLiteral("AccessDenied")),
                 qPrintable(error.message()));
        QCOMPARE(sink.size(), 0);
    }

    // Temporary credentials from the gateway's Secure Token Service
    // (GetSessionToken): requests carry the session token, and a token that
    // does not match is refused.
    void sessionTokenFromTheTokenService()
    {
        if (!m_isRgw)
            QSKIP("s3rver does not check session tokens; this runs against the RADOS Gateway "
                  "(PSA_S3_BACKEND=rgw)");
        const QS3Signer sts(accessKeyId().toUtf8(), secretAccessKey().toUtf8(), "us-east-1", "sts");
        const QByteArray form = "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900";
        QUrl stsUrl = m_rgw->stsEndpoint();
        stsUrl.setPath(QStringLiteral("/"));
        const HttpAnswer answer
            = signedFetch(stsUrl, "POST", sts, form, "application/x-www-form-urlencoded");
        QVERIFY2(answer.status == 200, answer.body.constData());
        const QString key = xmlTexts(answer.body, QStringLiteral("AccessKeyId")).value(0);
        const QString secret = xmlTexts(answer.body, QStringLiteral("SecretAccessKey")).value(0);
        const QString token = xmlTexts(answer.body, QStringLiteral("SessionToken")).value(0);
        const QDateTime expires = QDateTime::fromString(
            xmlTexts(answer.body, QStringLiteral("Expiration")).value(0), Qt::ISODateWithMs);
        QVERIFY(!key.isEmpty() && !secret.isEmpty() && !token.isEmpty());
        QVERIFY(key != accessKeyId());
        QVERIFY(expires.isValid());

        auto storage = makeProvidedStorage();
        storage->setEndpoint(m_rgw->stsEndpoint());
        int calls = 0;
        storage->setCredentialsProvider([&](QS3RemoteStorage::CredentialsCallback done) {
            ++calls;
            const QS3Credentials credentials(key, secret, token, expires);
            QTimer::singleShot(0, storage.get(), [done, credentials] { done(credentials, {}); });
        });
        const QAttachment attachment(QStringLiteral("t"), QStringLiteral("session.txt"));
        QBuffer source;
        source.setData("with a session token");
        source.open(QIODevice::ReadOnly);
        std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
        QAttachmentError error = waitFor(up.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &sink));
        error = waitFor(down.get());
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(sink.data(), QByteArray("with a session token"));
        QCOMPARE(calls, 1);
        // Presigned with the temporary credentials, the token in the query.
        const QUrl presigned
            = storage->presignedUrl(QStringLiteral("attachments/session.txt"), "GET", 300);
        QVERIFY(presigned.query().contains(QStringLiteral("X-Amz-Security-Token")));
        QCOMPARE(fetch(presigned).body, QByteArray("with a session token"));

        // The temporary key without its token, or with another one, is refused.
        const QStringList wrongTokens
            = {QString(), token.left(token.size() - 8) + QStringLiteral("AAAAAAA=")};
        for (const QString &wrong : wrongTokens) {
            auto plain = makeStorage();
            plain->setEndpoint(m_rgw->stsEndpoint());
            plain->setCredentials(QS3Credentials(key, secret, wrong, expires));
            QBuffer again;
            again.open(QIODevice::ReadWrite);
            std::unique_ptr<QAttachmentTransfer> refused(plain->download(attachment, &again));
            error = waitFor(refused.get());
            QCOMPARE(error.code(), QAttachmentError::Unauthorized);
            QCOMPARE(again.size(), 0);
        }
    }

    // 256 MiB up through a multipart upload and back, streamed: this
    // process's peak resident memory grows by far less than the file.
    void multipart256MiBWithBoundedMemory()
    {
        if (!m_isRgw)
            QSKIP("256 MiB runs against the RADOS Gateway (PSA_S3_BACKEND=rgw); s3rver covers "
                  "100 MiB in multipartUpload100MiB");
        const qint64 size = 256 * 1024 * 1024;
        const qint64 allowedGrowth = 64 * 1024 * 1024;
        const QString sourcePath = m_dir->path() + QStringLiteral("/large.bin");
        QCryptographicHash expected(QCryptographicHash::Sha256);
        {
            QFile file(sourcePath);
            QVERIFY(file.open(QIODevice::WriteOnly));
            const qint64 chunk = 4 * 1024 * 1024;
            quint32 seed = 31;
            for (qint64 done = 0; done < size; done += chunk) {
                const QByteArray bytes = TestSupport::randomBytes(chunk, seed++);
                expected.addData(bytes);
                QCOMPARE(file.write(bytes), chunk);
            }
        }
        const QByteArray expectedHash = expected.result().toHex();
        const bool reset = TestSupport::resetPeakRss();
        const qint64 base = reset ? TestSupport::currentRss() : TestSupport::peakRss();

        auto storage = makeStorage();
        RecordingManager manager;
        storage->setNetworkAccessManager(&manager);
        const QAttachment attachment(QStringLiteral("l"), QStringLiteral("large.bin"));
        {
            QFile source(sourcePath);
            QVERIFY(source.open(QIODevice::ReadOnly));
            std::unique_ptr<QAttachmentTransfer> up(storage->upload(attachment, &source));
            const QAttachmentError error = waitFor(up.get(), 280000);
            QVERIFY2(!error.isError(), qPrintable(error.message()));
        }
        QCOMPARE(manager.requests.filter(QStringLiteral("PUT partNumber=")).size(), 16);
        const QString backPath = m_dir->path() + QStringLiteral("/large-back.bin");
        {
            QFile back(backPath);
            QVERIFY(back.open(QIODevice::ReadWrite));
            std::unique_ptr<QAttachmentTransfer> down(storage->download(attachment, &back));
            const QAttachmentError error = waitFor(down.get(), 280000);
            QVERIFY2(!error.isError(), qPrintable(error.message()));
            QCOMPARE(back.pos(), size);
        }
        const qint64 growth = TestSupport::peakRss() - base;
        qInfo("peak resident memory grew by %lld KiB (reset: %d)", qlonglong(growth / 1024),
              int(reset));
        QVERIFY2(growth < allowedGrowth, qPrintable(QString::number(growth)));
        QCOMPARE(fileSha256(backPath), expectedHash);

        std::unique_ptr<QAttachmentTransfer> del(storage->remove(attachment));
        QVERIFY(!waitFor(del.get()).isError()); // the in-memory object store gets its RAM back
    }
};

QTEST_GUILESS_MAIN(tst_S3)
#include "tst_s3.moc"
