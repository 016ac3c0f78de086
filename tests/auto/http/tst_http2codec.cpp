// The HTTP/2 request codec of large uploads to cleartext HTTP/2 servers, on
// its own: what it writes (preface, settings, header block, DATA frames
// within the server's windows), what it answers (SETTINGS and PING
// acknowledgements, WINDOW_UPDATEs), and how it reads answers, hostile ones
// included, with frames built here byte by byte.

#include "http2testframes.h"
#include <qhpackdecoder_p.h>

#include <qhttp2requestcodec_p.h>

#include <QtTest/qtest.h>

namespace {

using Field = QHttp2RequestCodec::Field;

struct Frame
{
    quint8 type = 0;
    quint8 flags = 0;
    quint32 stream = 0;
    QByteArray payload;
};

QByteArray settings(const QList<std::pair<quint16, quint32>> &values = {})
{
    QByteArray payload;
    for (const auto &[id, value] : values) {
        payload.append(char(id >> 8));
        payload.append(char(id));
        payload += u32(value);
    }
    return frame(0x4, 0, 0, payload);
}

QByteArray headers(const QByteArray &block, quint8 flags = 0x4)
{
    return frame(0x1, flags, 1, block);
}

QByteArray data(const QByteArray &bytes, bool end)
{
    return frame(0x0, end ? 0x1 : 0, 1, bytes);
}

QByteArray windowUpdate(quint32 stream, quint32 increment)
{
    return frame(0x8, 0, stream, u32(increment));
}

// HPACK, RFC 7541: `:status` from the static table (index 8 is 200, 13 is 404).
QByteArray status200()
{
    return QByteArray(1, char(0x88));
}
QByteArray status404()
{
    return QByteArray(1, char(0x8d));
}
// A literal field without indexing, new name, raw strings (short ones).
QByteArray literal(const QByteArray &name, const QByteArray &value)
{
    QByteArray out(1, char(0x00));
    out.append(char(name.size()));
    out += name;
    out.append(char(value.size()));
    out += value;
    return out;
}

QList<Frame> framesOf(QByteArray bytes)
{
    QList<Frame> frames;
    while (bytes.size() >= 9) {
        Frame f;
        const int length = (quint8(bytes[0]) << 16) | (quint8(bytes[1]) << 8) | quint8(bytes[2]);
        f.type = quint8(bytes[3]);
        f.flags = quint8(bytes[4]);
        f.stream = (quint32(quint8(bytes[5])) << 24 | quint32(quint8(bytes[6])) << 16
                    | quint32(quint8(bytes[7])) << 8 | quint32(quint8(bytes[8])))
            & 0x7fffffff;
        f.payload = bytes.mid(9, length);
        frames << f;
        bytes.remove(0, 9 + length);
    }
    return frames;
}

QList<Field> requestFields()
{
    return {{":method", "PUT"},    {":scheme", "http"},           {":authority", "127.0.0.1:8080"},
            {":path", "/a/b.bin"}, {"authorization", "Bearer t"}, {"content-length", "40000"}};
}

// A codec that sent a request with a body and read the server's SETTINGS.
std::unique_ptr<QHttp2RequestCodec> opened(qint64 maxKept = 1024,
                                           const QList<std::pair<quint16, quint32>> &peer = {})
{
    auto codec = std::make_unique<QHttp2RequestCodec>(maxKept);
    codec->open(requestFields(), true);
    codec->feed(settings(peer));
    codec->takeOutput();
    return codec;
}

} // namespace

