#include "qhttp2requestcodec_p.h"

#include "qhttpheaderfields_p.h"

namespace {

enum FrameType : quint8 {
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
};

enum Flag : quint8 {
    EndStream = 0x1,
    Ack = 0x1,
    EndHeaders = 0x4,
    Padded = 0x8,
    PriorityFlag = 0x20,
};

enum SettingId : quint16 {
    HeaderTableSize = 0x1,
    EnablePush = 0x2,
    InitialWindowSize = 0x4,
    MaxFrameSizeSetting = 0x5,
};

constexpr quint32 OurStream = 1;
constexpr char Preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

quint32 read32(const char *p)
{
    return (quint32(quint8(p[0])) << 24) | (quint32(quint8(p[1])) << 16)
        | (quint32(quint8(p[2])) << 8) | quint32(quint8(p[3]));
}

void append32(QByteArray *out, quint32 value)
{
    out->append(char(value >> 24));
    out->append(char(value >> 16));
    out->append(char(value >> 8));
    out->append(char(value));
}

// RFC 7541 5.1: an integer with an N-bit prefix, the first byte's high bits
// given in `first`.
void appendInteger(QByteArray *out, quint8 first, int prefixBits, quint32 value)
{
    const quint32 max = (1u << prefixBits) - 1;
    if (value < max) {
        out->append(char(first | value));
        return;
    }
    out->append(char(first | max));
    value -= max;
    while (value >= 128) {
        out->append(char((value % 128) | 128));
        value /= 128;
    }
    out->append(char(value));
}

void appendString(QByteArray *out, QByteArrayView bytes)
{
    appendInteger(out, 0x00, 7, quint32(bytes.size())); // raw, not Huffman
    out->append(bytes.data(), bytes.size());
}

// RFC 7541 Appendix A: the static table's names of the request's
// pseudo-headers.
int staticNameIndex(QByteArrayView name)
{
    if (name == ":authority")
        return 1;
    if (name == ":method")
        return 2;
    if (name == ":path")
        return 4;
    if (name == ":scheme")
        return 6;
    return 0;
}

QString errorCodeName(quint32 code)
{
    static const char *const names[] = {
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    };
    if (code < sizeof(names) / sizeof(names[0]))
        return QString::fromLatin1(names[code]);
    return QStringLiteral("error code %1").arg(code);
}

// A few bytes of what the peer sent, printable, for a message.
QString quoted(QByteArrayView bytes)
{
    QString text;
    for (char c : bytes.first(qMin<qsizetype>(bytes.size(), 60))) {
        const uchar u = uchar(c);
        text += (u >= 0x20 && u < 0x7f) ? QChar(u) : QChar(u'?');
    }
    return text;
}

} // namespace

QHttp2RequestCodec::QHttp2RequestCodec(qint64 maxKeptBody)
    : m_maxKeptBody(qMax<qint64>(0, maxKeptBody))
{ }

void QHttp2RequestCodec::appendFrame(QByteArray *out, quint8 type, quint8 flags, quint32 stream,
                                     QByteArrayView payload) const
{
    const quint32 length = quint32(payload.size());
    out->append(char(length >> 16));
    out->append(char(length >> 8));
    out->append(char(length));
    out->append(char(type));
    out->append(char(flags));
    append32(out, stream & 0x7fffffff);
    out->append(payload.data(), payload.size());
}

