// Hostile input on the wire, checked on the bytes that reach a server on
// 127.0.0.1: no header value or name can add lines to a request, no header
// set by the app follows a redirect to another origin, no path template
// field makes a dot segment, no log line or error message shows a signature
// or token, transport errors name their cause and host, and Retry-After
// values of any size are read without overflowing.

#include <faultserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <qhttptransfer_p.h>
#include <qpresignedremotestorage.h>
#include <qs3remotestorage.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qlocale.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qmutex.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using Kind = QAttachmentTransfer::Kind;
using Fault = FaultServer::Fault;
using Code = QAttachmentError::Code;

namespace {

QAttachment attachmentNamed(const QString &id, const QString &filename,
                            const QString &mediaType = {})
{
    QAttachment attachment(id, filename);
    attachment.setMediaType(mediaType);
    return attachment;
}

// Runs a transfer to its end and hands back its error.
QAttachmentError finish(QAttachmentTransfer *raw)
{
    std::unique_ptr<QAttachmentTransfer> transfer(raw);
    if (!transfer->isFinished()) {
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        if (!finished.wait(10000))
            qWarning("the transfer did not finish");
    }
    return transfer->error();
}

// Collects every message of every category while alive.
class LogCapture
{
public:
    LogCapture()
    {
        s_self = this;
        m_previous = qInstallMessageHandler(&LogCapture::handler);
        QLoggingCategory::setFilterRules(QStringLiteral("powersync.attachments.*=true"));
    }
    ~LogCapture()
    {
        QLoggingCategory::setFilterRules(QString());
        qInstallMessageHandler(m_previous);
        s_self = nullptr;
    }
    QString text() const
    {
        QMutexLocker lock(&m_mutex);
        return m_lines.join(QLatin1Char('\n'));
    }
    int count(const QString &category) const
    {
        QMutexLocker lock(&m_mutex);
        return int(m_categories.count(category));
    }

private:
    static void handler(QtMsgType, const QMessageLogContext &context, const QString &message)
    {
        if (!s_self)
            return;
        QMutexLocker lock(&s_self->m_mutex);
        s_self->m_lines.append(message);
        s_self->m_categories.append(QString::fromLatin1(context.category));
    }

    static inline LogCapture *s_self = nullptr;
    QtMessageHandler m_previous = nullptr;
    mutable QMutex m_mutex;
    QStringList m_lines;
    QStringList m_categories;
};

enum class Source {
    HttpMediaType,
    HttpStaticHeaderValue,
    HttpStaticHeaderName,
    HttpBearerToken,
    HttpUploadMethod,
    PresignedHeaderValue,
    PresignedHeaderName,
    PresignedMethod,
    S3MediaType,
    S3SessionToken,
    S3AccessKeyId,
};

const QByteArray Smuggled = "\r\nContent-Length: 0\r\n\r\nDELETE /victim HTTP/1.1\r\nHost: "
                            "127.0.0.1\r\nX-Tail: ";

} // namespace

Q_DECLARE_METATYPE(Source)

