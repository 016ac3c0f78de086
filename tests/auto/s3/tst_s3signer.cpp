#include "qs3credentials.h"
#include "qs3remotestorage_p.h"
#include "qs3signer_p.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qtemporaryfile.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtTest/qtest.h>

// Expected values are the published AWS Signature Version 4 test-suite
// vectors (service "service") and the worked S3 examples of the S3 API
// reference (examplebucket, 2013-05-24).
class tst_S3Signer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void uriEncode();
    void suiteVectors_data();
    void suiteVectors();
    void suiteCanonicalRequest();
    void signingKeyDerivation();
    void pathEncodingModes();
    void headerCanonicalization();
    void s3GetObjectWithRange();
    void s3PutObject();
    void s3QueryParameters();
    void s3PresignedUrl();
    void sessionTokenIsSigned();
    void signNetworkRequest();
    void streamingPayloadHash();
    void hostHeader();
    void errorMapping_data();
    void errorMapping();
    void credentialsExpiry();

private:
    static QDateTime suiteTime() { return QDateTime(QDate(2015, 8, 30), QTime(12, 36), Qt::UTC); }
    static QDateTime s3Time() { return QDateTime(QDate(2013, 5, 24), QTime(0, 0), Qt::UTC); }
    static QS3Signer suiteSigner()
    {
        QS3Signer signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
                         "service");
        signer.setPathEncoding(QS3Signer::DoublePathEncoding);
        return signer;
    }
    static QS3Signer s3Signer(const QByteArray &token = {})
    {
        return QS3Signer("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                         "us-east-1", "s3", token);
    }
};

void tst_S3Signer::uriEncode()
{
    QCOMPARE(QS3Signer::uriEncode("AZaz09-_.~"), QByteArray("AZaz09-_.~"));
    QCOMPARE(QS3Signer::uriEncode("a b+c=d&e/f"), QByteArray("a%20b%2Bc%3Dd%26e%2Ff"));
    QCOMPARE(QS3Signer::uriEncode("a b/c", false), QByteArray("a%20b/c"));
    QCOMPARE(QS3Signer::uriEncode(QStringLiteral("ሴ").toUtf8()), QByteArray("%E1%88%B4"));
    QCOMPARE(QS3Signer::uriEncode("$"), QByteArray("%24"));
}