QByteArray QHttp2RequestCodec::open(const QList<Field> &fields, bool hasBody)
{
    QByteArray out;
    if (m_opened)
        return out;
    m_opened = true;
    out.append(Preface, sizeof(Preface) - 1);
    QByteArray settings;
    const auto setting = [&settings](quint16 id, quint32 value) {
        settings.append(char(id >> 8));
        settings.append(char(id));
        append32(&settings, value);
    };
    setting(EnablePush, 0);
    setting(InitialWindowSize, ReceiveWindow);
    appendFrame(&out, Settings, 0, 0, settings);

    // Literal fields that the peer does not index (RFC 7541 6.2.2 and 6.2.3):
    // nothing of the request stays in the peer's table, and credentials are
    // marked never to be indexed by any intermediary either.
    QByteArray block;
    for (const Field &field : fields) {
        const bool secret = field.first == "authorization" || field.first == "cookie"
            || field.first == "proxy-authorization";
        const quint8 first = secret ? 0x10 : 0x00;
        const int index = staticNameIndex(field.first);
        if (index > 0) {
            appendInteger(&block, first, 4, quint32(index));
        } else {
            block.append(char(first));
            appendString(&block, field.first);
        }
        appendString(&block, field.second);
    }
    m_localEnded = !hasBody;
    // The peer's SETTINGS have not arrived: frames stay within the default
    // size, the rest of a long block in CONTINUATION frames.
    qsizetype pos = 0;
    bool firstFrame = true;
    do {
        const qsizetype n = qMin<qsizetype>(MaxFrameSize, block.size() - pos);
        const bool last = pos + n == block.size();
        quint8 flags = last ? EndHeaders : 0;
        if (firstFrame && !hasBody)
            flags |= EndStream;
        appendFrame(&out, firstFrame ? Headers : Continuation, flags, OurStream,
                    QByteArrayView(block).sliced(pos, n));
        pos += n;
        firstFrame = false;
    } while (pos < block.size());
    return out;
}

qint64 QHttp2RequestCodec::sendWindow() const
{
    if (hasFailed() || m_localEnded || m_done)
        return 0;
    return qMax<qint64>(0, qMin(m_connectionWindow, m_streamWindow));
}

QByteArray QHttp2RequestCodec::data(QByteArrayView bytes, bool last)
{
    QByteArray out;
    if (m_localEnded || hasFailed() || bytes.size() > sendWindow())
        return out;
    const qint64 frame = qMin<qint64>(m_peerMaxFrame, MaxSendFrame);
    out.reserve(bytes.size() + (bytes.size() / frame + 1) * FrameHeaderSize);
    qsizetype pos = 0;
    do {
        const qsizetype n = qsizetype(qMin<qint64>(frame, bytes.size() - pos));
        const bool end = last && pos + n == bytes.size();
        appendFrame(&out, Data, end ? EndStream : 0, OurStream, bytes.sliced(pos, n));
        pos += n;
    } while (pos < bytes.size());
    m_connectionWindow -= bytes.size();
    m_streamWindow -= bytes.size();
    m_localEnded = last;
    return out;
}

QByteArray QHttp2RequestCodec::takeOutput()
{
    return std::exchange(m_out, QByteArray());
}

QByteArray QHttp2RequestCodec::header(QByteArrayView name) const
{
    return qHttpHeaderValue(m_headers, name);
}

void QHttp2RequestCodec::fail(const QString &message)
{
    if (m_error.isEmpty())
        m_error = message;
}

quint32 QHttp2RequestCodec::frameLength(QByteArrayView frame)
{
    return (quint32(quint8(frame[0])) << 16) | (quint32(quint8(frame[1])) << 8)
        | quint32(quint8(frame[2]));
}

// The checks a frame's header allows before its payload is read.
bool QHttp2RequestCodec::checkFrameHeader(QByteArrayView frame)
{
    const quint8 type = quint8(frame[3]);
    const quint8 flags = quint8(frame[4]);
    if (!m_sawSettings && (type != Settings || (flags & Ack))) {
        // An HTTP/1.1 server answers the connection preface with something
        // like "HTTP/1.1 400 Bad Request".
        fail(QStringLiteral("the server did not answer with HTTP/2 (it sent \"%1\")")
                 .arg(quoted(frame)));
        return false;
    }
    if (frameLength(frame) > quint32(MaxFrameSize)) {
        fail(QStringLiteral("the server sent a frame of %1 bytes, over the %2 allowed")
                 .arg(frameLength(frame))
                 .arg(MaxFrameSize));
        return false;
    }
    return true;
}

