// The server's HTTP/1.1 request head parser and chunked body decoder, alone:
// what they accept, what they refuse with which status, and that the result
// does not depend on how the bytes are split.

#include <httprequestparser.h>

#include <QtTest/qtest.h>

namespace {

struct Outcome
{
    HttpRequestParser::State state = HttpRequestParser::State::Idle;
    int status = 0;
    qsizetype consumed = 0;
    HttpRequestHead head;
};

// Feeds `data` in pieces of `piece` bytes (0: all at once).
Outcome parse(const QByteArray &data, qsizetype piece = 0, const HttpLimits &limits = {})
{
    HttpRequestParser parser(limits);
    Outcome outcome;
    const qsizetype step = piece > 0 ? piece : qMax<qsizetype>(1, data.size());
    for (qsizetype at = 0; at < data.size(); at += step) {
        const qsizetype length = qMin(step, data.size() - at);
        const qsizetype used = parser.feed(data.constData() + at, length);
        outcome.consumed += used;
        if (parser.state() == HttpRequestParser::State::Complete
            || parser.state() == HttpRequestParser::State::Error)
            break;
        if (used != length)
            break;
    }
    outcome.state = parser.state();
    outcome.status = parser.errorStatus();
    outcome.head = parser.head();
    return outcome;
}

QByteArray decodeChunked(const QByteArray &data, qsizetype piece, HttpChunkedDecoder::State *state,
                         qsizetype *consumed)
{
    HttpChunkedDecoder decoder;
    QByteArray body;
    *consumed = 0;
    const qsizetype step = piece > 0 ? piece : qMax<qsizetype>(1, data.size());
    for (qsizetype at = 0;
         at < data.size() && decoder.state() == HttpChunkedDecoder::State::Running; at += step) {
        const char *input = data.constData() + at;
        qsizetype length = qMin(step, data.size() - at);
        while (length > 0 && decoder.state() == HttpChunkedDecoder::State::Running) {
            const HttpChunkedDecoder::Step result = decoder.feed(input, length);
            body.append(input + result.offset, result.length);
            input += result.consumed;
            length -= result.consumed;
            *consumed += result.consumed;
        }
    }
    *state = decoder.state();
    return body;
}

} // namespace

