#include "httprequestparser.h"

#include <cstring>

namespace {

// tchar of RFC 9110, section 5.6.2: what a method or a header name is made of.
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(const QByteArray &text)
{
    if (text.isEmpty())
        return false;
    for (char c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

// Field values: visible characters, blanks and bytes above ASCII; never a
// control character (CR, LF and NUL included) other than tab.
bool isValueChar(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
}

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

QByteArray trimmedBlanks(const QByteArray &text)
{
    qsizetype begin = 0;
    qsizetype end = text.size();
    while (begin < end && isBlank(text.at(begin)))
        ++begin;
    while (end > begin && isBlank(text.at(end - 1)))
        --end;
    return text.mid(begin, end - begin);
}

// 1*DIGIT without a sign, blanks, leading zeros or overflow.
bool parseLength(const QByteArray &text, qint64 *value)
{
    if (text.isEmpty() || text.size() > 18 || (text.size() > 1 && text.at(0) == '0'))
        return false;
    qint64 result = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        result = result * 10 + (c - '0');
    }
    *value = result;
    return true;
}

QList<QByteArray> tokenList(const QByteArray &value)
{
    QList<QByteArray> tokens;
    for (const QByteArray &part : value.split(',')) {
        const QByteArray token = trimmedBlanks(part).toLower();
        if (!token.isEmpty())
            tokens.append(token);
    }
    return tokens;
}

} // namespace

QByteArray HttpRequestHead::header(const char *lowerCaseName) const
{
    for (const auto &header : headers) {
        if (header.first == lowerCaseName)
            return header.second;
    }
    return {};
}

QByteArray HttpRequestHead::path() const
{
    const qsizetype query = target.indexOf('?');
    return query < 0 ? target : target.left(query);
}

HttpRequestParser::HttpRequestParser(const HttpLimits &limits)
    : m_limits(limits)
{ }

void HttpRequestParser::reset()
{
    m_head = HttpRequestHead();
    m_line.clear();
    m_headerBytes = 0;
    m_leadingBytes = 0;
    m_requestLineSeen = false;
    m_state = State::Idle;
    m_errorStatus = 0;
    m_errorReason.clear();
}

bool HttpRequestParser::fail(int status, const char *reason)
{
    m_state = State::Error;
    m_errorStatus = status;
    m_errorReason = reason;
    m_line.clear();
    return false;
}

qsizetype HttpRequestParser::feed(const char *data, qsizetype size)
{
    if (m_state == State::Complete || m_state == State::Error)
        return 0;
    qsizetype position = 0;
    while (position < size) {
        // Only the new bytes are searched: a line that arrives a byte at a
        // time costs no more than one that arrives whole.
        const auto *newline = static_cast<const char *>(
            std::memchr(data + position, '\n', size_t(size - position)));
        const qsizetype end = newline ? qsizetype(newline - data) + 1 : size;
        const qsizetype room = m_requestLineSeen
            ? m_limits.maxHeaderBlock - m_headerBytes - m_line.size()
            : m_limits.maxRequestLine + 2 - m_line.size();
        if (end - position > room) {
            if (m_requestLineSeen)
                fail(431, "the request header block is too large");
            else
                fail(414, "the request line is too long");
            return position + qMax<qsizetype>(0, room);
        }
        m_line.append(data + position, end - position);
        position = end;
        m_state = State::Partial;
        if (!newline)
            break;
        if (!takeLine(m_line) || m_state == State::Complete)
            return position;
        m_line.truncate(0);
    }
    return position;
}

bool HttpRequestParser::takeLine(const QByteArray &line)
{
    if (line.size() < 2 || line.at(line.size() - 2) != '\r')
        return fail(400, "lines must end with CRLF");
    const QByteArray content = line.left(line.size() - 2);
    if (!m_requestLineSeen) {
        if (content.isEmpty()) {
            // Blank lines before a request are tolerated, a few of them.
            m_leadingBytes += 2;
            if (m_leadingBytes > 8)
                return fail(400, "no request line");
            return true;
        }
        m_requestLineSeen = true;
        return parseRequestLine(content);
    }
    m_headerBytes += line.size();
    if (content.isEmpty())
        return frame();
    if (m_head.headers.size() >= m_limits.maxHeaderCount)
        return fail(431, "too many header fields");
    return parseHeaderLine(content);
}

bool HttpRequestParser::parseRequestLine(const QByteArray &line)
{
    // method SP request-target SP HTTP-version, single spaces only.
    const qsizetype first = line.indexOf(' ');
    const qsizetype second = first < 0 ? -1 : line.indexOf(' ', first + 1);
    if (first < 0 || second < 0 || line.indexOf(' ', second + 1) >= 0) {
        m_head.target = line; // raw, for the log
        return fail(400, "malformed request line");
    }
    const QByteArray method = line.left(first);
    QByteArray target = line.mid(first + 1, second - first - 1);
    const QByteArray version = line.mid(second + 1);
    // Kept as sent until checked, so that a refusal can be logged.
    m_head.method = method;
    m_head.target = target;
    if (!isToken(method))
        return fail(400, "malformed method");
    if (target.isEmpty())
        return fail(400, "empty request target");
    for (char c : target) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '#')
            return fail(400, "invalid character in the request target");
    }
    if (version.size() != 8 || !version.startsWith("HTTP/") || version.at(6) != '.'
        || version.at(5) < '0' || version.at(5) > '9' || version.at(7) < '0' || version.at(7) > '9')
        return fail(400, "malformed HTTP version");
    if (version.at(5) != '1')
        return fail(505, "only HTTP/1.x is supported");

    // The absolute form (sent to proxies) names the same resource.
    if (target.size() > 7 && target.left(7).compare("http://", Qt::CaseInsensitive) == 0) {
        const qsizetype slash = target.indexOf('/', 7);
        target = slash < 0 ? QByteArray("/") : target.mid(slash);
    }
    if (!target.startsWith('/'))
        return fail(400, "the request target must be a path starting with '/'");

    m_head.target = target;
    m_head.minorVersion = version.at(7) - '0';
    return true;
}