bool QHttp2RequestCodec::handleFrame(QByteArrayView frame)
{
    ++m_framesRead;
    return handleFrame(quint8(frame[3]), quint8(frame[4]), read32(frame.data() + 5) & 0x7fffffff,
                       frame.sliced(FrameHeaderSize));
}

bool QHttp2RequestCodec::feed(QByteArrayView bytes)
{
    if (hasFailed())
        return false;
    qsizetype pos = 0;
    for (;;) {
        if (!m_in.isEmpty()) {
            // A frame begun in an earlier call: at most MaxFrameSize + 9
            // bytes are ever kept.
            const qsizetype want = m_in.size() < FrameHeaderSize
                ? FrameHeaderSize
                : FrameHeaderSize + qsizetype(frameLength(m_in));
            const qsizetype take = qMin(want - m_in.size(), bytes.size() - pos);
            m_in.append(bytes.data() + pos, take);
            pos += take;
            if (m_in.size() < FrameHeaderSize)
                return true;
            if (m_in.size() == FrameHeaderSize && want == FrameHeaderSize
                && !checkFrameHeader(m_in))
                return false;
            const qsizetype whole = FrameHeaderSize + qsizetype(frameLength(m_in));
            if (m_in.size() < whole) {
                if (pos >= bytes.size())
                    return true;
                continue;
            }
            const QByteArray frame = std::exchange(m_in, QByteArray());
            if (!handleFrame(frame))
                return false;
            continue;
        }
        const QByteArrayView rest = bytes.sliced(pos);
        if (rest.size() < FrameHeaderSize) {
            m_in = rest.toByteArray();
            return true;
        }
        if (!checkFrameHeader(rest))
            return false;
        const qsizetype whole = FrameHeaderSize + qsizetype(frameLength(rest));
        if (rest.size() < whole) {
            m_in = rest.toByteArray();
            return true;
        }
        if (!handleFrame(rest.first(whole)))
            return false;
        pos += whole;
    }
}

bool QHttp2RequestCodec::handleFrame(quint8 type, quint8 flags, quint32 stream,
                                     QByteArrayView payload)
{
    // RFC 9113 6.10: nothing may come between a header block's frames.
    if (m_blockOpen && type != Continuation) {
        fail(QStringLiteral("the server interrupted a header block"));
        return false;
    }
    switch (type) {
    case Data:
        return onData(flags, stream, payload);
    case Headers:
        return onHeaders(flags, stream, payload);
    case Priority:
        if (payload.size() != 5) {
            fail(QStringLiteral("the server sent a malformed PRIORITY frame"));
            return false;
        }
        return true;
    case RstStream:
        return onRstStream(stream, payload);
    case Settings:
        return onSettings(flags, stream, payload);
    case PushPromise:
        fail(QStringLiteral("the server pushed a stream although push was disabled"));
        return false;
    case Ping:
        return onPing(flags, stream, payload);
    case GoAway:
        return onGoAway(stream, payload);
    case WindowUpdate:
        return onWindowUpdate(stream, payload);
    case Continuation:
        return onContinuation(flags, stream, payload);
    default:
        return true; // RFC 9113 5.5: unknown frame types are ignored
    }
}

