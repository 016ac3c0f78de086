// The wire helpers on their own, table by table: header and media type
// checks, Retry-After, HTTP dates, Content-Range, status messages and the
// redaction of secrets.

#include <qattachmentnames_p.h>
#include <qhttpwire_p.h>

#include <QtCore/qtimezone.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtTest/qtest.h>

#include <limits>

using namespace QHttpWire;

class tst_HttpWire : public QObject
{
    Q_OBJECT

private:
    static QDateTime now()
    {
        return QDateTime(QDate(2024, 5, 1), QTime(12, 0, 0), QTimeZone::utc());
    }

private Q_SLOTS:
    void headerNames_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << QByteArray("X-Tenant") << true;
        QTest::newRow("all tchars") << QByteArray("!#$%&'*+-.^_`|~09azAZ") << true;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("space") << QByteArray("X Tenant") << false;
        QTest::newRow("colon") << QByteArray("Host:") << false;
        QTest::newRow("CRLF") << QByteArray("X-A\r\nX-B") << false;
        QTest::newRow("NUL") << QByteArray("X-A\0B", 5) << false;
        QTest::newRow("UTF-8") << QByteArray("X-\xc3\xa4") << false;
        QTest::newRow("quote") << QByteArray("X-\"") << false;
    }
    void headerNames()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, valid);
        const QString problem = problemWithHeaderName(name);
        QCOMPARE(problem.isEmpty(), valid);
        QVERIFY(!problem.contains(QLatin1Char('\r')) && !problem.contains(QLatin1Char('\n')));
    }

    void headerValues_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QString>("problem"); // what the message names; empty: valid
        QTest::newRow("plain") << QByteArray("acme corp") << QString();
        QTest::newRow("empty") << QByteArray() << QString();
        QTest::newRow("tab") << QByteArray("a\tb") << QString();
        QTest::newRow("UTF-8") << QByteArray("gr\xc3\xbc\xc3\x9f") << QString();
        QTest::newRow("CR") << QByteArray("a\rb") << QStringLiteral("CR");
        QTest::newRow("LF") << QByteArray("a\nb") << QStringLiteral("LF");
        QTest::newRow("CRLF") << QByteArray("a\r\nDELETE /victim HTTP/1.1") << QStringLiteral("CR");
        QTest::newRow("NUL") << QByteArray("a\0b", 3) << QStringLiteral("NUL");
        QTest::newRow("0x01") << QByteArray("a\x01") << QStringLiteral("0x01");
        QTest::newRow("0x1f") << QByteArray("a\x1f") << QStringLiteral("0x1f");
        QTest::newRow("DEL") << QByteArray("a\x7f") << QStringLiteral("0x7f");
    }
    void headerValues()
    {
        QFETCH(QByteArray, value);
        QFETCH(QString, problem);
        const QString found
            = problemWithHeaderValue("X-Secret", QByteArray("SECRETPREFIX" + value));
        QCOMPARE(found.isEmpty(), problem.isEmpty());
        QVERIFY2(found.contains(problem), qPrintable(found));
        if (!found.isEmpty())
            QVERIFY(found.contains(QStringLiteral("X-Secret")));
        // The value may be a secret and never appears.
        QVERIFY(!found.contains(QStringLiteral("SECRETPREFIX")));
    }

    void wholeRequests()
    {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1/x")));
        request.setRawHeader("X-Tenant", "acme");
        QCOMPARE(problemWithRequest(request, "PUT"), QString());
        QVERIFY(!problemWithRequest(request, "PUT /x HTTP/1.1\r\n").isEmpty());
        QVERIFY(!problemWithRequest(request, "").isEmpty());
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("text/plain\r\nX: y"));
        QVERIFY(problemWithRequest(request, "PUT").contains(QStringLiteral("Content-Type")));
    }

    void mediaTypes_data()
    {
        QTest::addColumn<QString>("mediaType");
        QTest::addColumn<bool>("valid");
        QTest::newRow("image/jpeg") << QStringLiteral("image/jpeg") << true;
        QTest::newRow("vendor") << QStringLiteral("application/vnd.ms-excel") << true;
        QTest::newRow("suffix") << QStringLiteral("application/atom+xml") << true;
        QTest::newRow("all restricted chars") << QStringLiteral("a0!#$&-^_.+/Z9!#$&-^_.+") << true;
        QTest::newRow("parameter") << QStringLiteral("text/plain; charset=utf-8") << true;
        QTest::newRow("parameters")
            << QStringLiteral("text/plain;charset=utf-8 ; format=flowed") << true;
        QTest::newRow("quoted parameter")
            << QStringLiteral("multipart/mixed; boundary=\"a b;c\\\"d\"") << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("no subtype") << QStringLiteral("image") << false;
        QTest::newRow("empty subtype") << QStringLiteral("image/") << false;
        QTest::newRow("empty type") << QStringLiteral("/jpeg") << false;
        QTest::newRow("two slashes") << QStringLiteral("image/jpeg/x") << false;
        QTest::newRow("dot segments") << QStringLiteral("../..") << false;
        QTest::newRow("dot first") << QStringLiteral("image/.jpeg") << false;
        QTest::newRow("space") << QStringLiteral("image /jpeg") << false;
        QTest::newRow("CRLF") << QStringLiteral(
            "text/plain\r\nContent-Length: 0\r\n\r\nDELETE /victim HTTP/1.1")
                              << false;
        QTest::newRow("LF") << QStringLiteral("text/plain\nX: y") << false;
        QTest::newRow("NUL") << QString(QStringLiteral("text/plain") + QChar(0)) << false;
        QTest::newRow("non-ASCII") << QStringLiteral("text/pläin") << false;
        QTest::newRow("parameter without value") << QStringLiteral("text/plain; charset") << false;
        QTest::newRow("parameter without name") << QStringLiteral("text/plain; =utf-8") << false;
        QTest::newRow("trailing semicolon") << QStringLiteral("text/plain;") << false;
        QTest::newRow("open quote") << QStringLiteral("text/plain; a=\"b") << false;
        QTest::newRow("type of 128")
            << QString(128, QLatin1Char('a')) + QStringLiteral("/b") << false;
        QTest::newRow("type of 127")
            << QString(127, QLatin1Char('a')) + QStringLiteral("/b") << true;
        QTest::newRow("longer than 255")
            << QStringLiteral("text/plain; a=") + QString(250, QLatin1Char('b')) << false;
    }
    void mediaTypes()
    {
        QFETCH(QString, mediaType);
        QFETCH(bool, valid);
        const QString problem = QAttachmentNames::problemWithMediaType(mediaType);
        QVERIFY2(problem.isEmpty() == valid, qPrintable(problem));
        QVERIFY(!problem.contains(QLatin1Char('\r')) && !problem.contains(QLatin1Char('\n')));
    }

    void retryAfter_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<qint64>("expected");
        QTest::newRow("seconds") << QByteArray("120") << qint64(120000);
        QTest::newRow("spaces") << QByteArray("  7\t") << qint64(7000);
        QTest::newRow("zero") << QByteArray("0") << qint64(0);
        QTest::newRow("leading zeros")
            << QByteArray("000000000000000000000000000001") << qint64(1000);
        QTest::newRow("cap") << QByteArray("2147483647") << MaxRetryAfterMs;
        QTest::newRow("over the cap") << QByteArray("2147483648") << MaxRetryAfterMs;
        QTest::newRow("ms would overflow") << QByteArray("9223372036854776") << MaxRetryAfterMs;
        QTest::newRow("int64 max") << QByteArray("9223372036854775807") << MaxRetryAfterMs;
        QTest::newRow("beyond int64") << QByteArray("9223372036854775808") << MaxRetryAfterMs;
        QTest::newRow("huge") << QByteArray(5000, '9') << MaxRetryAfterMs;
        QTest::newRow("empty") << QByteArray() << qint64(-1);
        QTest::newRow("negative") << QByteArray("-1") << qint64(-1);
        QTest::newRow("plus") << QByteArray("+5") << qint64(-1);
        QTest::newRow("fraction") << QByteArray("1.5") << qint64(-1);
        QTest::newRow("hex") << QByteArray("0x10") << qint64(-1);
        QTest::newRow("exponent") << QByteArray("1e9") << qint64(-1);
        QTest::newRow("inner space") << QByteArray("1 2") << qint64(-1);
        QTest::newRow("garbage") << QByteArray("soon") << qint64(-1);
        QTest::newRow("NUL") << QByteArray("5\0", 2) << qint64(-1);
        QTest::newRow("IMF date ahead")
            << QByteArray("Wed, 01 May 2024 12:01:30 GMT") << qint64(90000);
        QTest::newRow("IMF date behind")
            << QByteArray("Wed, 01 May 2024 11:00:00 GMT") << qint64(0);
        QTest::newRow("RFC 850 date")
            << QByteArray("Wednesday, 01-May-24 12:00:05 GMT") << qint64(5000);
        QTest::newRow("asctime date") << QByteArray("Wed May  1 12:00:10 2024") << qint64(10000);
        QTest::newRow("date beyond the cap")
            << QByteArray("Fri, 31 Dec 9999 23:59:59 GMT") << MaxRetryAfterMs;
        QTest::newRow("date without GMT") << QByteArray("Wed, 01 May 2024 12:01:30") << qint64(-1);
        QTest::newRow("date, bad day") << QByteArray("Wed, 31 Feb 2024 12:01:30 GMT") << qint64(-1);
        QTest::newRow("date, bad hour")
            << QByteArray("Wed, 01 May 2024 25:01:30 GMT") << qint64(-1);
        QTest::newRow("date, bad month")
            << QByteArray("Wed, 01 Foo 2024 12:01:30 GMT") << qint64(-1);
        QTest::newRow("date, trailing")
            << QByteArray("Wed, 01 May 2024 12:01:30 GMT x") << qint64(-1);
        QTest::newRow("date, long year")
            << QByteArray("Wed, 01 May 20245 12:01:30 GMT") << qint64(-1);
    }
    void retryAfter()
    {
        QFETCH(QByteArray, value);
        QFETCH(qint64, expected);
        QCOMPARE(parseRetryAfter(value, now()), expected);
    }

    void httpDates()
    {
        const QDateTime expected(QDate(1994, 11, 6), QTime(8, 49, 37), QTimeZone::utc());
        const QDateTime at2024 = now();
        QCOMPARE(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", at2024), expected);
        QCOMPARE(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", at2024), expected);
        QCOMPARE(parseHttpDate("Sun Nov  6 08:49:37 1994", at2024), expected);
        // A two-digit year more than 50 years ahead is in the century before.
        QCOMPARE(parseHttpDate("Monday, 01-Jan-74 00:00:00 GMT", at2024).date().year(), 2074);
        QCOMPARE(parseHttpDate("Monday, 01-Jan-75 00:00:00 GMT", at2024).date().year(), 1975);
        // A leap second is read as the second before.
        QCOMPARE(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT", at2024).time(), QTime(23, 59, 59));
        QVERIFY(!parseHttpDate("Sun, 06 Nov 1994 08:49:61 GMT", at2024).isValid());
        QVERIFY(!parseHttpDate("Xyz, 06 Nov 1994 08:49:37 GMT", at2024).isValid());
        QVERIFY(!parseHttpDate("", at2024).isValid());
    }

    void contentRange_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("last");
        QTest::addColumn<qint64>("complete");
        QTest::addColumn<bool>("reachesEnd");
        const qint64 max = std::numeric_limits<qint64>::max();
        QTest::newRow("whole") << QByteArray("bytes 0-9/10") << true << qint64(0) << qint64(9)
                               << qint64(10) << true;
        QTest::newRow("tail") << QByteArray("bytes 100-199/200") << true << qint64(100)
                              << qint64(199) << qint64(200) << true;
        QTest::newRow("middle") << QByteArray("bytes 100-149/200") << true << qint64(100)
                                << qint64(149) << qint64(200) << false;
        QTest::newRow("unknown length")
            << QByteArray("bytes 5-9/*") << true << qint64(5) << qint64(9) << qint64(-1) << true;
        QTest::newRow("upper case unit")
            << QByteArray("BYTES 0-0/1") << true << qint64(0) << qint64(0) << qint64(1) << true;
        QTest::newRow("largest") << QByteArray("bytes 0-9223372036854775806/9223372036854775807")
                                 << true << qint64(0) << max - 1 << max << true;
        QTest::newRow("last is int64 max")
            << QByteArray("bytes 5-9223372036854775807/9223372036854775807") << false << qint64(-1)
            << qint64(-1) << qint64(-1) << false;
        QTest::newRow("last is int64 max, unknown length")
            << QByteArray("bytes 5-9223372036854775807/*") << true << qint64(5) << max << qint64(-1)
            << true;
        QTest::newRow("beyond int64") << QByteArray("bytes 5-9223372036854775808/*") << false
                                      << qint64(-1) << qint64(-1) << qint64(-1) << false;
        QTest::newRow("huge") << QByteArray("bytes 0-" + QByteArray(400, '9') + "/*") << false
                              << qint64(-1) << qint64(-1) << qint64(-1) << false;
        QTest::newRow("first after last") << QByteArray("bytes 9-5/10") << false << qint64(-1)
                                          << qint64(-1) << qint64(-1) << false;
        QTest::newRow("last beyond length") << QByteArray("bytes 0-10/10") << false << qint64(-1)
                                            << qint64(-1) << qint64(-1) << false;
        QTest::newRow("negative") << QByteArray("bytes -5-9/10") << false << qint64(-1)
                                  << qint64(-1) << qint64(-1) << false;
        QTest::newRow("unsatisfied")
            << QByteArray("bytes */10") << false << qint64(-1) << qint64(-1) << qint64(-1) << false;
        QTest::newRow("other unit") << QByteArray("items 0-9/10") << false << qint64(-1)
                                    << qint64(-1) << qint64(-1) << false;
        QTest::newRow("no space") << QByteArray("bytes0-9/10") << false << qint64(-1) << qint64(-1)
                                  << qint64(-1) << false;
        QTest::newRow("trailing") << QByteArray("bytes 0-9/10x") << false << qint64(-1)
                                  << qint64(-1) << qint64(-1) << false;
        QTest::newRow("empty") << QByteArray() << false << qint64(-1) << qint64(-1) << qint64(-1)
                               << false;
    }
    void contentRange()
    {
        QFETCH(QByteArray, value);
        QFETCH(bool, valid);
        QFETCH(qint64, first);
        QFETCH(qint64, last);
        QFETCH(qint64, complete);
        QFETCH(bool, reachesEnd);
        const ContentRange range = parseContentRange(value);
        QCOMPARE(range.valid, valid);
        QCOMPARE(range.first, first);
        QCOMPARE(range.last, last);
        QCOMPARE(range.complete, complete);
        QCOMPARE(range.reachesEnd(), reachesEnd);
        if (valid)
            QCOMPARE(range.length(), last - first + 1);
    }

    void statusErrors_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("code");
        QTest::newRow("301") << 301 << int(QAttachmentError::ProtocolError);
        QTest::newRow("400") << 400 << int(QAttachmentError::ClientError);
        QTest::newRow("401") << 401 << int(QAttachmentError::Unauthorized);
        QTest::newRow("403") << 403 << int(QAttachmentError::Unauthorized);
        QTest::newRow("404") << 404 << int(QAttachmentError::NotFound);
        QTest::newRow("408") << 408 << int(QAttachmentError::Timeout);
        QTest::newRow("410") << 410 << int(QAttachmentError::NotFound);
        QTest::newRow("429") << 429 << int(QAttachmentError::RateLimited);
        QTest::newRow("500") << 500 << int(QAttachmentError::ServerError);
        QTest::newRow("599") << 599 << int(QAttachmentError::ServerError);
        QTest::newRow("999") << 999 << int(QAttachmentError::ServerError);
    }
    void statusErrors()
    {
        QFETCH(int, status);
        QFETCH(int, code);
        StatusAnswer answer;
        answer.status = status;
        answer.reason = QStringLiteral("Reason");
        answer.body = "details";
        const QAttachmentError error = statusError(answer);
        QCOMPARE(int(error.code()), code);
        QCOMPARE(error.httpStatus(), status);
        QVERIFY(error.message().contains(QStringLiteral("HTTP %1 Reason").arg(status)));
        QVERIFY(error.message().contains(QStringLiteral("details")));
    }

    void redirectMessagesHideTheQuery()
    {
        StatusAnswer answer;
        answer.status = 302;
        answer.requestUrl = QUrl(QStringLiteral("https://a.example/x?X-Amz-Signature=REQSECRET"));
        answer.location = "/other?X-Amz-Signature=LOCSECRET";
        QAttachmentError error = statusError(answer);
        QVERIFY2(error.message().contains(QStringLiteral("https://a.example/other")),
                 qPrintable(error.message()));
        QVERIFY(!error.message().contains(QStringLiteral("SECRET")));
        answer.upload = true;
        answer.location = "https://user:PASSSECRET@b.example/y?sig=LOCSECRET#FRAGSECRET";
        error = statusError(answer);
        QVERIFY2(error.message().contains(QStringLiteral("https://b.example/y")),
                 qPrintable(error.message()));
        QVERIFY(!error.message().contains(QStringLiteral("SECRET")));
    }

    void redaction_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("kept"); // must still be there
        QTest::newRow("URL query") << QStringLiteral(
            "Error transferring https://h.example/k?X-Amz-Signature=SECRET1&a=b - server replied")
                                   << QStringLiteral("https://h.example/k - server replied");
        QTest::newRow("user info") << QStringLiteral("see http://me:SECRET1@h.example:8080/p")
                                   << QStringLiteral("http://h.example:8080/p");
        QTest::newRow("parameters") << QStringLiteral(
            "X-Amz-Credential=SECRET1%2F2024 x-amz-security-token: SECRET2 X-Amz-Signature=SECRET3")
                                    << QStringLiteral("X-Amz-Credential=[redacted]");
        QTest::newRow("authorization") << QStringLiteral(
            "Authorization: AWS4-HMAC-SHA256 Credential=SECRET1/20240101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=SECRET2")
                                       << QStringLiteral("SignedHeaders=host");
        QTest::newRow("bearer") << QStringLiteral("Authorization: Bearer SECRET1, then")
                                << QStringLiteral("Bearer [redacted], then");
        QTest::newRow("S3 document") << QStringLiteral(
            "<Error><Code>SignatureDoesNotMatch</Code><StringToSign>SECRET1</StringToSign>"
            "<SignatureProvided>SECRET2</SignatureProvided><CanonicalRequest>GET / "
            "SECRET3</CanonicalRequest><AWSAccessKeyId>SECRET4</AWSAccessKeyId></Error>")
                                     << QStringLiteral("<Code>SignatureDoesNotMatch</Code>");
        QTest::newRow("cut-off element")
            << QStringLiteral("<StringToSign>AWS4 SECRET1") << QStringLiteral("<StringToSign>");
        QTest::newRow("query of the request")
            << QStringLiteral("echo: token-SECRET1-x") << QStringLiteral("echo: ");
        QTest::newRow("plain text")
            << QStringLiteral("nothing secret here") << QStringLiteral("nothing secret here");
    }
    void redaction()
    {
        QFETCH(QString, text);
        QFETCH(QString, kept);
        const QUrl request(QStringLiteral("https://h.example/k?x=token-SECRET1-x"));
        const QString out = redactSecrets(text, request);
        QVERIFY2(!out.contains(QStringLiteral("SECRET")), qPrintable(out));
        QVERIFY2(out.contains(kept), qPrintable(out));
    }

    void urlsForMessages()
    {
        const QUrl url(QStringLiteral("https://u:p@h.example:8443/a%20b?sig=x#f"));
        QCOMPARE(hostOf(url), QStringLiteral("h.example:8443"));
        QCOMPARE(redactedUrl(url), QStringLiteral("https://h.example:8443/a%20b"));
        QCOMPARE(hostOf(QUrl(QStringLiteral("http://[::1]:80/"))), QStringLiteral("[::1]:80"));
        QCOMPARE(hostOf(QUrl(QStringLiteral("http://127.0.0.1/"))), QStringLiteral("127.0.0.1"));
    }
};

QTEST_MAIN(tst_HttpWire)
#include "tst_httpwire.moc"