bool HttpRequestParser::parseHeaderLine(const QByteArray &line)
{
    if (isBlank(line.at(0)))
        return fail(400, "folded header lines are not accepted");
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return fail(400, "malformed header field");
    const QByteArray name = line.left(colon);
    // A blank before the colon is not a token character: refused here.
    if (!isToken(name))
        return fail(400, "malformed header field name");
    const QByteArray value = trimmedBlanks(line.mid(colon + 1));
    for (char c : value) {
        if (!isValueChar(c))
            return fail(400, "control character in a header field");
    }
    m_head.headers.append({name.toLower(), value});
    return true;
}

bool HttpRequestParser::frame()
{
    int hosts = 0;
    int lengths = 0;
    int encodings = 0;
    int expectations = 0;
    QByteArray length;
    QByteArray encoding;
    QByteArray expectation;
    bool close = false;
    for (const auto &header : std::as_const(m_head.headers)) {
        const QByteArray &name = header.first;
        if (name == "host") {
            ++hosts;
        } else if (name == "content-length") {
            ++lengths;
            length = header.second;
        } else if (name == "transfer-encoding") {
            ++encodings;
            encoding = header.second;
        } else if (name == "connection") {
            if (tokenList(header.second).contains("close"))
                close = true;
        } else if (name == "expect") {
            ++expectations;
            expectation = header.second;
        } else if (name == "upgrade") {
            m_head.upgrade = true;
        }
    }

    const bool http10 = m_head.minorVersion == 0;
    if (hosts > 1)
        return fail(400, "more than one Host header");
    if (hosts == 0 && !http10)
        return fail(400, "a Host header is required");
    if (lengths > 1)
        return fail(400, "more than one Content-Length header");
    if (encodings > 0) {
        if (http10)
            return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (lengths > 0)
            return fail(400, "both Content-Length and Transfer-Encoding");
        if (encodings > 1)
            return fail(400, "more than one Transfer-Encoding header");
        const QList<QByteArray> codings = tokenList(encoding);
        if (codings.isEmpty() || codings.last() != "chunked")
            return fail(400, "the last transfer coding must be chunked");
        if (codings.size() > 1)
            return fail(501, "transfer codings other than chunked are not supported");
        m_head.chunked = true;
    } else if (lengths == 1) {
        if (!parseLength(length, &m_head.contentLength))
            return fail(400, "malformed Content-Length");
    }
    // HTTP/1.0 clients do not know 100-continue and are not asked to wait.
    if (expectations > 0 && !http10) {
        if (expectations > 1 || expectation.compare("100-continue", Qt::CaseInsensitive) != 0)
            return fail(417, "only Expect: 100-continue is supported");
        m_head.expectContinue = true;
    }
    m_head.keepAlive = !http10 && !close;
    m_state = State::Complete;
    m_line.clear();
    return true;
}