class tst_Http2Codec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void openSendsPrefaceSettingsAndHeaders()
    {
        QHttp2RequestCodec codec;
        QByteArray out = codec.open(requestFields(), true);
        QVERIFY(out.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        const QList<Frame> frames = framesOf(out.mid(24));
        QCOMPARE(frames.size(), 2);
        QCOMPARE(frames[0].type, quint8(0x4));
        // ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 1 MiB.
        QCOMPARE(frames[0].payload,
                 QByteArray::fromHex("000200000000") + QByteArray::fromHex("000400100000"));
        QCOMPARE(frames[1].type, quint8(0x1));
        QCOMPARE(frames[1].stream, 1u);
        QCOMPARE(frames[1].flags, quint8(0x4)); // END_HEADERS, the body follows
        QHpackDecoder decoder;
        QList<Field> fields;
        QVERIFY(decoder.decode(frames[1].payload, &fields));
        QCOMPARE(fields, requestFields());
        QCOMPARE(decoder.tableEntries(), 0); // nothing indexed
        // The credential is a never-indexed literal (0x1X).
        const qsizetype at = frames[1].payload.indexOf("Bearer t");
        QVERIFY(at > 0);
        QCOMPARE(quint8(frames[1].payload[at - 1 - 1 - 13 - 1]) & 0xf0, 0x10);
    }

    void openWithoutBodyEndsTheStream()
    {
        QHttp2RequestCodec codec;
        const QList<Frame> frames = framesOf(codec.open(requestFields(), false).mid(24));
        QCOMPARE(frames.size(), 2);
        QCOMPARE(frames[1].flags, quint8(0x5));
        QCOMPARE(codec.sendWindow(), 0);
    }

    void longHeaderBlockContinues()
    {
        QList<Field> fields = requestFields();
        fields.append({"x-long", QByteArray(9000, 'a')});
        fields.append({"x-longer", QByteArray(9000, 'b')});
        QHttp2RequestCodec codec;
        const QList<Frame> frames = framesOf(codec.open(fields, true).mid(24));
        QCOMPARE(frames.size(), 3);
        QCOMPARE(frames[1].type, quint8(0x1));
        QCOMPARE(frames[1].flags, quint8(0));
        QCOMPARE(frames[1].payload.size(), QHttp2RequestCodec::MaxFrameSize);
        QCOMPARE(frames[2].type, quint8(0x9));
        QCOMPARE(frames[2].flags, quint8(0x4));
        QHpackDecoder decoder;
        QList<Field> decoded;
        QVERIFY(decoder.decode(QByteArray(frames[1].payload + frames[2].payload), &decoded));
        QCOMPARE(decoded, fields);
    }

    void settingsAreAcknowledged()
    {
        QHttp2RequestCodec codec;
        codec.open(requestFields(), true);
        QVERIFY(codec.feed(settings({{0x3, 100}})));
        const QList<Frame> out = framesOf(codec.takeOutput());
        QCOMPARE(out.size(), 1);
        QCOMPARE(out[0].type, quint8(0x4));
        QCOMPARE(out[0].flags, quint8(0x1));
        QVERIFY(out[0].payload.isEmpty());
        QVERIFY(codec.takeOutput().isEmpty());
    }

    // The body goes out no faster than the server's windows allow: the
    // stream's (its SETTINGS, then WINDOW_UPDATEs on stream 1) and the
    // connection's (WINDOW_UPDATEs on stream 0).
    void dataStaysWithinTheWindows()
    {
        auto codec = opened(1024, {{0x4, 1000}});
        QCOMPARE(codec->sendWindow(), 1000);
        const QList<Frame> sent = framesOf(codec->data(QByteArray(1000, 'x'), false));
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].type, quint8(0x0));
        QCOMPARE(sent[0].flags, quint8(0));
        QCOMPARE(codec->sendWindow(), 0);
        QVERIFY(codec->data(QByteArray(1, 'x'), false).isEmpty()); // refused: no window
        QVERIFY(codec->feed(windowUpdate(1, 70000)));
        // The connection's window (65,535 - 1,000) is now the smaller one.
        QCOMPARE(codec->sendWindow(), 64535);
        QVERIFY(codec->feed(windowUpdate(0, 10000)));
        QCOMPARE(codec->sendWindow(), 70000);
        // A smaller initial window moves the open stream's window back by
        // the difference (1,000), and may take it below zero.
        QVERIFY(codec->feed(settings({{0x4, 0}})));
        QCOMPARE(codec->sendWindow(), 69000);
        QCOMPARE(codec->data(QByteArray(69000, 'y'), false).size(), 69000 + 5 * 9);
        QVERIFY(codec->feed(QByteArray(settings({{0x4, 0}}) + settings({{0x4, 0}}))));
        QVERIFY(codec->feed(settings({{0x4, 10}})));
        QCOMPARE(codec->sendWindow(), 10);
        QVERIFY(!codec->hasFailed());
    }

    void dataIsFramedAtTheServersFrameSize_data()
    {
        QTest::addColumn<quint32>("maxFrame");
        QTest::addColumn<int>("frames");
        QTest::newRow("default 16 KiB") << 0u << 3;
        QTest::newRow("server allows 20,000") << 20000u << 2;
        QTest::newRow("server allows 16 MiB: 256 KiB frames") << 16777215u << 1;
    }
    void dataIsFramedAtTheServersFrameSize()
    {
        QFETCH(quint32, maxFrame);
        QFETCH(int, frames);
        QList<std::pair<quint16, quint32>> peer {{0x4, 1 << 20}};
        if (maxFrame)
            peer.append({0x5, maxFrame});
        auto codec = opened(1024, peer);
        const QByteArray body = QByteArray(39997, 'b') + "end";
        const QList<Frame> sent = framesOf(codec->data(body, true));
        QCOMPARE(sent.size(), frames);
        QByteArray joined;
        for (int i = 0; i < sent.size(); ++i) {
            QCOMPARE(sent[i].stream, 1u);
            QCOMPARE(sent[i].flags, quint8(i == sent.size() - 1 ? 0x1 : 0));
            joined += sent[i].payload;
        }
        QCOMPARE(joined, body);
        QCOMPARE(codec->sendWindow(), 0); // the stream is ended
    }

    void answerIsRead_data()
    {
        QTest::addColumn<int>("piece");
        QTest::newRow("whole") << 0;
        QTest::newRow("byte by byte") << 1;
        QTest::newRow("in 7s") << 7;
    }
    void answerIsRead()
    {
        QFETCH(int, piece);
        QHttp2RequestCodec codec(1024);
        codec.open(requestFields(), true);
        const QByteArray input = settings() + frame(0x6, 0, 0, "12345678")
            + headers(status404() + literal("content-length", "5") + literal("x-why", "full"))
            + data("oo", false) + data("ps!", true);
        if (piece == 0) {
            QVERIFY(codec.feed(input));
        } else {
            for (qsizetype at = 0; at < input.size(); at += piece)
                QVERIFY(codec.feed(input.mid(at, piece)));
        }
        QVERIFY(!codec.hasFailed());
        QVERIFY(codec.isDone());
        QCOMPARE(codec.status(), 404);
        QCOMPARE(codec.header("X-Why"), QByteArray("full"));
        QCOMPARE(codec.keptBody(), QByteArray("oops!"));
        QCOMPARE(codec.bodyReceived(), 5);
        QCOMPARE(codec.framesRead(), 5);
        // SETTINGS ack, PING ack, and WINDOW_UPDATEs for the first DATA.
        const QList<Frame> out = framesOf(codec.takeOutput());
        QCOMPARE(out.size(), 4);
        QCOMPARE(out[1].type, quint8(0x6));
        QCOMPARE(out[1].flags, quint8(0x1));
        QCOMPARE(out[1].payload, QByteArray("12345678"));
        QCOMPARE(out[2].type, quint8(0x8));
        QCOMPARE(out[2].stream, 0u);
        QCOMPARE(out[2].payload, u32(2));
        QCOMPARE(out[3].stream, 1u);
    }

    void interimAnswersAndTrailers()
    {
        auto codec = opened();
        QVERIFY(codec->feed(headers(literal(":status", "100"))));
        QVERIFY(!codec->headersComplete());
        QVERIFY(codec->feed(headers(status200())));
        QCOMPARE(codec->status(), 200);
        QVERIFY(!codec->isDone());
        QVERIFY(codec->feed(headers(literal("x-trailer", "1"), 0x5)));
        QVERIFY(codec->isDone());
        // The server may then stop the rest of the request without an error.
        QVERIFY(codec->feed(frame(0x3, 0, 1, u32(0))));
        QVERIFY(!codec->hasFailed());
    }

    void onlyTheStartOfTheBodyIsKept()
    {
        auto codec = opened(4);
        QVERIFY(codec->feed(QByteArray(headers(status404()) + data("0123456789", true))));
        QCOMPARE(codec->keptBody(), QByteArray("0123"));
        QCOMPARE(codec->bodyReceived(), 10);
    }

    void unknownFramesAreIgnored()
    {
        auto codec = opened();
        QVERIFY(codec->feed(frame(0xfa, 0xff, 7, "whatever")));
        QVERIFY(codec->feed(frame(0x2, 0, 1, QByteArray(5, '\0')))); // PRIORITY
        QVERIFY(codec->feed(headers(status200(), 0x5)));
        QVERIFY(codec->isDone());
    }

    void refusedRequestsCanBeSentAgain_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<bool>("refused");
        QTest::newRow("GOAWAY before stream 1")
            << frame(0x7, 0, 0, u32(0) + u32(0) + "bye") << true;
        QTest::newRow("RST_STREAM REFUSED_STREAM") << frame(0x3, 0, 1, u32(7)) << true;
        QTest::newRow("RST_STREAM CANCEL") << frame(0x3, 0, 1, u32(8)) << false;
        QTest::newRow("GOAWAY with an error") << frame(0x7, 0, 0, u32(1) + u32(2)) << false;
    }
    void refusedRequestsCanBeSentAgain()
    {
        QFETCH(QByteArray, input);
        QFETCH(bool, refused);
        auto codec = opened();
        QVERIFY(!codec->feed(input));
        QVERIFY(codec->hasFailed());
        QCOMPARE(codec->wasRefused(), refused);
        QVERIFY(!codec->feed(headers(status200(), 0x5))); // nothing more is taken
        QVERIFY(!codec->isDone());
    }

    void goAwayWithoutErrorLetsTheAnswerCome()
    {
        auto codec = opened();
        QVERIFY(codec->feed(frame(0x7, 0, 0, u32(1) + u32(0))));
        QVERIFY(codec->feed(headers(status200(), 0x5)));
        QVERIFY(codec->isDone());
    }

    void notHttp2IsNamed()
    {
        QHttp2RequestCodec codec;
        codec.open(requestFields(), true);
        QVERIFY(!codec.feed("HTTP/1.1 400 Bad Request\r\n\r\n"));
        QVERIFY2(codec.errorString().contains("did not answer with HTTP/2"),
                 qPrintable(codec.errorString()));
        QVERIFY(codec.errorString().contains("HTTP/1.1 400"));
    }

    void hostileAnswersFail_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("message");
        const QByteArray ok = headers(status200());
        QTest::newRow("frame over 16 KiB")
            << frame(0x0, 0, 1, QByteArray(16385, 'x')) << "over the 16384 allowed";
        QTest::newRow("push") << frame(0x5, 0x4, 1, u32(2) + status200()) << "pushed";
        QTest::newRow("data before headers") << data("x", true) << "outside an answer";
        QTest::newRow("data on stream 3") << ok + frame(0x0, 0, 3, "x") << "stream 3";
        QTest::newRow("headers on stream 3") << frame(0x1, 0x4, 3, status200()) << "stream 3";
        QTest::newRow("longer than content-length")
            << headers(status200() + literal("content-length", "2")) + data("abc", true)
            << "longer than its content-length";
        QTest::newRow("shorter than content-length")
            << headers(status200() + literal("content-length", "4")) + data("abc", true)
            << "ended after 3";
        QTest::newRow("bad content-length")
            << headers(status200() + literal("content-length", "1,1"), 0x5) << "content-length";
        QTest::newRow("uppercase name")
            << headers(status200() + literal("X-Up", "1"), 0x5) << "lowercase";
        QTest::newRow("NUL in a value")
            << headers(status200() + literal("x-a", QByteArray("a\0b", 3)), 0x5)
            << "control character";
        QTest::newRow("two statuses") << headers(status200() + status404(), 0x5) << "pseudo-header";
        QTest::newRow("pseudo-header after a field")
            << headers(literal("x-a", "1") + status200(), 0x5) << "pseudo-header";
        QTest::newRow("request pseudo-header")
            << headers(status200() + literal(":path", "/"), 0x5) << "pseudo-header";
        QTest::newRow("no status") << headers(literal("x-a", "1"), 0x5) << "no :status";
        QTest::newRow("status 99x") << headers(literal(":status", "099"), 0x5) << "status";
        QTest::newRow("status 2000") << headers(literal(":status", "2000"), 0x5) << "status";
        QTest::newRow("101") << headers(literal(":status", "101")) << "interim";
        QTest::newRow("interim ending the stream")
            << headers(literal(":status", "100"), 0x5) << "interim";
        QTest::newRow("trailers not ending the stream")
            << ok + headers(literal("x-t", "1")) << "second header block";
        QTest::newRow("headers after the end")
            << headers(status200(), 0x5) + headers(status200(), 0x5) << "after the end";
        QTest::newRow("malformed HPACK") << headers(QByteArray(1, char(0x80))) << "malformed";
        QTest::newRow("PING inside a header block")
            << headers(status200(), 0) + frame(0x6, 0, 0, "12345678") << "interrupted";
        QTest::newRow("CONTINUATION without a block")
            << frame(0x9, 0x4, 1, status200()) << "without a header block";
        QTest::newRow("header block over 64 KiB")
            << headers(status200(), 0) + frame(0x9, 0, 1, QByteArray(16384, 'a'))
                + frame(0x9, 0, 1, QByteArray(16384, 'a'))
                + frame(0x9, 0, 1, QByteArray(16384, 'a'))
                + frame(0x9, 0, 1, QByteArray(16384, 'a'))
            << "over 65536";
        QTest::newRow("WINDOW_UPDATE of 0") << windowUpdate(1, 0) << "WINDOW_UPDATE of 0";
        QTest::newRow("connection window overflow") << windowUpdate(0, 0x7fffffff) << "overflows";
        QTest::newRow("stream window overflow") << windowUpdate(1, 0x7fffffff) << "overflows";
        QTest::newRow("WINDOW_UPDATE on stream 5") << windowUpdate(5, 1) << "never opened";
        QTest::newRow("initial window over 2^31-1")
            << settings({{0x4, 0x80000000u}}) << "over 2^31-1";
        QTest::newRow("frame size under 16 KiB") << settings({{0x5, 100}}) << "out of range";
        QTest::newRow("push enabled") << settings({{0x2, 1}}) << "ENABLE_PUSH";
        QTest::newRow("SETTINGS of 5 bytes") << frame(0x4, 0, 0, "12345") << "5 bytes";
        QTest::newRow("SETTINGS on a stream") << frame(0x4, 0, 1, {}) << "on a stream";
        QTest::newRow("SETTINGS ack with a payload")
            << frame(0x4, 0x1, 0, u32(1) + "ab") << "acknowledgement";
        QTest::newRow("PING of 7 bytes") << frame(0x6, 0, 0, "1234567") << "PING";
        QTest::newRow("RST_STREAM on stream 3") << frame(0x3, 0, 3, u32(0)) << "never opened";
        QTest::newRow("padding longer than the frame")
            << ok + frame(0x0, 0x8, 1, QByteArray(1, char(5)) + "ab") << "padding";
        QTest::newRow("headers padding longer than the frame")
            << frame(0x1, 0xc, 1, QByteArray(1, char(3)) + status200()) << "padding";
        QTest::newRow("priority flag on a short frame")
            << frame(0x1, 0x24, 1, QByteArray(2, '\0')) << "too short";
    }
    void hostileAnswersFail()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, message);
        auto codec = opened(1024, {{0x4, 0x7fff0000}});
        QVERIFY(!codec->feed(input));
        QVERIFY(codec->hasFailed());
        QVERIFY2(codec->errorString().contains(message), qPrintable(codec->errorString()));
        QVERIFY(codec->errorString().size() < 200);
        QVERIFY(!codec->feed(settings())); // nothing more is taken
    }

    // The first frame must be the server's SETTINGS: anything else is not
    // the server's connection preface.
    void firstFrameMustBeSettings()
    {
        QHttp2RequestCodec codec;
        codec.open(requestFields(), true);
        QVERIFY(!codec.feed(windowUpdate(0, 100)));
        QVERIFY(codec.errorString().contains("did not answer with HTTP/2"));
    }
};

QTEST_APPLESS_MAIN(tst_Http2Codec)
#include "tst_http2codec.moc"
