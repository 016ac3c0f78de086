#include "qhttpresponseparser_p.h"

#include "qattachmentnames_p.h"
#include "qhttpheaderfields_p.h"

#include <algorithm>

namespace {

bool isTokenChar(char c)
{
    return QAttachmentNames::isTokenChar(char16_t(uchar(c)));
}

// Printable, for quoting a few bytes of what the server sent in a message.
QString quoted(QByteArrayView bytes)
{
    QString out;
    for (const char c : bytes.first(qMin<qsizetype>(bytes.size(), 40))) {
        if (c >= 0x20 && c < 0x7f)
            out += QLatin1Char(c);
        else
            out += QStringLiteral("\\x%1").arg(uchar(c), 2, 16, QLatin1Char('0'));
    }
    return out;
}

// A non-negative decimal number, at most 18 digits (no overflow); -1 otherwise.
qint64 parseDecimal(QByteArrayView digits)
{
    if (digits.isEmpty() || digits.size() > 18)
        return -1;
    qint64 value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

} // namespace

QByteArray QHttpResponseParser::header(QByteArrayView name) const
{
    return qHttpHeaderValue(m_headers, name);
}

void QHttpResponseParser::fail(const QString &message)
{
    if (m_state == Failed)
        return;
    m_state = Failed;
    m_error = message;
    m_line.clear();
}

bool QHttpResponseParser::takeLine(QByteArrayView data, qsizetype *pos, QByteArray *line)
{
    const qsizetype start = *pos;
    const qsizetype newline = data.indexOf('\n', start);
    const qsizetype end = newline < 0 ? data.size() : newline;
    if (m_line.size() + (end - start) > MaxLineLength) {
        fail(QStringLiteral("a line of the response is longer than %1 bytes").arg(MaxLineLength));
        return false;
    }
    m_line.append(data.sliced(start, end - start));
    if (newline < 0) {
        *pos = data.size();
        return false;
    }
    *pos = newline + 1;
    if (m_line.endsWith('\r'))
        m_line.chop(1);
    *line = std::exchange(m_line, QByteArray());
    return true;
}

void QHttpResponseParser::parseStatusLine(const QByteArray &line)
{
    // HTTP/1.1 SP 3DIGIT SP reason (the reason may be empty, the SP before it
    // is sometimes missing too).
    if (line.size() < 12 || !line.startsWith("HTTP/1.") || (line[7] != '0' && line[7] != '1')
        || line[8] != ' ') {
        fail(QStringLiteral("not an HTTP/1.x status line: \"%1\"").arg(quoted(line)));
        return;
    }
    int status = 0;
    for (int i = 9; i < 12; ++i) {
        const char c = line[i];
        if (c < '0' || c > '9') {
            fail(QStringLiteral("malformed status code in \"%1\"").arg(quoted(line)));
            return;
        }
        status = status * 10 + (c - '0');
    }
    if (status < 100 || status > 599 || (line.size() > 12 && line[12] != ' ')) {
        fail(QStringLiteral("malformed status line \"%1\"").arg(quoted(line)));
        return;
    }
    QByteArray reason = line.mid(13);
    for (const char c : reason) {
        if ((uchar(c) < 0x20 && c != '\t') || c == 0x7f) {
            fail(QStringLiteral("control character in the status line"));
            return;
        }
    }
    m_status = status;
    m_http10 = line[7] == '0';
    m_reason = reason.left(200);
    m_interimAnswer = status < 200;
    m_headers.clear();
    m_headerBytes = 0;
    m_state = Headers;
}

void QHttpResponseParser::parseHeaderLine(const QByteArray &line)
{
    m_headerBytes += int(line.size()) + 2;
    if (m_headerBytes > MaxHeaderBytes) {
        fail(QStringLiteral("the response's header block exceeds %1 bytes").arg(MaxHeaderBytes));
        return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
        fail(QStringLiteral("folded header line in the response"));
        return;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0) {
        fail(QStringLiteral("malformed header line \"%1\"").arg(quoted(line)));
        return;
    }
    const QByteArray name = line.left(colon);
    for (const char c : name) {
        if (!isTokenChar(c)) {
            fail(QStringLiteral("malformed header name \"%1\"").arg(quoted(name)));
            return;
        }
    }
    const QByteArray value = line.mid(colon + 1).trimmed();
    for (const char c : value) {
        if ((uchar(c) < 0x20 && c != '\t') || c == 0x7f) {
            fail(QStringLiteral("control character in the value of header \"%1\"")
                     .arg(quoted(name)));
            return;
        }
    }
    if (m_headers.size() >= MaxHeaderCount) {
        fail(QStringLiteral("the response has more than %1 header fields").arg(MaxHeaderCount));
        return;
    }
    m_headers.append({name, value});
}

void QHttpResponseParser::headersEnded()
{
    if (m_interimAnswer) {
        // 100 Continue, 103 Early Hints: the final answer follows.
        if (++m_interim > MaxInterimAnswers) {
            fail(QStringLiteral("more than %1 interim answers").arg(MaxInterimAnswers));
            return;
        }
        if (m_status == 101) {
            fail(QStringLiteral("the server switched protocols (101)"));
            return;
        }
        m_status = 0;
        m_reason.clear();
        m_headers.clear();
        m_state = StatusLine;
        return;
    }
    m_state = Body;
    m_headersDone = true;
    const QByteArray transferEncoding = header("Transfer-Encoding").trimmed().toLower();
    const bool hasLength = std::any_of(m_headers.cbegin(), m_headers.cend(), [](const auto &p) {
        return p.first.compare("Content-Length", Qt::CaseInsensitive) == 0;
    });
    if (m_status == 204 || m_status == 304) {
        m_bodyMode = NoBody;
    } else if (!transferEncoding.isEmpty()) {
        // A length beside an encoding is a smuggling attempt or a broken
        // server: refuse rather than pick one.
        if (hasLength) {
            fail(QStringLiteral("the HTTP %1 response has both Transfer-Encoding and "
                                "Content-Length")
                     .arg(m_status));
            return;
        }
        if (transferEncoding == "chunked") {
            m_bodyMode = Chunked;
            m_chunked = true;
            m_chunkState = ChunkSize;
        } else if (transferEncoding.endsWith("chunked")) {
            fail(QStringLiteral("unsupported Transfer-Encoding \"%1\"")
                     .arg(quoted(transferEncoding)));
            return;
        } else {
            m_bodyMode = UntilClose; // RFC 9112 6.3: read until the connection closes
        }
    } else if (hasLength) {
        // Several fields, or a list, must all say the same number.
        qint64 length = -1;
        const QList<QByteArray> values = header("Content-Length").split(',');
        for (const QByteArray &raw : values) {
            const qint64 one = parseDecimal(raw.trimmed());
            if (one < 0 || (length >= 0 && one != length)) {
                fail(QStringLiteral("malformed Content-Length \"%1\" in the HTTP %2 response")
                         .arg(quoted(header("Content-Length")))
                         .arg(m_status));
                return;
            }
            length = one;
        }
        m_contentLength = length;
        m_remaining = length;
        m_bodyMode = Length;
    } else {
        m_bodyMode = UntilClose;
    }
    if (m_onHeaders && !m_onHeaders()) {
        fail(QStringLiteral("the HTTP %1 response was not taken").arg(m_status));
        return;
    }
    if (m_bodyMode == NoBody || (m_bodyMode == Length && m_remaining == 0))
        m_state = Done;
}

void QHttpResponseParser::keep(QByteArrayView bytes)
{
    m_bodyReceived += bytes.size();
    if (m_bodySink) {
        if (!m_bodySink(bytes))
            fail(QStringLiteral("the body of the HTTP %1 response could not be stored")
                     .arg(m_status));
        return;
    }
    const qint64 room = m_maxKeptBody - m_kept.size();
    if (room > 0)
        m_kept.append(bytes.first(qMin<qint64>(room, bytes.size())));
}

qsizetype QHttpResponseParser::feed(QByteArrayView data)
{
    qsizetype pos = 0;
    while (pos < data.size() && m_state != Done && m_state != Failed) {
        QByteArray line;
        switch (m_state) {
        case StatusLine:
            if (!takeLine(data, &pos, &line))
                break;
            if (line.isEmpty() && m_interim > 0)
                continue; // tolerated between answers
            parseStatusLine(line);
            break;
        case Headers:
            if (!takeLine(data, &pos, &line))
                break;
            if (line.isEmpty())
                headersEnded();
            else
                parseHeaderLine(line);
            break;
        case Body:
            switch (m_bodyMode) {
            case NoBody:
                m_state = Done;
                break;
            case UntilClose: {
                keep(data.sliced(pos));
                pos = data.size();
                break;
            }
            case Length: {
                const qint64 n = qMin<qint64>(m_remaining, data.size() - pos);
                keep(data.sliced(pos, n));
                pos += n;
                m_remaining -= n;
                if (m_remaining == 0 && m_state != Failed)
                    m_state = Done;
                break;
            }
            case Chunked:
                switch (m_chunkState) {
                case ChunkSize: {
                    if (!takeLine(data, &pos, &line))
                        break;
                    qsizetype end = line.indexOf(';');
                    QByteArrayView digits = QByteArrayView(line).first(end < 0 ? line.size() : end);
                    digits = digits.trimmed();
                    if (digits.isEmpty() || digits.size() > 15) {
                        fail(QStringLiteral("malformed chunk size \"%1\"").arg(quoted(line)));
                        break;
                    }
                    qint64 size = 0;
                    for (const char c : digits) {
                        int v = -1;
                        if (c >= '0' && c <= '9')
                            v = c - '0';
                        else if (c >= 'a' && c <= 'f')
                            v = c - 'a' + 10;
                        else if (c >= 'A' && c <= 'F')
                            v = c - 'A' + 10;
                        if (v < 0) {
                            fail(QStringLiteral("malformed chunk size \"%1\"").arg(quoted(line)));
                            break;
                        }
                        size = size * 16 + v;
                    }
                    if (m_state == Failed)
                        break;
                    m_remaining = size;
                    m_chunkState = size == 0 ? Trailers : ChunkData;
                    break;
                }
                case ChunkData: {
                    const qint64 n = qMin<qint64>(m_remaining, data.size() - pos);
                    keep(data.sliced(pos, n));
                    pos += n;
                    m_remaining -= n;
                    if (m_remaining == 0)
                        m_chunkState = ChunkDataEnd;
                    break;
                }
                case ChunkDataEnd:
                    if (!takeLine(data, &pos, &line))
                        break;
                    if (!line.isEmpty()) {
                        fail(QStringLiteral("chunk data longer than its size"));
                        break;
                    }
                    m_chunkState = ChunkSize;
                    break;
                case Trailers:
                    if (!takeLine(data, &pos, &line))
                        break;
                    if (line.isEmpty()) {
                        m_state = Done;
                        break;
                    }
                    // Trailer fields are read against the same bounds and dropped.
                    m_headerBytes += int(line.size()) + 2;
                    if (m_headerBytes > MaxHeaderBytes)
                        fail(QStringLiteral("the response's trailers exceed %1 bytes")
                                 .arg(MaxHeaderBytes));
                    break;
                }
                break;
            }
            break;
        case Done:
        case Failed:
            break;
        }
    }
    return pos;
}

void QHttpResponseParser::endOfInput()
{
    if (m_state == Done || m_state == Failed)
        return;
    if (m_state == Body && m_bodyMode == UntilClose) {
        m_state = Done;
        return;
    }
    if (m_state == Body && m_bodyMode == Length) {
        fail(QStringLiteral("short body: the connection ended after %1 of the announced %2 "
                            "bytes")
                 .arg(m_bodyReceived)
                 .arg(m_contentLength));
        return;
    }
    if (m_state == Body) {
        fail(QStringLiteral("the connection ended inside the chunked body after %1 bytes")
                 .arg(m_bodyReceived));
        return;
    }
    if (m_state == StatusLine && m_line.isEmpty() && m_interim == 0)
        fail(QStringLiteral("the connection ended before a response"));
    else
        fail(QStringLiteral("the connection ended inside the response's header block"));
}

bool QHttpResponseParser::allowsReuse() const
{
    if (m_state != Done || m_bodyMode == UntilClose || m_http10)
        return false;
    const QList<QByteArray> tokens = header("Connection").split(',');
    for (const QByteArray &token : tokens) {
        if (token.trimmed().compare("close", Qt::CaseInsensitive) == 0)
            return false;
    }
    return true;
}