class tst_ServerRequestParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void heads_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status"); // 0: complete
        auto put = [](const QByteArray &headers) -> QByteArray {
            return "PUT /x HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
        };
        QTest::newRow("get") << QByteArray("GET /a/b?q=1 HTTP/1.1\r\nHost: h\r\n\r\n") << 0;
        QTest::newRow("leading blank line")
            << QByteArray("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") << 0;
        QTest::newRow("http/1.0 without host") << QByteArray("GET / HTTP/1.0\r\n\r\n") << 0;
        QTest::newRow("length") << put("Content-Length: 10\r\n") << 0;
        QTest::newRow("zero length") << put("Content-Length: 0\r\n") << 0;
        QTest::newRow("chunked") << put("Transfer-Encoding: Chunked\r\n") << 0;
        QTest::newRow("absolute form")
            << QByteArray("GET http://h/a HTTP/1.1\r\nHost: h\r\n\r\n") << 0;
        QTest::newRow("leading zeros") << put("Content-Length: 010\r\n") << 400;
        QTest::newRow("plus") << put("Content-Length: +10\r\n") << 400;
        QTest::newRow("empty length") << put("Content-Length: \r\n") << 400;
        QTest::newRow("hex length") << put("Content-Length: 0x10\r\n") << 400;
        QTest::newRow("19 digits") << put("Content-Length: 1000000000000000000\r\n") << 400;
        QTest::newRow("two lengths") << put("Content-Length: 1\r\nContent-Length: 1\r\n") << 400;
        QTest::newRow("length and chunked")
            << put("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n") << 400;
        QTest::newRow("gzip, chunked") << put("Transfer-Encoding: gzip, chunked\r\n") << 501;
        QTest::newRow("chunked, gzip") << put("Transfer-Encoding: chunked, gzip\r\n") << 400;
        QTest::newRow("empty coding") << put("Transfer-Encoding: \r\n") << 400;
        QTest::newRow("blank before colon") << put("Host : h\r\n") << 400;
        QTest::newRow("empty name") << put(": v\r\n") << 400;
        QTest::newRow("no colon") << put("Header\r\n") << 400;
        QTest::newRow("obs-fold") << put("A: b\r\n\tc\r\n") << 400;
        QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: h\n\n") << 400;
        QTest::newRow("DEL in value") << put("A: b\x7f\r\n") << 400;
        QTest::newRow("lowercase version")
            << QByteArray("GET / http/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("HTTP/0.9") << QByteArray("GET /\r\n\r\n") << 400;
        QTest::newRow("HTTP/3.0") << QByteArray("GET / HTTP/3.0\r\nHost: h\r\n\r\n") << 505;
        QTest::newRow("asterisk") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("fragment") << QByteArray("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("bad method") << QByteArray("G(T / HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("many blank lines")
            << QByteArray("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") << 400;
        QTest::newRow("expect other") << put("Expect: something\r\n") << 417;
        QTest::newRow("long request line")
            << "GET /" + QByteArray(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"
            << 414;
        QTest::newRow("long header block") << put("A: " + QByteArray(70000, 'a') + "\r\n") << 431;
        QTest::newRow("many headers") << put(QByteArray("A: b\r\n").repeated(100)) << 431;
    }

    // Whole, in pieces or a byte at a time: the same answer.
    void heads()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        const QByteArray tail = "BODY";
        for (const qsizetype piece : {qsizetype(0), qsizetype(1), qsizetype(7), qsizetype(4096)}) {
            const Outcome outcome = parse(head + tail, piece);
            if (status == 0) {
                QCOMPARE(outcome.state, HttpRequestParser::State::Complete);
                // Exactly the head is consumed: the body is left.
                QCOMPARE(outcome.consumed, head.size());
            } else {
                QCOMPARE(outcome.state, HttpRequestParser::State::Error);
                QCOMPARE(outcome.status, status);
                QVERIFY(outcome.consumed <= head.size());
            }
        }
    }

    void framing()
    {
        Outcome get = parse("GET /a/b?q=%20 HTTP/1.1\r\nHOST: h\r\nX-Empty:\r\n\r\n");
        QCOMPARE(get.state, HttpRequestParser::State::Complete);
        QCOMPARE(get.head.method, QByteArray("GET"));
        QCOMPARE(get.head.target, QByteArray("/a/b?q=%20"));
        QCOMPARE(get.head.path(), QByteArray("/a/b"));
        QCOMPARE(get.head.header("host"), QByteArray("h"));
        QVERIFY(!get.head.header("x-empty").isNull());
        QVERIFY(get.head.header("x-missing").isNull());
        QVERIFY(get.head.keepAlive);
        QVERIFY(!get.head.hasBody());

        Outcome put = parse("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n"
                            "Expect: 100-Continue\r\nConnection: keep-alive, Close\r\n\r\n");
        QCOMPARE(put.head.contentLength, qint64(42));
        QVERIFY(!put.head.chunked);
        QVERIFY(put.head.expectContinue);
        QVERIFY(!put.head.keepAlive);

        Outcome chunked = parse("PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                                "Upgrade: websocket\r\n\r\n");
        QVERIFY(chunked.head.chunked);
        QVERIFY(chunked.head.hasBody());
        QVERIFY(chunked.head.upgrade);

        Outcome old
            = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n");
        QCOMPARE(old.head.minorVersion, 0);
        QVERIFY(!old.head.keepAlive);
        QVERIFY(!old.head.expectContinue);

        Outcome absolute = parse("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n");
        QCOMPARE(absolute.head.target, QByteArray("/"));
    }

    void limitsAreOptions()
    {
        HttpLimits limits;
        limits.maxRequestLine = 100;
        limits.maxHeaderBlock = 200;
        limits.maxHeaderCount = 3;
        const QByteArray line = "GET /" + QByteArray(100 - 14, 'a') + " HTTP/1.1\r\n";
        QCOMPARE(line.size(), 102);
        QCOMPARE(parse(line + "Host: h\r\n\r\n", 0, limits).state,
                 HttpRequestParser::State::Complete);
        QCOMPARE(parse("GET /a" + line.mid(5) + "Host: h\r\n\r\n", 0, limits).status, 414);
        QCOMPARE(parse("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nC: d\r\n\r\n", 0, limits).state,
                 HttpRequestParser::State::Complete);
        QCOMPARE(
            parse("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nC: d\r\nE: f\r\n\r\n", 0, limits).status,
            431);
        QCOMPARE(
            parse("GET / HTTP/1.1\r\nHost: " + QByteArray(200, 'h') + "\r\n\r\n", 1, limits).status,
            431);
    }

    // A parser is reused for the requests of a connection.
    void reset()
    {
        HttpRequestParser parser;
        const QByteArray two
            = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
        const qsizetype first = parser.feed(two.constData(), two.size());
        QCOMPARE(parser.state(), HttpRequestParser::State::Complete);
        QCOMPARE(parser.head().target, QByteArray("/1"));
        QCOMPARE(parser.feed(two.constData() + first, two.size() - first), 0);
        parser.reset();
        QCOMPARE(parser.state(), HttpRequestParser::State::Idle);
        QCOMPARE(parser.feed(two.constData() + first, two.size() - first), two.size() - first);
        QCOMPARE(parser.head().target, QByteArray("/2"));
    }

    void chunked_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("two chunks") << QByteArray("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n")
                                    << true << QByteArray("abc0123456789");
        QTest::newRow("empty") << QByteArray("0\r\n\r\n") << true << QByteArray();
        QTest::newRow("extension")
            << QByteArray("3;name=value\r\nabc\r\n0 ; x\r\n\r\n") << true << QByteArray("abc");
        QTest::newRow("trailer") << QByteArray("3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n") << true
                                 << QByteArray("abc");
        QTest::newRow("upper hex")
            << QByteArray("B\r\nhello world\r\n0\r\n\r\n") << true << QByteArray("hello world");
        QTest::newRow("no size") << QByteArray("\r\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("bad digit") << QByteArray("3g\r\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("blank then digit")
            << QByteArray("3 4\r\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("negative") << QByteArray("-3\r\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("overflow") << QByteArray("1000000000000000\r\n") << false << QByteArray();
        QTest::newRow("data too long")
            << QByteArray("3\r\nabcd\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("bare LF") << QByteArray("3\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("control in extension")
            << QByteArray("3;\x01\r\nabc\r\n0\r\n\r\n") << false << QByteArray();
        QTest::newRow("long extension") << "3;" + QByteArray(5000, 'e') + "\r\nabc\r\n0\r\n\r\n"
                                        << false << QByteArray();
        QTest::newRow("huge trailer") << "0\r\nX: " + QByteArray(70000, 't') + "\r\n\r\n"
                                      << false << QByteArray();
    }

    void chunked()
    {
        QFETCH(QByteArray, data);
        QFETCH(bool, valid);
        QFETCH(QByteArray, body);
        for (const qsizetype piece : {qsizetype(0), qsizetype(1), qsizetype(5)}) {
            HttpChunkedDecoder::State state;
            qsizetype consumed = 0;
            const QByteArray decoded = decodeChunked(data + "NEXT", piece, &state, &consumed);
            if (valid) {
                QCOMPARE(state, HttpChunkedDecoder::State::Done);
                QCOMPARE(decoded, body);
                // Nothing after the final CRLF is consumed.
                QCOMPARE(consumed, data.size());
            } else {
                QCOMPARE(state, HttpChunkedDecoder::State::Error);
            }
        }
    }
};

QTEST_GUILESS_MAIN(tst_ServerRequestParser)
#include "tst_serverrequestparser.moc"