bool QHttp2RequestCodec::onSettings(quint8 flags, quint32 stream, QByteArrayView payload)
{
    if (stream != 0) {
        fail(QStringLiteral("the server sent SETTINGS on a stream"));
        return false;
    }
    if (flags & Ack) {
        if (!payload.isEmpty()) {
            fail(QStringLiteral("the server sent a SETTINGS acknowledgement with a payload"));
            return false;
        }
        return true;
    }
    if (payload.size() % 6 != 0) {
        fail(QStringLiteral("the server sent a SETTINGS frame of %1 bytes").arg(payload.size()));
        return false;
    }
    m_sawSettings = true;
    for (qsizetype i = 0; i < payload.size(); i += 6) {
        const quint16 id = quint16((quint8(payload[i]) << 8) | quint8(payload[i + 1]));
        const quint32 value = read32(payload.data() + i + 2);
        switch (id) {
        case EnablePush:
            if (value != 0) {
                fail(QStringLiteral("the server sent SETTINGS_ENABLE_PUSH %1").arg(value));
                return false;
            }
            break;
        case InitialWindowSize: {
            if (value > MaxWindow) {
                fail(QStringLiteral("the server's initial window %1 is over 2^31-1").arg(value));
                return false;
            }
            // RFC 9113 6.9.2: the open stream's window moves by the change,
            // and may go negative.
            m_streamWindow += qint64(value) - m_peerInitialWindow;
            m_peerInitialWindow = value;
            if (m_streamWindow > MaxWindow) {
                fail(QStringLiteral("the server's initial window overflows the stream's window"));
                return false;
            }
            break;
        }
        case MaxFrameSizeSetting:
            if (value < 16384 || value > 16777215) {
                fail(QStringLiteral("the server's maximum frame size %1 is out of range")
                         .arg(value));
                return false;
            }
            m_peerMaxFrame = value;
            break;
        case HeaderTableSize: // this side's encoder never indexes
        default:
            break;
        }
    }
    appendFrame(&m_out, Settings, Ack, 0, {});
    return true;
}

bool QHttp2RequestCodec::onWindowUpdate(quint32 stream, QByteArrayView payload)
{
    if (payload.size() != 4) {
        fail(QStringLiteral("the server sent a WINDOW_UPDATE of %1 bytes").arg(payload.size()));
        return false;
    }
    if (stream != 0 && stream != OurStream) {
        fail(QStringLiteral("the server sent WINDOW_UPDATE for stream %1, never opened")
                 .arg(stream));
        return false;
    }
    const quint32 increment = read32(payload.data()) & 0x7fffffff;
    if (increment == 0) {
        fail(QStringLiteral("the server sent a WINDOW_UPDATE of 0"));
        return false;
    }
    qint64 &window = stream == 0 ? m_connectionWindow : m_streamWindow;
    window += increment;
    if (window > MaxWindow) {
        fail(QStringLiteral("the server's WINDOW_UPDATE overflows the flow-control window"));
        return false;
    }
    return true;
}

bool QHttp2RequestCodec::onPing(quint8 flags, quint32 stream, QByteArrayView payload)
{
    if (stream != 0 || payload.size() != 8) {
        fail(QStringLiteral("the server sent a malformed PING"));
        return false;
    }
    if (!(flags & Ack))
        appendFrame(&m_out, Ping, Ack, 0, payload);
    return true;
}

bool QHttp2RequestCodec::onGoAway(quint32 stream, QByteArrayView payload)
{
    if (stream != 0 || payload.size() < 8) {
        fail(QStringLiteral("the server sent a malformed GOAWAY"));
        return false;
    }
    const quint32 lastStream = read32(payload.data()) & 0x7fffffff;
    const quint32 code = read32(payload.data() + 4);
    const QString debug = payload.size() > 8
        ? QStringLiteral(" (\"%1\")").arg(quoted(payload.sliced(8)))
        : QString();
    if (lastStream < OurStream) {
        m_refused = m_status == 0 && m_interim == 0;
        fail(QStringLiteral("the server closed the connection before it processed the request: "
                            "GOAWAY %1%2")
                 .arg(errorCodeName(code), debug));
        return false;
    }
    if (code != 0 && !m_done) {
        fail(QStringLiteral("the server ended the connection: GOAWAY %1%2")
                 .arg(errorCodeName(code), debug));
        return false;
    }
    return true; // the request is processed; its answer follows
}

