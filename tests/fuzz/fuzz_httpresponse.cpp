// The HTTP/1.x response parser of the streamed uploads and downloads on
// arbitrary bytes, fed whole and in pieces whose sizes come from the input,
// and once more with a download's body sink. Each result must
// keep its promises, not only not crash: the same verdict both ways, bounded
// buffers, a status in range once the headers are complete.

#include "fuzzpromise.h"
#include "qhttpresponseparser_p.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr qint64 MaxKept = 64;

void checkPromises(const QHttpResponseParser &p)
{
    check(p.keptBody().size() <= MaxKept, "kept body bounded");
    check(p.keptBody().size() <= p.bodyReceived(), "kept within received");
    check(p.headers().size() <= QHttpResponseParser::MaxHeaderCount, "header count bounded");
    if (p.headersComplete())
        check(p.status() >= 200 && p.status() <= 599, "final status in range");
    if (p.hasFailed()) {
        check(!p.errorString().isEmpty(), "a failure says why");
        check(p.errorString().size() < 300, "the message is short");
    }
    if (p.contentLength() >= 0 && p.isDone())
        check(p.bodyReceived() == p.contentLength(), "a framed body ends at its length");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const int piece = 1 + data[0] % 16;
    const QByteArrayView input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    QHttpResponseParser whole(MaxKept);
    const qsizetype taken = whole.feed(input);
    check(taken >= 0 && taken <= input.size(), "consumed within the input");
    if (!whole.isDone() && !whole.hasFailed())
        check(taken == input.size(), "a response still open takes everything");
    checkPromises(whole);

    QHttpResponseParser pieces(MaxKept);
    qsizetype pos = 0;
    qsizetype takenInPieces = 0;
    while (pos < input.size()) {
        const qsizetype n = qMin<qsizetype>(piece, input.size() - pos);
        takenInPieces += pieces.feed(input.sliced(pos, n));
        pos += n;
        checkPromises(pieces);
    }
    check(pieces.state() == whole.state(), "same verdict in pieces");
    if (!whole.hasFailed())
        check(takenInPieces == taken, "same length in pieces");
    check(pieces.status() == whole.status(), "same status in pieces");
    check(pieces.keptBody() == whole.keptBody(), "same body in pieces");

    // A download's use: the body of a 2xx handed to a sink from the headers
    // handler, in pieces. The sink gets exactly the bytes counted as body,
    // in order, and nothing is kept; other answers keep their body as before.
    QHttpResponseParser sunk(MaxKept);
    QByteArray sinkBytes;
    bool handlerRan = false;
    sunk.setHeadersHandler([&] {
        check(!handlerRan, "the headers handler runs once");
        handlerRan = true;
        check(sunk.headersComplete(), "the handler sees complete headers");
        if (sunk.status() >= 200 && sunk.status() < 300)
            sunk.setBodySink([&](QByteArrayView bytes) {
                sinkBytes.append(bytes);
                return true;
            });
        return true;
    });
    pos = 0;
    while (pos < input.size()) {
        const qsizetype n = qMin<qsizetype>(piece, input.size() - pos);
        sunk.feed(input.sliced(pos, n));
        pos += n;
    }
    check(sunk.state() == whole.state(), "same verdict with a sink");
    check(!handlerRan || whole.headersComplete(), "the handler ran after the headers");
    if (whole.headersComplete() && !handlerRan)
        check(whole.hasFailed(), "only a refused header block skips the handler");
    if (handlerRan && sunk.status() >= 200 && sunk.status() < 300) {
        check(sunk.keptBody().isEmpty(), "a sunk body is not kept");
        check(sinkBytes.size() == sunk.bodyReceived(), "the sink got every body byte");
        check(whole.keptBody() == sinkBytes.left(MaxKept), "the sink got the same body");
    } else {
        check(sinkBytes.isEmpty(), "no sink without a 2xx");
    }

    whole.endOfInput();
    checkPromises(whole);
    check(whole.isDone() || whole.hasFailed(), "the end decides");
    return 0;
}
