// The HTTP/2 request codec of large uploads on arbitrary server bytes, after
// the server's SETTINGS (so that the bytes reach every frame handler), fed
// whole and in pieces whose size comes from the input. Each result must keep
// its promises, not only not crash: the same verdict both ways, bounded
// buffers and answers, windows within the protocol's range, a status in
// range, and a failure that says why in a few words and lasts.

#include "fuzzpromise.h"
#include "qhttp2requestcodec_p.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr qint64 MaxKept = 64;

void checkPromises(const QHttp2RequestCodec &c)
{
    check(c.keptBody().size() <= MaxKept, "kept body bounded");
    check(c.keptBody().size() <= c.bodyReceived(), "kept within received");
    check(c.sendWindow() >= 0 && c.sendWindow() <= QHttp2RequestCodec::MaxWindow,
          "send window in range");
    if (c.headersComplete())
        check(c.status() >= 200 && c.status() <= 599, "final status in range");
    else
        check(c.status() == 0 && c.headers().isEmpty(), "no answer before its headers");
    if (c.isDone())
        check(c.headersComplete(), "an answer ends after its headers");
    if (c.hasFailed()) {
        check(!c.errorString().isEmpty(), "a failure says why");
        check(c.errorString().size() < 300, "the message is short");
        check(c.sendWindow() == 0, "nothing is sent after a failure");
    }
    if (c.wasRefused())
        check(c.hasFailed() && !c.headersComplete(), "refused before any answer");
}

QByteArray serverSettings()
{
    // SETTINGS with INITIAL_WINDOW_SIZE 1 MiB and MAX_FRAME_SIZE 32 KiB.
    return QByteArray::fromHex("00000c040000000000"
                               "000400100000"
                               "000500008000");
}

QList<QHttp2RequestCodec::Field> request()
{
    return {{":method", "PUT"}, {":scheme", "http"}, {":authority", "h"}, {":path", "/f"}};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const int piece = 1 + data[0] % 32;
    const QByteArrayView input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    QHttp2RequestCodec whole(MaxKept);
    const QByteArray opening = whole.open(request(), true);
    check(opening.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "the preface goes first");
    check(whole.feed(serverSettings()), "the server's SETTINGS are taken");
    whole.feed(input);
    checkPromises(whole);
    // Answers owed: at most a few frames per frame read.
    const QByteArray owed = whole.takeOutput();
    check(owed.size() <= 9 + 26 * qint64(whole.framesRead()), "answers bounded by frames read");
    check(whole.takeOutput().isEmpty(), "answers are taken once");
    if (!whole.hasFailed() && whole.sendWindow() > 0) {
        // The body may go as far as the windows allow, framed within them.
        const qint64 n = qMin<qint64>(whole.sendWindow(), 100000);
        const QByteArray framed = whole.data(QByteArray(n, 'x'), false);
        check(framed.size() > n && framed.size() <= n + (n / 16384 + 1) * 9, "DATA framed");
    }

    QHttp2RequestCodec pieces(MaxKept);
    pieces.open(request(), true);
    pieces.feed(serverSettings());
    for (qsizetype pos = 0; pos < input.size(); pos += piece) {
        pieces.feed(input.sliced(pos, qMin<qsizetype>(piece, input.size() - pos)));
        checkPromises(pieces);
    }
    check(pieces.hasFailed() == whole.hasFailed(), "same verdict in pieces");
    check(pieces.errorString() == whole.errorString(), "same message in pieces");
    check(pieces.isDone() == whole.isDone(), "same end in pieces");
    check(pieces.status() == whole.status(), "same status in pieces");
    check(pieces.keptBody() == whole.keptBody(), "same body in pieces");
    check(pieces.headers() == whole.headers(), "same headers in pieces");
    if (pieces.hasFailed())
        check(!pieces.feed(serverSettings()), "a failure lasts");
    return 0;
}
