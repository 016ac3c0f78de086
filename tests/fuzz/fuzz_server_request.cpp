// libFuzzer target for the attachments server's request parsing: a request
// head, and a chunked body behind it, must parse to the same result whether
// the bytes arrive at once or split anywhere, and what is accepted must be
// free of the bytes the parser promises to refuse.

#include "httprequestparser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

void check(bool condition)
{
    if (!condition)
        std::abort();
}

struct Result
{
    HttpRequestParser::State state;
    int status;
    qsizetype consumed;
    HttpRequestHead head;
};

Result parseHead(const char *data, qsizetype size, qsizetype piece, const HttpLimits &limits)
{
    HttpRequestParser parser(limits);
    qsizetype consumed = 0;
    for (qsizetype at = 0; at < size; at += piece) {
        const qsizetype length = qMin(piece, size - at);
        const qsizetype used = parser.feed(data + at, length);
        check(used >= 0 && used <= length);
        consumed += used;
        if (used != length)
            break;
    }
    return {parser.state(), parser.errorStatus(), consumed, parser.head()};
}

QByteArray decodeBody(const char *data, qsizetype size, qsizetype piece,
                      HttpChunkedDecoder::State *state, qsizetype *consumed)
{
    HttpChunkedDecoder decoder(64, 256);
    QByteArray body;
    *consumed = 0;
    for (qsizetype at = 0; at < size && decoder.state() == HttpChunkedDecoder::State::Running;
         at += piece) {
        const char *input = data + at;
        qsizetype length = qMin(piece, size - at);
        while (length > 0 && decoder.state() == HttpChunkedDecoder::State::Running) {
            const HttpChunkedDecoder::Step step = decoder.feed(input, length);
            check(step.consumed > 0 && step.consumed <= length);
            check(step.offset >= 0 && step.offset + step.length <= step.consumed);
            body.append(input + step.offset, step.length);
            input += step.consumed;
            length -= step.consumed;
            *consumed += step.consumed;
        }
    }
    check(decoder.decodedBytes() == body.size());
    *state = decoder.state();
    return body;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (size < 1)
        return 0;
    // The first byte picks how the rest is split; small limits reach the
    // limit paths with small inputs.
    const qsizetype piece = 1 + bytes[0] % 17;
    const char *data = reinterpret_cast<const char *>(bytes + 1);
    const qsizetype length = qsizetype(size - 1);
    HttpLimits limits;
    limits.maxRequestLine = 256;
    limits.maxHeaderBlock = 1024;
    limits.maxHeaderCount = 16;

    const Result whole = parseHead(data, length, qMax<qsizetype>(1, length), limits);
    const Result split = parseHead(data, length, piece, limits);
    check(whole.state == split.state);
    check(whole.status == split.status);
    check(whole.consumed == split.consumed);
    if (whole.state != HttpRequestParser::State::Complete)
        return 0;
    check(whole.head.method == split.head.method && whole.head.target == split.head.target);
    check(whole.head.headers == split.head.headers);
    check(whole.head.target.startsWith('/'));
    check(whole.head.headers.size() <= limits.maxHeaderCount);
    for (const auto &header : whole.head.headers) {
        const QByteArray both = header.first + header.second;
        for (char c : both)
            check(c != '\r' && c != '\n' && c != '\0');
    }
    check(!(whole.head.chunked && !whole.head.header("content-length").isNull()));
    check(whole.head.contentLength >= 0);

    if (whole.head.chunked) {
        HttpChunkedDecoder::State wholeState;
        HttpChunkedDecoder::State splitState;
        qsizetype wholeConsumed = 0;
        qsizetype splitConsumed = 0;
        const char *body = data + whole.consumed;
        const qsizetype bodySize = length - whole.consumed;
        const QByteArray a
            = decodeBody(body, bodySize, qMax<qsizetype>(1, bodySize), &wholeState, &wholeConsumed);
        const QByteArray b = decodeBody(body, bodySize, piece, &splitState, &splitConsumed);
        check(wholeState == splitState);
        if (wholeState != HttpChunkedDecoder::State::Error) {
            check(a == b);
            check(wholeConsumed == splitConsumed);
        }
    }
    return 0;
}