void tst_S3Signer::suiteVectors_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("dateHeaderName");
    QTest::addColumn<QByteArray>("signature");

    QTest::newRow("get-vanilla")
        << QByteArray("GET") << QByteArray("/") << QByteArray("X-Amz-Date")
        << QByteArray("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    QTest::newRow("post-vanilla")
        << QByteArray("POST") << QByteArray("/") << QByteArray("X-Amz-Date")
        << QByteArray("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    QTest::newRow("get-utf8")
        << QByteArray("GET") << QStringLiteral("/ሴ").toUtf8() << QByteArray("X-Amz-Date")
        << QByteArray("8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
    QTest::newRow("get-space")
        << QByteArray("GET") << QByteArray("/example space/") << QByteArray("X-Amz-Date")
        << QByteArray("652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
    // The header name's case must not matter.
    QTest::newRow("post-header-key-case")
        << QByteArray("POST") << QByteArray("/") << QByteArray("X-AMZ-DATE")
        << QByteArray("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

void tst_S3Signer::suiteVectors()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, dateHeaderName);
    QFETCH(QByteArray, signature);

    QS3Signer::Request request;
    request.method = method;
    request.path = path;
    request.headers = {{"Host", "example.amazonaws.com"}, {dateHeaderName, "20150830T123600Z"}};
    request.payloadHash = QS3Signer::emptyPayloadHash();

    const QS3Signer signer = suiteSigner();
    QCOMPARE(signer.signature(request, suiteTime()), signature);
    QCOMPARE(signer.authorization(request, suiteTime()),
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature="
                 + signature);
}

void tst_S3Signer::suiteCanonicalRequest()
{
    QS3Signer::Request request;
    request.method = "GET";
    request.path = "/example space/";
    request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    request.payloadHash = QS3Signer::emptyPayloadHash();
    const QS3Signer signer = suiteSigner();
    const QByteArray canonical = signer.canonicalRequest(request);
    QCOMPARE(canonical,
             QByteArray("GET\n/example%20space/\n\nhost:example.amazonaws.com\n"
                        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(signer.stringToSign(canonical, suiteTime()),
             QByteArray("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
                        "aws4_request\n"
                        "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"));

    request.method = "POST";
    request.path = "/";
    QCOMPARE(QS3Signer::sha256Hex(signer.canonicalRequest(request)),
             QByteArray("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"));
}

void tst_S3Signer::signingKeyDerivation()
{
    // The key-derivation example of the AWS general reference (service iam).
    const QS3Signer signer("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
                           "iam");
    QCOMPARE(signer.signingKey(QDate(2015, 8, 30)).toHex(),
             QByteArray("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"));
}

void tst_S3Signer::pathEncodingModes()
{
    QS3Signer signer = s3Signer();
    // S3: the request line's encoding is undone first, so both forms sign alike
    // and nothing is encoded twice.
    QCOMPARE(signer.canonicalUri("/bucket/a%20b/%E1%88%B4"), QByteArray("/bucket/a%20b/%E1%88%B4"));
    QCOMPARE(signer.canonicalUri(QStringLiteral("/bucket/a b/ሴ").toUtf8()),
             QByteArray("/bucket/a%20b/%E1%88%B4"));
    QCOMPARE(signer.canonicalUri("/test$file.text"), QByteArray("/test%24file.text"));
    QCOMPARE(signer.canonicalUri(""), QByteArray("/"));
    // Other services encode what was sent again.
    signer.setPathEncoding(QS3Signer::DoublePathEncoding);
    QCOMPARE(signer.canonicalUri("/a%20b"), QByteArray("/a%2520b"));
    QCOMPARE(signer.canonicalUri("/a b"), QByteArray("/a%20b"));
}

void tst_S3Signer::headerCanonicalization()
{
    QS3Signer::Request request;
    request.method = "GET";
    request.path = "/";
    request.headers = {{"My-Header1", "  value1  "},
                       {"Host", "example.amazonaws.com"},
                       {"My-Header2", "\"a   b   c\""},
                       {"my-header1", "value2"}};
    request.payloadHash = QS3Signer::unsignedPayload();
    const QByteArray canonical = s3Signer().canonicalRequest(request);
    QVERIFY2(canonical.contains("\nhost:example.amazonaws.com\nmy-header1:value1,value2\n"
                                "my-header2:\"a b c\"\n\nhost;my-header1;my-header2\n"
                                "UNSIGNED-PAYLOAD"),
             canonical.constData());
}

void tst_S3Signer::s3GetObjectWithRange()
{
    QS3Signer::Request request;
    request.method = "GET";
    request.path = "/test.txt";
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Range", "bytes=0-9"},
                       {"x-amz-content-sha256", QS3Signer::emptyPayloadHash()},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payloadHash = QS3Signer::emptyPayloadHash();
    const QS3Signer signer = s3Signer();
    QCOMPARE(QS3Signer::sha256Hex(signer.canonicalRequest(request)),
             QByteArray("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"));
    QCOMPARE(
        signer.authorization(request, s3Time()),
        QByteArray("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                   "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                   "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

void tst_S3Signer::s3PutObject()
{
    const QByteArray body = "Welcome to Amazon S3.";
    const QByteArray hash = QS3Signer::sha256Hex(body);
    QCOMPARE(hash, QByteArray("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"));
    QS3Signer::Request request;
    request.method = "PUT";
    request.path = "/test$file.text";
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                       {"x-amz-content-sha256", hash},
                       {"x-amz-date", "20130524T000000Z"},
                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    request.payloadHash = hash;
    const QS3Signer signer = s3Signer();
    QCOMPARE(signer.stringToSign(signer.canonicalRequest(request), s3Time()),
             QByteArray("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
    QCOMPARE(signer.signature(request, s3Time()),
             QByteArray("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
}

void tst_S3Signer::s3QueryParameters()
{
    QS3Signer::Request request;
    request.method = "GET";
    request.path = "/";
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"x-amz-content-sha256", QS3Signer::emptyPayloadHash()},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payloadHash = QS3Signer::emptyPayloadHash();
    const QS3Signer signer = s3Signer();

    // A parameter without a value is signed as "name=".
    request.query = QS3Signer::parseQuery("lifecycle");
    QCOMPARE(QS3Signer::canonicalQuery(request.query), QByteArray("lifecycle="));
    QCOMPARE(signer.signature(request, s3Time()),
             QByteArray("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));

    // Parameters are sorted by name.
    request.query = QS3Signer::parseQuery("max-keys=2&prefix=J");
    QCOMPARE(QS3Signer::canonicalQuery(request.query), QByteArray("max-keys=2&prefix=J"));
    request.query = QS3Signer::parseQuery("prefix=J&max-keys=2");
    QCOMPARE(QS3Signer::canonicalQuery(request.query), QByteArray("max-keys=2&prefix=J"));
    QCOMPARE(signer.signature(request, s3Time()),
             QByteArray("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));

    // Values are decoded, then encoded the AWS way.
    QCOMPARE(QS3Signer::canonicalQuery(QS3Signer::parseQuery("b=a%2Fb+c&a=%7e")),
             QByteArray("a=~&b=a%2Fb%2Bc"));
}

void tst_S3Signer::s3PresignedUrl()
{
    const QUrl url = s3Signer().presign(QUrl("https://examplebucket.s3.amazonaws.com/test.txt"),
                                        "GET", 86400, s3Time());
    QCOMPARE(url.toString(QUrl::FullyEncoded),
             QStringLiteral(
                 "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                 "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                 "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                 "&X-Amz-Signature="
                 "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"));
}

void tst_S3Signer::sessionTokenIsSigned()
{
    const QUrl base("https://examplebucket.s3.amazonaws.com/test.txt");
    const QUrl withToken = s3Signer("TOKEN/+=").presign(base, "GET", 60, s3Time());
    QVERIFY(withToken.query(QUrl::FullyEncoded).contains("X-Amz-Security-Token=TOKEN%2F%2B%3D"));
    QVERIFY(withToken != s3Signer().presign(base, "GET", 60, s3Time()));

    QNetworkRequest request(base);
    s3Signer("TOKEN").sign(request, "GET", QS3Signer::unsignedPayload(), s3Time());
    QCOMPARE(request.rawHeader("x-amz-security-token"), QByteArray("TOKEN"));
    QVERIFY(
        request.rawHeader("Authorization")
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"));
}

void tst_S3Signer::signNetworkRequest()
{
    // sign() must produce what the S3 example expects when given the same inputs.
    QNetworkRequest request(QUrl("https://examplebucket.s3.amazonaws.com/test.txt"));
    request.setRawHeader("Range", "bytes=0-9");
    s3Signer().sign(request, "GET", QS3Signer::emptyPayloadHash(), s3Time(), {"range"});
    QCOMPARE(request.rawHeader("Host"), QByteArray("examplebucket.s3.amazonaws.com"));
    QCOMPARE(request.rawHeader("x-amz-date"), QByteArray("20130524T000000Z"));
    QCOMPARE(request.rawHeader("x-amz-content-sha256"), QS3Signer::emptyPayloadHash());
    QVERIFY(request.rawHeader("Authorization")
                .endsWith(
                    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
}

void tst_S3Signer::streamingPayloadHash()
{
    const QByteArray data = QByteArray(3 * 1024 * 1024 + 17, 'x') + "tail";
    QTemporaryFile file;
    QVERIFY(file.open());
    QCOMPARE(file.write(data), qint64(data.size()));
    QCOMPARE(QS3Signer::sha256Hex(&file), QS3Signer::sha256Hex(data));
    QCOMPARE(QS3Signer::sha256Hex(&file, 1000, 2 * 1024 * 1024),
             QS3Signer::sha256Hex(data.mid(1000, 2 * 1024 * 1024)));
    // Asking for more than there is fails instead of signing a short body.
    QVERIFY(QS3Signer::sha256Hex(&file, data.size() - 10, 20).isEmpty());

    QBuffer empty;
    empty.open(QIODevice::ReadOnly);
    QCOMPARE(QS3Signer::sha256Hex(&empty), QS3Signer::emptyPayloadHash());
}

void tst_S3Signer::hostHeader()
{
    QCOMPARE(QS3Signer::hostHeader(QUrl("http://127.0.0.1:4569/b/k")),
             QByteArray("127.0.0.1:4569"));
    QCOMPARE(QS3Signer::hostHeader(QUrl("https://s3.amazonaws.com:443/")),
             QByteArray("s3.amazonaws.com"));
    QCOMPARE(QS3Signer::hostHeader(QUrl("http://example.com/")), QByteArray("example.com"));
    QCOMPARE(QS3Signer::hostHeader(QUrl("http://[::1]:9000/")), QByteArray("[::1]:9000"));
}

void tst_S3Signer::errorMapping_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<int>("expected");
    QTest::addColumn<bool>("retryable");

    QTest::newRow("SlowDown") << 503 << QByteArray("SlowDown") << int(QAttachmentError::RateLimited)
                              << true;
    QTest::newRow("503 without a document")
        << 503 << QByteArray() << int(QAttachmentError::RateLimited) << true;
    QTest::newRow("AccessDenied") << 403 << QByteArray("AccessDenied")
                                  << int(QAttachmentError::Unauthorized) << false;
    QTest::newRow("SignatureDoesNotMatch") << 403 << QByteArray("SignatureDoesNotMatch")
                                           << int(QAttachmentError::Unauthorized) << false;
    QTest::newRow("InvalidAccessKeyId")
        << 403 << QByteArray("InvalidAccessKeyId") << int(QAttachmentError::Unauthorized) << false;
    QTest::newRow("ExpiredToken (400)")
        << 400 << QByteArray("ExpiredToken") << int(QAttachmentError::Unauthorized) << false;
    QTest::newRow("NoSuchKey") << 404 << QByteArray("NoSuchKey") << int(QAttachmentError::NotFound)
                               << false;
    QTest::newRow("NoSuchUpload") << 404 << QByteArray("NoSuchUpload")
                                  << int(QAttachmentError::ServerError) << true;
    QTest::newRow("NoSuchBucket") << 404 << QByteArray("NoSuchBucket")
                                  << int(QAttachmentError::ClientError) << false;
    QTest::newRow("InternalError")
        << 500 << QByteArray("InternalError") << int(QAttachmentError::ServerError) << true;
    QTest::newRow("RequestTimeout")
        << 400 << QByteArray("RequestTimeout") << int(QAttachmentError::Timeout) << true;
    QTest::newRow("EntityTooLarge")
        << 400 << QByteArray("EntityTooLarge") << int(QAttachmentError::ClientError) << false;
    QTest::newRow("error inside a 200 answer")
        << 200 << QByteArray("InternalError") << int(QAttachmentError::ServerError) << true;
}

void tst_S3Signer::errorMapping()
{
    QFETCH(int, status);
    QFETCH(QByteArray, code);
    QFETCH(int, expected);
    QFETCH(bool, retryable);

    QByteArray body;
    if (!code.isEmpty()) {
        body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code
            + "</Code><Message>Something &amp; more</Message><RequestId>1</RequestId></Error>";
    }
    // A presigned request's query holds its signature: the text names the host only.
    const QUrl url(QStringLiteral("https://bucket.s3.example.com:8443/photos/k?uploadId=u-7"
                                  "&X-Amz-Signature=5ecre7"));
    const QAttachmentError error = qS3Error(status, body, QStringLiteral("\"k\""), url);
    QVERIFY2(error.message().contains(QStringLiteral(" from bucket.s3.example.com:8443 ")),
             qPrintable(error.message()));
    QVERIFY2(!error.message().contains(QStringLiteral("5ecre7")), qPrintable(error.message()));
    QVERIFY2(!error.message().contains(QStringLiteral("u-7")), qPrintable(error.message()));
    QVERIFY2(!error.message().contains(QStringLiteral("/photos")), qPrintable(error.message()));
    QCOMPARE(int(error.code()), expected);
    QCOMPARE(error.isRetryable(), retryable);
    QCOMPARE(error.httpStatus(), status);
    QVERIFY(error.message().contains(QStringLiteral("\"k\"")));
    if (!code.isEmpty()) {
        QVERIFY2(error.message().contains(QString::fromLatin1(code)), qPrintable(error.message()));
        QVERIFY2(error.message().contains(QStringLiteral("Something & more")),
                 qPrintable(error.message()));
    }
}

void tst_S3Signer::credentialsExpiry()
{
    QS3Credentials none;
    QVERIFY(!none.isValid());
    QS3Credentials permanent(QStringLiteral("id"), QStringLiteral("secret"));
    QVERIFY(permanent.isValid());
    QVERIFY(!permanent.isExpired(1000000));
    QS3Credentials soon(QStringLiteral("id"), QStringLiteral("secret"), QStringLiteral("token"),
                        QDateTime::currentDateTimeUtc().addSecs(60));
    QVERIFY(!soon.isExpired());
    QVERIFY(soon.isExpired(120));
    QVERIFY(soon != permanent);
}

QTEST_GUILESS_MAIN(tst_S3Signer)
#include "tst_s3signer.moc"