bool QHttp2RequestCodec::onRstStream(quint32 stream, QByteArrayView payload)
{
    if (payload.size() != 4) {
        fail(QStringLiteral("the server sent a RST_STREAM of %1 bytes").arg(payload.size()));
        return false;
    }
    if (stream != OurStream) {
        fail(QStringLiteral("the server reset stream %1, never opened").arg(stream));
        return false;
    }
    const quint32 code = read32(payload.data());
    // RFC 9113 8.1: after a complete answer a server may stop the rest of
    // the request's body with NO_ERROR.
    if (m_done)
        return true;
    // REFUSED_STREAM: not processed at all (RFC 9113 8.7).
    m_refused = code == 7 && m_status == 0 && m_interim == 0;
    fail(QStringLiteral("the server reset the request: %1").arg(errorCodeName(code)));
    return false;
}

bool QHttp2RequestCodec::onHeaders(quint8 flags, quint32 stream, QByteArrayView payload)
{
    if (stream != OurStream) {
        fail(QStringLiteral("the server sent headers on stream %1, never opened").arg(stream));
        return false;
    }
    qsizetype start = 0;
    qsizetype end = payload.size();
    if (flags & Padded) {
        if (payload.isEmpty() || quint8(payload[0]) >= payload.size()) {
            fail(QStringLiteral("the server sent a HEADERS frame with too much padding"));
            return false;
        }
        end -= quint8(payload[0]);
        start = 1;
    }
    if (flags & PriorityFlag)
        start += 5;
    if (start > end) {
        fail(QStringLiteral("the server sent a HEADERS frame too short for its flags"));
        return false;
    }
    if (m_done) {
        fail(QStringLiteral("the server sent headers after the end of the answer"));
        return false;
    }
    m_block = QByteArray(payload.data() + start, end - start);
    m_blockOpen = true;
    m_blockEndsStream = flags & EndStream;
    m_blockStream = stream;
    if (flags & EndHeaders)
        return headerBlockEnded();
    return true;
}

bool QHttp2RequestCodec::onContinuation(quint8 flags, quint32 stream, QByteArrayView payload)
{
    if (!m_blockOpen || stream != m_blockStream) {
        fail(QStringLiteral("the server sent CONTINUATION without a header block"));
        return false;
    }
    if (m_block.size() + payload.size() > MaxHeaderBlock) {
        fail(QStringLiteral("the server's header block is over %1 bytes").arg(MaxHeaderBlock));
        return false;
    }
    m_block.append(payload.data(), payload.size());
    if (flags & EndHeaders)
        return headerBlockEnded();
    return true;
}

bool QHttp2RequestCodec::headerBlockEnded()
{
    const QByteArray block = std::exchange(m_block, QByteArray());
    m_blockOpen = false;
    QList<Field> fields;
    // Decoded even when it is to be refused: the table must stay in step.
    if (!m_hpack.decode(block, &fields)) {
        fail(QStringLiteral("the server's header block is malformed: %1")
                 .arg(m_hpack.errorString()));
        return false;
    }
    const bool trailers = m_status >= 200;
    int status = 0;
    bool regularSeen = false;
    for (const Field &field : fields) {
        const QByteArray &name = field.first;
        if (name.isEmpty()) {
            fail(QStringLiteral("the server sent a header without a name"));
            return false;
        }
        for (char c : name) {
            if ((c >= 'A' && c <= 'Z') || uchar(c) <= 0x20 || uchar(c) >= 0x7f) {
                fail(QStringLiteral("the server sent a header name that is not lowercase "
                                    "token characters"));
                return false;
            }
        }
        for (char c : field.second) {
            if (c == '\0' || c == '\r' || c == '\n') {
                fail(QStringLiteral("the server sent a control character in header \"%1\"")
                         .arg(quoted(name)));
                return false;
            }
        }
        if (name.startsWith(':')) {
            if (name != ":status" || trailers || regularSeen || status != 0) {
                fail(QStringLiteral("the server sent the pseudo-header \"%1\" where it is not "
                                    "allowed")
                         .arg(quoted(name)));
                return false;
            }
            const QByteArray &value = field.second;
            if (value.size() != 3 || value[0] < '1' || value[0] > '5' || value[1] < '0'
                || value[1] > '9' || value[2] < '0' || value[2] > '9') {
                fail(QStringLiteral("the server sent the status \"%1\"").arg(quoted(value)));
                return false;
            }
            status = value.toInt();
            continue;
        }
        regularSeen = true;
    }
    if (trailers) {
        if (!m_blockEndsStream || m_trailersSeen) {
            fail(QStringLiteral("the server sent a second header block that does not end the "
                                "answer"));
            return false;
        }
        m_trailersSeen = true;
        return endOfStream();
    }
    if (status == 0) {
        fail(QStringLiteral("the server's answer has no :status"));
        return false;
    }
    if (status < 200) {
        // Interim answers (100 Continue, 103 Early Hints); 101 has no place in HTTP/2.
        if (status == 101 || m_blockEndsStream || ++m_interim > MaxInterimAnswers) {
            fail(QStringLiteral("the server sent the interim answer %1 where it is not allowed")
                     .arg(status));
            return false;
        }
        return true;
    }
    m_status = status;
    for (const Field &field : fields) {
        if (!field.first.startsWith(':'))
            m_headers.append(field);
    }
    const QByteArray length = header("content-length");
    if (!length.isEmpty()) {
        bool ok = false;
        const qint64 value = length.toLongLong(&ok);
        if (!ok || value < 0 || length.contains(',') || length.front() == '+') {
            fail(QStringLiteral("the server sent content-length \"%1\"").arg(quoted(length)));
            return false;
        }
        m_contentLength = value;
    }
    if (m_blockEndsStream)
        return endOfStream();
    return true;
}