class tst_HttpHostile : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<FaultServer> m_server;

    // One operation of `source`'s storage with `hostile` put where `source`
    // says; `hostile` empty: the same operation with clean values.
    QAttachmentError run(Source source, const QString &hostile)
    {
        const bool clean = hostile.isEmpty();
        QBuffer body;
        body.setData("payload");
        body.open(QIODevice::ReadOnly);
        QBuffer sink;
        sink.open(QIODevice::ReadWrite);
        m_server->objects().insert(QStringLiteral("/obj.bin"), "stored");
        m_server->objects().insert(QStringLiteral("/bucket/obj.bin"), "stored");
        const QAttachment plain = attachmentNamed(QStringLiteral("a1"), QStringLiteral("obj.bin"),
                                                  QStringLiteral("text/plain"));
        switch (source) {
        case Source::HttpMediaType:
        case Source::HttpStaticHeaderValue:
        case Source::HttpStaticHeaderName:
        case Source::HttpBearerToken:
        case Source::HttpUploadMethod: {
            QHttpRemoteStorage storage;
            storage.setBaseUrl(m_server->url());
            storage.setTransferTimeout(5000);
            QAttachment attachment = plain;
            if (source == Source::HttpMediaType && !clean)
                attachment.setMediaType(hostile);
            if (source == Source::HttpStaticHeaderValue)
                storage.setHeaders(
                    {{QStringLiteral("X-Tenant"), clean ? QStringLiteral("acme") : hostile}});
            if (source == Source::HttpStaticHeaderName)
                storage.setHeaders(
                    {{clean ? QStringLiteral("X-Tenant") : hostile, QStringLiteral("acme")}});
            if (source == Source::HttpBearerToken) {
                const QString token = clean ? QStringLiteral("token") : hostile;
                storage.setTokenProvider(
                    [token](bool, QHttpRemoteStorage::TokenCallback done) { done(token, {}); });
            }
            if (source == Source::HttpUploadMethod && !clean)
                storage.setUploadMethod(hostile);
            if (source == Source::HttpStaticHeaderValue || source == Source::HttpStaticHeaderName)
                return finish(storage.download(attachment, &sink));
            return finish(storage.upload(attachment, &body));
        }
        case Source::PresignedHeaderValue:
        case Source::PresignedHeaderName:
        case Source::PresignedMethod: {
            QPresignedRemoteStorage storage;
            const QUrl url = m_server->url().resolved(QUrl(QStringLiteral("obj.bin")));
            storage.setResolver(
                [&](const QAttachment &, Kind, QPresignedRemoteStorage::ResolverCallback done) {
                    QVariantMap headers;
                    QString method;
                    if (source == Source::PresignedHeaderValue)
                        headers.insert(QStringLiteral("x-amz-meta-origin"),
                                       clean ? QStringLiteral("app") : hostile);
                    if (source == Source::PresignedHeaderName)
                        headers.insert(clean ? QStringLiteral("x-amz-meta-origin") : hostile,
                                       QStringLiteral("app"));
                    if (source == Source::PresignedMethod && !clean)
                        method = hostile;
                    done(QPresignedRequest(url, method, headers), {});
                });
            return finish(storage.upload(plain, &body));
        }
        case Source::S3MediaType:
        case Source::S3SessionToken:
        case Source::S3AccessKeyId: {
            QS3RemoteStorage storage;
            storage.setEndpoint(m_server->url());
            storage.setBucket(QStringLiteral("bucket"));
            storage.setTransferTimeout(5000);
            storage.setAccessKeyId(source == Source::S3AccessKeyId && !clean
                                       ? hostile
                                       : QStringLiteral("AKIDEXAMPLE"));
            storage.setSecretAccessKey(QStringLiteral("secret"));
            if (source == Source::S3SessionToken)
                storage.setSessionToken(clean ? QStringLiteral("session") : hostile);
            QAttachment attachment = plain;
            if (source == Source::S3MediaType && !clean)
                attachment.setMediaType(hostile);
            return finish(storage.upload(attachment, &body));
        }
        }
        return {};
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FaultServer>();
        QVERIFY(m_server->listen());
    }
    void cleanup() { m_server.reset(); }

    // --- no header can add lines to a request ----------------------------------

    void headersCannotSmuggleRequests_data()
    {
        QTest::addColumn<Source>("source");
        QTest::addColumn<QString>("hostile");
        const QString crlf = QString::fromLatin1("text/plain" + Smuggled + "x");
        const QString lf = QString::fromLatin1("v\nDELETE /victim HTTP/1.1\nX-Tail: x");
        QTest::newRow("media type, CRLF") << Source::HttpMediaType << crlf;
        QTest::newRow("media type, LF") << Source::HttpMediaType << lf;
        QTest::newRow("media type, NUL")
            << Source::HttpMediaType << QStringLiteral("text/plain\0x");
        QTest::newRow("media type, not a MIME type")
            << Source::HttpMediaType << QStringLiteral("plain text");
        QTest::newRow("static header value, CRLF")
            << Source::HttpStaticHeaderValue << QString::fromLatin1("acme" + Smuggled + "x");
        QTest::newRow("static header value, LF") << Source::HttpStaticHeaderValue << lf;
        QTest::newRow("static header value, NUL")
            << Source::HttpStaticHeaderValue << QString(QStringLiteral("a") + QChar(0) + u'b');
        QTest::newRow("static header value, CR")
            << Source::HttpStaticHeaderValue << QStringLiteral("a\rDELETE /victim HTTP/1.1");
        QTest::newRow("static header value, 0x01") << Source::HttpStaticHeaderValue
                                                   << QStringLiteral("a\x01"
                                                                     "b");
        QTest::newRow("static header value, DEL") << Source::HttpStaticHeaderValue
                                                  << QStringLiteral("a\x7f"
                                                                    "b");
        QTest::newRow("static header name, CRLF")
            << Source::HttpStaticHeaderName
            << QStringLiteral("X-A: b\r\n\r\nDELETE /victim HTTP/1.1\r\nX-B");
        QTest::newRow("static header name, colon")
            << Source::HttpStaticHeaderName << QStringLiteral("Host: victim.example");
        QTest::newRow("static header name, space")
            << Source::HttpStaticHeaderName << QStringLiteral("X Tenant");
        QTest::newRow("bearer token, CRLF")
            << Source::HttpBearerToken << QString::fromLatin1("tok" + Smuggled + "x");
        QTest::newRow("upload method, request line")
            << Source::HttpUploadMethod
            << QStringLiteral("DELETE /victim HTTP/1.1\r\nHost: x\r\n\r\nPUT");
        QTest::newRow("presigned header value, CRLF")
            << Source::PresignedHeaderValue << QString::fromLatin1("app" + Smuggled + "x");
        QTest::newRow("presigned header name, CRLF")
            << Source::PresignedHeaderName << QStringLiteral("x-a\r\nDELETE /victim HTTP/1.1");
        QTest::newRow("presigned method, request line")
            << Source::PresignedMethod
            << QStringLiteral("DELETE /victim HTTP/1.1\r\nHost: x\r\n\r\nPUT");
        QTest::newRow("S3 media type, CRLF") << Source::S3MediaType << crlf;
        QTest::newRow("S3 session token, CRLF")
            << Source::S3SessionToken << QString::fromLatin1("tok" + Smuggled + "x");
        QTest::newRow("S3 access key id, CRLF")
            << Source::S3AccessKeyId << QString::fromLatin1("AKID" + Smuggled + "x");
    }

    void headersCannotSmuggleRequests()
    {
        QFETCH(Source, source);
        QFETCH(QString, hostile);

        const QAttachmentError refused = run(source, hostile);
        QCOMPARE(refused.code(), Code::InvalidInput);
        QVERIFY(!refused.isRetryable());
        QVERIFY2(!refused.message().contains(QLatin1Char('\r'))
                     && !refused.message().contains(QLatin1Char('\n')),
                 qPrintable(refused.message()));
        // Nothing of it went out: no request, no smuggled line.
        QVERIFY2(!m_server->received().contains("victim"), m_server->received().constData());
        QCOMPARE(m_server->requests().size(), 0);

        // The same operation with clean values is exactly one request.
        const QAttachmentError accepted = run(source, QString());
        QVERIFY2(!accepted.isError(), qPrintable(accepted.message()));
        QCOMPARE(m_server->requests().size(), 1);
        QVERIFY(!m_server->received().contains("victim"));
    }

    // A refused header is an error for the app to fix, not one to retry: the
    // queue reports it once and does not send anything.
    void refusedHeaderIsNotRetriedInALoop()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString connection = TestSupport::openDatabase(dir.path());
        {
            QHttpRemoteStorage remote;
            remote.setBaseUrl(m_server->url());
            remote.setHeaders(
                {{QStringLiteral("X-Tenant"), QString::fromLatin1("acme" + Smuggled + "x")}});
            QAttachmentQueue queue;
            queue.setConnectionName(connection);
            queue.setLocalDirectory(dir.path() + QStringLiteral("/files"));
            queue.setRemoteStorage(&remote);
            queue.setSyncInterval(0);
            queue.setRetryDelay(10);
            queue.setMaxRetryDelay(60000);
            QList<std::pair<QAttachmentError, bool>> failures;
            connect(&queue, &QAttachmentQueue::transferFailed, this,
                    [&](const QString &, Kind, const QAttachmentError &error, bool retry) {
                        failures.append({error, retry});
                    });
            QVERIFY(queue.startSync());
            QString error;
            const QAttachment saved = queue.saveFile("data", QStringLiteral("text/plain"),
                                                     QStringLiteral("txt"), {}, {}, &error);
            QVERIFY2(saved.isValid(), qPrintable(error));
            PSA_WAIT(!failures.isEmpty(), 5000);
            QCOMPARE(failures.first().first.code(), Code::InvalidInput);
            // Ten retry delays later it has still been tried once.
            QSignalSpy started(&queue, &QAttachmentQueue::transferStarted);
            QVERIFY(!started.wait(100));
            QCOMPARE(failures.size(), 1);
            QCOMPARE(m_server->connectionCount(), 0);
            QVERIFY(m_server->received().isEmpty());
        }
        TestSupport::closeDatabase(connection);
    }

    // --- redirects to another origin carry no header of the app ------------------

    void crossOriginRedirectCarriesNoAppHeaders_data()
    {
        QTest::addColumn<bool>("presigned");
        QTest::newRow("QHttpRemoteStorage") << false;
        QTest::newRow("QPresignedRemoteStorage") << true;
    }

    void crossOriginRedirectCarriesNoAppHeaders()
    {
        QFETCH(bool, presigned);
        FaultServer other; // another port: another origin
        QVERIFY(other.listen());
        other.objects().insert(QStringLiteral("/elsewhere.bin"), "moved content");
        m_server->objects().insert(QStringLiteral("/here.bin"), "same origin content");
        const QByteArray elsewhere
            = other.url().resolved(QUrl(QStringLiteral("elsewhere.bin"))).toEncoded();

        QHttpRemoteStorage http;
        http.setBaseUrl(m_server->url());
        http.setHeaders({{QStringLiteral("X-Static"), QStringLiteral("static-value")}});
        http.setTokenProvider([](bool, QHttpRemoteStorage::TokenCallback done) {
            done(QStringLiteral("bearer-value"), {});
        });
        QPresignedRemoteStorage signer;
        signer.setResolver([&](const QAttachment &attachment, Kind,
                               QPresignedRemoteStorage::ResolverCallback done) {
            QUrl url = m_server->url().resolved(QUrl(attachment.filename()));
            url.setQuery(QStringLiteral("X-Amz-Signature=abc"));
            done(QPresignedRequest(
                     url, {},
                     {{QStringLiteral("x-amz-security-token"), QStringLiteral("presigned-value")},
                      {QStringLiteral("X-Static"), QStringLiteral("static-value")}}),
                 {});
        });
        QAttachmentRemoteStorage *storage = presigned
            ? static_cast<QAttachmentRemoteStorage *>(&signer)
            : static_cast<QAttachmentRemoteStorage *>(&http);

        // Same origin: the headers follow.
        m_server->addFault("GET", Fault::answer(302, {}, {{"Location", "/here.bin"}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QAttachmentError error = finish(storage->download(
            attachmentNamed(QStringLiteral("a"), QStringLiteral("start.bin")), &sink));
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(sink.data(), "same origin content");
        QCOMPARE(m_server->requests().size(), 2);
        for (const FaultServer::Request &seen : m_server->requests()) {
            QCOMPARE(seen.headers.value("x-static"), "static-value");
            if (presigned)
                QCOMPARE(seen.headers.value("x-amz-security-token"), "presigned-value");
            else
                QCOMPARE(seen.headers.value("authorization"), "Bearer bearer-value");
        }

        // Another origin: none of them.
        m_server->addFault("GET", Fault::answer(302, {}, {{"Location", elsewhere}}));
        QBuffer moved;
        QVERIFY(moved.open(QIODevice::ReadWrite));
        error = finish(storage->download(
            attachmentNamed(QStringLiteral("b"), QStringLiteral("start.bin")), &moved));
        QVERIFY2(!error.isError(), qPrintable(error.message()));
        QCOMPARE(moved.data(), "moved content");
        QCOMPARE(m_server->requests().size(), 3);
        QCOMPARE(m_server->requests().last().headers.value("x-static"), "static-value");
        QCOMPARE(other.requests().size(), 1);
        const QHash<QByteArray, QByteArray> arrived = other.requests().first().headers;
        QVERIFY2(!arrived.contains("x-static"), arrived.value("x-static").constData());
        QVERIFY(!arrived.contains("authorization"));
        QVERIFY(!arrived.contains("x-amz-security-token"));
        QVERIFY(!other.received().contains("static-value"));
        QVERIFY(!other.received().contains("bearer-value"));
        QVERIFY(!other.received().contains("presigned-value"));
    }

    // --- path templates --------------------------------------------------------

    void pathTemplateMakesNoDotSegments_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("refused");
        const QStringList fields
            = {QStringLiteral("filename"), QStringLiteral("id"), QStringLiteral("mediaType")};
        const struct
        {
            const char *value;
            bool refused;
        } values[] = {
            {".", true},           {"..", true},       {"../x", true},
            {"x/..", true},        {"a/../b", true},   {"a/./b", true},
            {"..\\x", true},       {"a\\..\\b", true}, {"", true},
            {"/x", true},          {"x/", true},       {"a//b", true},
            {"image/jpeg", false}, {"...", false},     {"..a", false},
            {"a..", false},        {"%2e%2e", false},  {"id 1/2", false},
            {".hidden", false},    {"a%2F..", false},
        };
        for (const QString &field : fields) {
            for (const auto &v : values) {
                QTest::addRow("%s \"%s\"", qPrintable(field), v.value)
                    << field << QString::fromLatin1(v.value) << v.refused;
            }
        }
    }

    void pathTemplateMakesNoDotSegments()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(bool, refused);

        QHttpRemoteStorage storage;
        storage.setBaseUrl(m_server->url().resolved(QUrl(QStringLiteral("/base/"))));
        storage.setPathTemplate(QStringLiteral("{mediaType}/{id}/{filename}"));
        QAttachment attachment = attachmentNamed(QStringLiteral("id"), QStringLiteral("name.bin"),
                                                 QStringLiteral("text/plain"));
        if (field == QLatin1String("filename"))
            attachment = attachmentNamed(attachment.id(), value, attachment.mediaType());
        else if (field == QLatin1String("id"))
            attachment = attachmentNamed(value, attachment.filename(), attachment.mediaType());
        else
            attachment.setMediaType(value);

        const QUrl url = storage.urlFor(attachment);
        if (!refused) {
            QVERIFY(url.isValid());
            // Decoded as nginx does (%2F and %5C too) before it resolves dot segments.
            const QString decoded
                = QUrl::fromPercentEncoding(url.path(QUrl::FullyEncoded).toUtf8());
            QString separators = decoded;
            separators.replace(QLatin1Char('\\'), QLatin1Char('/'));
            for (const QString &segment : separators.split(QLatin1Char('/')).mid(1)) {
                QVERIFY2(segment != QLatin1String(".") && segment != QLatin1String(".."),
                         qPrintable(url.toString()));
            }
            return;
        }
        QVERIFY2(url.isEmpty(), qPrintable(url.toString(QUrl::FullyEncoded)));
        QBuffer body;
        body.setData("x");
        QVERIFY(body.open(QIODevice::ReadOnly));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        const QAttachmentError up = finish(storage.upload(attachment, &body));
        const QAttachmentError down = finish(storage.download(attachment, &sink));
        const QAttachmentError gone = finish(storage.remove(attachment));
        for (const QAttachmentError &error : {up, down, gone}) {
            QCOMPARE(error.code(), Code::InvalidInput);
            QVERIFY2(error.message().contains(field == QLatin1String("mediaType")
                                                  ? QStringLiteral("media type")
                                                  : field),
                     qPrintable(error.message()));
        }
        QCOMPARE(m_server->connectionCount(), 0);
    }

    // --- logs and messages keep secrets --------------------------------------------

    void logsShowNoSecrets()
    {
        const QStringList secrets = {
            QStringLiteral("SIGNATURESECRET"), QStringLiteral("CREDENTIALSECRET"),
            QStringLiteral("SESSIONSECRET"),   QStringLiteral("PRESIGNEDHEADERSECRET"),
            QStringLiteral("BEARERSECRET"),    QStringLiteral("REDIRECTSECRET"),
            QStringLiteral("S3SESSIONSECRET"), QStringLiteral("S3SECRETKEY"),
            QStringLiteral("AKIDS3SECRET"),
        };
        QStringList messages;
        LogCapture capture;
        FaultServer other;
        QVERIFY(other.listen());

        // Presigned: a redirect to another signed URL, then a 403 that echoes
        // the signing details as S3 does.
        QUrl signedUrl = m_server->url().resolved(QUrl(QStringLiteral("obj.bin")));
        signedUrl.setQuery(QStringLiteral(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=CREDENTIALSECRET%2F20240101%2Fus-"
            "east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-"
            "Security-Token=SESSIONSECRET&X-Amz-SignedHeaders=host&X-Amz-Signature="
            "SIGNATURESECRET"));
        QUrl redirected = other.url().resolved(QUrl(QStringLiteral("moved.bin")));
        redirected.setQuery(QStringLiteral("X-Amz-Signature=REDIRECTSECRET&sig=REDIRECTSECRET"));
        m_server->addFault("GET", Fault::answer(302, {}, {{"Location", redirected.toEncoded()}}));
        other.addFault(
            "GET",
            Fault::answer(403,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                          "SignatureDoesNotMatch</Code><Message>The request signature we "
                          "calculated does not match</Message><AWSAccessKeyId>CREDENTIALSECRET"
                          "</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 20240101T000000Z "
                          "SIGNATURESECRET</StringToSign><SignatureProvided>REDIRECTSECRET"
                          "</SignatureProvided><CanonicalRequest>GET /moved.bin "
                          "X-Amz-Credential=CREDENTIALSECRET&amp;X-Amz-Security-Token="
                          "SESSIONSECRET&amp;X-Amz-Signature=REDIRECTSECRET</CanonicalRequest>"
                          "</Error>"));
        QPresignedRemoteStorage presigned;
        presigned.setResolver(
            [&](const QAttachment &, Kind, QPresignedRemoteStorage::ResolverCallback done) {
                done(QPresignedRequest(signedUrl, {},
                                       {{QStringLiteral("x-amz-security-token"),
                                         QStringLiteral("PRESIGNEDHEADERSECRET")}}),
                     {});
            });
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QAttachmentError error = finish(presigned.download(
            attachmentNamed(QStringLiteral("p"), QStringLiteral("obj.bin")), &sink));
        QVERIFY2(error.code() == Code::Unauthorized, qPrintable(error.message()));
        messages << error.message();

        // Presigned: the connection is reset inside the body, and refused.
        m_server->objects().insert(QStringLiteral("/obj.bin"), QByteArray(100000, 'o'));
        // Inside the body: Qt does not send it again.
        m_server->addFault("GET", Fault::of(Fault::Reset));
        QBuffer resetSink;
        QVERIFY(resetSink.open(QIODevice::ReadWrite));
        error = finish(presigned.download(
            attachmentNamed(QStringLiteral("p"), QStringLiteral("obj.bin")), &resetSink));
        QVERIFY(error.isError());
        messages << error.message();
        signedUrl.setPort(TestSupport::freePort());
        QBuffer refusedSink;
        QVERIFY(refusedSink.open(QIODevice::ReadWrite));
        error = finish(presigned.download(
            attachmentNamed(QStringLiteral("p"), QStringLiteral("obj.bin")), &refusedSink));
        QCOMPARE(error.code(), Code::NetworkError);
        messages << error.message();

        // Bearer tokens: rejected, refreshed, rejected again with an echo.
        m_server->setRequiredToken("never-this-one");
        QHttpRemoteStorage http;
        http.setBaseUrl(m_server->url());
        int asked = 0;
        http.setTokenProvider([&](bool, QHttpRemoteStorage::TokenCallback done) {
            ++asked;
            done(QStringLiteral("BEARERSECRET%1").arg(asked), {});
        });
        m_server->addFault("GET", Fault::answer(401, "Authorization: Bearer BEARERSECRET1"), 2);
        QBuffer httpSink;
        QVERIFY(httpSink.open(QIODevice::ReadWrite));
        error = finish(http.download(
            attachmentNamed(QStringLiteral("h"), QStringLiteral("obj.bin")), &httpSink));
        QCOMPARE(error.code(), Code::Unauthorized);
        QCOMPARE(asked, 2);
        messages << error.message();

        // S3 with temporary credentials.
        QS3RemoteStorage s3;
        s3.setEndpoint(m_server->url());
        s3.setBucket(QStringLiteral("bucket"));
        s3.setCredentials(QS3Credentials(QStringLiteral("AKIDS3SECRET"),
                                         QStringLiteral("S3SECRETKEY"),
                                         QStringLiteral("S3SESSIONSECRET")));
        m_server->addFault(
            "PUT",
            Fault::answer(403,
                          "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>"
                          "<AWSAccessKeyId>AKIDS3SECRET</AWSAccessKeyId><StringToSign>"
                          "S3SESSIONSECRET</StringToSign></Error>"));
        QBuffer body;
        body.setData("payload");
        QVERIFY(body.open(QIODevice::ReadOnly));
        error = finish(s3.upload(attachmentNamed(QStringLiteral("s"), QStringLiteral("obj.bin"),
                                                 QStringLiteral("text/plain")),
                                 &body));
        QCOMPARE(error.code(), Code::Unauthorized);
        messages << error.message();

        const QString logged = capture.text();
        QVERIFY2(capture.count(QStringLiteral("powersync.attachments.http")) > 0,
                 "debug logging was not on");
        QVERIFY(logged.contains(QStringLiteral("127.0.0.1")));
        for (const QString &secret : secrets) {
            QVERIFY2(!logged.contains(secret),
                     qPrintable(secret + QStringLiteral(" in:\n") + logged));
            for (const QString &message : std::as_const(messages))
                QVERIFY2(!message.contains(secret),
                         qPrintable(secret + QStringLiteral(" in: ") + message));
        }
    }

    // --- transport errors say what and where ---------------------------------------

    void transportErrorsNameCauseAndHost_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("fault");
        QTest::addColumn<QString>("cause");
        QTest::newRow("download reset") << QByteArray("GET") << int(Fault::Reset) << QString();
        QTest::newRow("download cut short")
            << QByteArray("GET") << int(Fault::Truncated) << QStringLiteral("short body");
        // The reset may come while the body is still being written (a short
        // write) or after the kernel took all of it: both are a connection
        // that ended without an answer.
        QTest::newRow("upload reset") << QByteArray("PUT") << int(Fault::Reset)
                                      << QStringLiteral("without a valid HTTP response");
    }

    void transportErrorsNameCauseAndHost()
    {
        QFETCH(QByteArray, method);
        QFETCH(int, fault);
        QFETCH(QString, cause);
        const QByteArray object = TestSupport::randomBytes(4 * 1024 * 1024, 3);
        m_server->objects().insert(QStringLiteral("/obj.bin"), object);
        // Qt itself sends a request again after some connection failures.
        m_server->addFault(method, Fault::of(Fault::Type(fault)), 4);

        QNetworkAccessManager manager;
        QHttpTransfer transfer(method == "GET" ? Kind::Download : Kind::Upload, &manager);
        QHttpTransfer::Request request;
        QUrl url = m_server->url().resolved(QUrl(QStringLiteral("obj.bin")));
        url.setQuery(QStringLiteral("X-Amz-Signature=QUERYSECRET"));
        request.request.setUrl(url);
        request.method = method;
        request.transferTimeoutMs = 10000;
        QBuffer sink;
        QBuffer body;
        body.setData(object);
        if (method == "GET") {
            QVERIFY(sink.open(QIODevice::ReadWrite));
            request.sink = &sink;
        } else {
            QVERIFY(body.open(QIODevice::ReadOnly));
            request.body = &body;
        }
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(10000));
        const QString message = transfer.error().message();
        QVERIFY(transfer.error().isError());
        QVERIFY(transfer.error().isRetryable());
        const QString host = QStringLiteral("127.0.0.1:%1").arg(m_server->url().port());
        QVERIFY2(message.contains(host), qPrintable(message));
        QVERIFY2(!message.contains(QStringLiteral("QUERYSECRET")), qPrintable(message));
        QVERIFY2(!message.contains(QLatin1Char('?')), qPrintable(message));
        if (!cause.isEmpty())
            QVERIFY2(message.contains(cause), qPrintable(message));
        // Qt's own words for what happened to the connection.
        QVERIFY2(message.contains(QStringLiteral("closed"), Qt::CaseInsensitive)
                     || message.contains(QStringLiteral("reset"), Qt::CaseInsensitive),
                 qPrintable(message));
    }

    void connectionRefusedNamesHost()
    {
        const quint16 port = TestSupport::freePort();
        QNetworkAccessManager manager;
        QHttpTransfer transfer(Kind::Download, &manager);
        QHttpTransfer::Request request;
        request.request.setUrl(
            QUrl(QStringLiteral("http://127.0.0.1:%1/x?token=QUERYSECRET").arg(port)));
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(10000));
        const QString message = transfer.error().message();
        QCOMPARE(transfer.error().code(), Code::NetworkError);
        QVERIFY2(message.contains(QStringLiteral("127.0.0.1:%1").arg(port)), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("refused"), Qt::CaseInsensitive),
                 qPrintable(message));
        QVERIFY2(!message.contains(QStringLiteral("QUERYSECRET")), qPrintable(message));
    }

    // --- Retry-After of any size ---------------------------------------------------

    void retryAfterNeverOverflows_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<qint64>("expected"); // -2: within a minute from now
        const qint64 max = qint64(0x7fffffff) * 1000;
        QTest::newRow("seconds") << QByteArray("120") << qint64(120000);
        QTest::newRow("zero") << QByteArray("0") << qint64(0);
        QTest::newRow("int64 max seconds") << QByteArray("9223372036854775807") << max;
        QTest::newRow("beyond int64") << QByteArray("99999999999999999999999") << max;
        QTest::newRow("just over the cap") << QByteArray("2147483648") << max;
        QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
        QTest::newRow("garbage") << QByteArray("soon") << qint64(-1);
        QTest::newRow("fraction") << QByteArray("1.5") << qint64(-1);
        QTest::newRow("date in the past")
            << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << qint64(0);
        QTest::newRow("date a minute ahead")
            << QLocale::c()
                   .toString(QDateTime::currentDateTimeUtc().addSecs(60),
                             QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                   .toLatin1()
            << qint64(-2);
    }

    void retryAfterNeverOverflows()
    {
        QFETCH(QByteArray, header);
        QFETCH(qint64, expected);
        m_server->addFault("GET", Fault::answer(503, "busy", {{"Retry-After", header}}));
        QNetworkAccessManager manager;
        QHttpTransfer transfer(Kind::Download, &manager);
        QHttpTransfer::Request request;
        request.request.setUrl(m_server->url().resolved(QUrl(QStringLiteral("x"))));
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(10000));
        QCOMPARE(transfer.error().httpStatus(), 503);
        const qint64 retryAfter = transfer.error().retryAfterMs();
        if (expected == -2)
            QVERIFY2(retryAfter > 0 && retryAfter <= 60000,
                     qPrintable(QString::number(retryAfter)));
        else
            QCOMPARE(retryAfter, expected);
    }

    // --- Content-Range of any size -------------------------------------------------

    void contentRangeNeverOverflows_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<bool>("resume"); // false: no range is asked for
        QTest::newRow("valid") << QByteArray("bytes 5-9/10") << QByteArray("world") << true << true;
        QTest::newRow("unknown length")
            << QByteArray("bytes 5-9/*") << QByteArray("world") << true << true;
        // last + 1 wraps to the "length" when added in 64 bits.
        QTest::newRow("wrapping length")
            << QByteArray("bytes 5-9223372036854775807/-9223372036854775808") << QByteArray("world")
            << false << true;
        QTest::newRow("int64 max length")
            << QByteArray("bytes 5-9223372036854775806/9223372036854775807") << QByteArray("world")
            << false << true;
        QTest::newRow("beyond int64")
            << QByteArray("bytes 5-99999999999999999999/*") << QByteArray("world") << false << true;
        QTest::newRow("empty range") << QByteArray("bytes 5-4/5") << QByteArray() << false << true;
        QTest::newRow("length disagrees")
            << QByteArray("bytes 5-9/10") << QByteArray("wor") << false << true;
        QTest::newRow("part without a range asked")
            << QByteArray("bytes 5-9/10") << QByteArray("world") << false << false;
        QTest::newRow("whole file as a part")
            << QByteArray("bytes 0-4/5") << QByteArray("hello") << true << false;
    }

    void contentRangeNeverOverflows()
    {
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, body);
        QFETCH(bool, accepted);
        QFETCH(bool, resume);
        m_server->addFault(
            "GET", Fault::answer(206, body, {{"Content-Range", header}, {"ETag", "\"v1\""}}));
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        if (resume) {
            sink.write("hello");
            // The version the kept bytes belong to, as a storage keeps it.
            sink.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, "\"v1\"");
        }
        QNetworkAccessManager manager;
        QHttpTransfer transfer(Kind::Download, &manager);
        QHttpTransfer::Request request;
        request.request.setUrl(m_server->url().resolved(QUrl(QStringLiteral("x"))));
        request.sink = &sink;
        request.resumeFrom = resume ? 5 : 0;
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.start(request);
        QVERIFY(finished.wait(10000));
        if (accepted) {
            QVERIFY2(!transfer.error().isError(), qPrintable(transfer.error().message()));
            QCOMPARE(sink.data(), resume ? QByteArray("helloworld") : body);
        } else {
            QCOMPARE(transfer.error().code(), Code::ProtocolError);
            QVERIFY2(transfer.error().message().contains(QStringLiteral("Content-Range")),
                     qPrintable(transfer.error().message()));
            QCOMPARE(sink.data(), resume ? QByteArray("hello") : QByteArray());
        }
    }
};

QTEST_MAIN(tst_HttpHostile)
#include "tst_httphostile.moc"