HttpChunkedDecoder::HttpChunkedDecoder(qsizetype maxLineLength, qsizetype maxTrailerBytes)
    : m_maxLineLength(maxLineLength)
    , m_maxTrailerBytes(maxTrailerBytes)
{ }

bool HttpChunkedDecoder::fail(const char *reason)
{
    m_state = State::Error;
    m_errorReason = reason;
    return false;
}

HttpChunkedDecoder::Step HttpChunkedDecoder::feed(const char *data, qsizetype size)
{
    Step step;
    qsizetype i = 0;
    while (m_state == State::Running && i < size) {
        if (m_phase == Phase::Data) {
            const qsizetype length = qsizetype(qMin<qint64>(m_remaining, size - i));
            step.offset = i;
            step.length = length;
            m_remaining -= length;
            m_decoded += length;
            i += length;
            if (m_remaining == 0)
                m_phase = Phase::DataCr;
            break;
        }
        const char c = data[i++];
        switch (m_phase) {
        case Phase::Size:
            if (++m_lineLength > m_maxLineLength) {
                fail("chunk size line too long");
                break;
            }
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
                // Fifteen hex digits cannot overflow a qint64.
                if (++m_sizeDigits > 15) {
                    fail("chunk size too large");
                    break;
                }
                const int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
                m_chunkSize = m_chunkSize * 16 + digit;
            } else if (m_sizeDigits == 0) {
                fail("malformed chunk size");
            } else if (c == '\r') {
                m_phase = Phase::SizeLf;
            } else if (c == ';' || isBlank(c)) {
                m_phase = Phase::Extension;
                m_semicolon = c == ';';
            } else {
                fail("malformed chunk size");
            }
            break;
        case Phase::Extension:
            if (++m_lineLength > m_maxLineLength)
                fail("chunk extension too long");
            else if (c == '\r')
                m_phase = Phase::SizeLf;
            else if (!isValueChar(c))
                fail("control character in a chunk extension");
            else if (c == ';')
                m_semicolon = true;
            else if (!m_semicolon && !isBlank(c))
                fail("malformed chunk size");
            break;
        case Phase::SizeLf:
            if (c != '\n') {
                fail("chunk size line must end with CRLF");
                break;
            }
            m_lineLength = 0;
            m_sizeDigits = 0;
            m_remaining = m_chunkSize;
            if (m_chunkSize == 0) {
                m_phase = Phase::Trailer;
                m_lineEmpty = true;
            } else {
                m_phase = Phase::Data;
            }
            m_chunkSize = 0;
            break;
        case Phase::DataCr:
            if (c == '\r')
                m_phase = Phase::DataLf;
            else
                fail("chunk data must end with CRLF");
            break;
        case Phase::DataLf:
            if (c == '\n')
                m_phase = Phase::Size;
            else
                fail("chunk data must end with CRLF");
            break;
        case Phase::Trailer:
            if (++m_trailerBytes > m_maxTrailerBytes)
                fail("trailer fields too large");
            else if (c == '\r')
                m_phase = Phase::TrailerLf;
            else if (!isValueChar(c))
                fail("control character in a trailer field");
            else
                m_lineEmpty = false;
            break;
        case Phase::TrailerLf:
            if (c != '\n') {
                fail("trailer lines must end with CRLF");
                break;
            }
            if (m_lineEmpty) {
                m_state = State::Done;
            } else {
                m_phase = Phase::Trailer;
                m_lineEmpty = true;
            }
            break;
        case Phase::Data:
            break;
        }
    }
    step.consumed = i;
    return step;
}