bool QHttp2RequestCodec::onData(quint8 flags, quint32 stream, QByteArrayView payload)
{
    if (stream != OurStream) {
        fail(QStringLiteral("the server sent data on stream %1, never opened").arg(stream));
        return false;
    }
    if (m_status < 200 || m_done || m_trailersSeen) {
        fail(QStringLiteral("the server sent data outside an answer's body"));
        return false;
    }
    // Flow control counts the whole frame, padding included (RFC 9113 6.9.1).
    if (payload.size() > m_receiveConnection || payload.size() > m_receiveStream) {
        fail(QStringLiteral("the server sent more data than its flow-control window"));
        return false;
    }
    qsizetype end = payload.size();
    qsizetype start = 0;
    if (flags & Padded) {
        if (payload.isEmpty() || quint8(payload[0]) >= payload.size()) {
            fail(QStringLiteral("the server sent a DATA frame with too much padding"));
            return false;
        }
        end -= quint8(payload[0]);
        start = 1;
    }
    m_receiveConnection -= payload.size();
    m_receiveStream -= payload.size();
    const QByteArrayView body = payload.sliced(start, end - start);
    m_bodyReceived += body.size();
    if (m_contentLength >= 0 && m_bodyReceived > m_contentLength) {
        fail(QStringLiteral("the server's answer is longer than its content-length %1")
                 .arg(m_contentLength));
        return false;
    }
    const qint64 room = m_maxKeptBody - m_kept.size();
    if (room > 0)
        m_kept.append(body.data(), qMin<qint64>(room, body.size()));
    if (flags & EndStream)
        return endOfStream();
    if (!payload.isEmpty()) {
        // Nothing of the body is held back: the windows open again at once.
        QByteArray increment;
        append32(&increment, quint32(payload.size()));
        appendFrame(&m_out, WindowUpdate, 0, 0, increment);
        appendFrame(&m_out, WindowUpdate, 0, OurStream, increment);
        m_receiveConnection += payload.size();
        m_receiveStream += payload.size();
    }
    return true;
}

bool QHttp2RequestCodec::endOfStream()
{
    if (m_contentLength >= 0 && m_bodyReceived != m_contentLength) {
        fail(QStringLiteral("the server's answer ended after %1 of its content-length %2 bytes")
                 .arg(m_bodyReceived)
                 .arg(m_contentLength));
        return false;
    }
    m_done = true;
    return true;
}
