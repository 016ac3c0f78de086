#ifndef HTTPREQUESTPARSER_H
#define HTTPREQUESTPARSER_H

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>
#include <QtCore/qpair.h>

// The strict, incremental HTTP/1.1 request parsing of the attachments server,
// with no socket in sight: bytes go in as they arrive, in pieces of any size,
// and every byte is looked at once. Anything that could be read in two ways
// (by this server and by a proxy in front of it) is refused instead of guessed.

struct HttpLimits
{
    qsizetype maxRequestLine = 8 * 1024; // bytes, without the CRLF
    qsizetype maxHeaderBlock = 64 * 1024; // all header lines with their CRLFs
    int maxHeaderCount = 100;
};

struct HttpRequestHead
{
    QByteArray method; // a token, as sent (methods are case-sensitive)
    QByteArray target; // origin-form: starts with '/', visible ASCII only
    int minorVersion = 1; // HTTP/1.<minor>
    // Names in lower case; values without surrounding blanks, and free of
    // CR, LF, NUL and other control characters except tab.
    QList<QPair<QByteArray, QByteArray>> headers;

    // How the body is framed, decided from the head alone.
    qint64 contentLength = 0; // of the body when !chunked
    bool chunked = false;
    bool keepAlive = true; // false for HTTP/1.0 and `Connection: close`
    bool expectContinue = false;
    bool upgrade = false; // an Upgrade header was sent (it is never honoured)

    // The first value of a header (by lower-case name), or a null array.
    QByteArray header(const char *lowerCaseName) const;
    // The target up to its query.
    QByteArray path() const;
    bool hasBody() const { return chunked || contentLength > 0; }
};

class HttpRequestParser
{
public:
    enum class State { Idle, Partial, Complete, Error };

    explicit HttpRequestParser(const HttpLimits &limits = {});

    // Takes bytes of a request head and returns how many it consumed: all of
    // them while the head is incomplete, up to and including the blank line
    // that ends it once Complete, up to the offending byte once Error. Bytes
    // after the head (a body or the next request) are not consumed.
    qsizetype feed(const char *data, qsizetype size);

    // Idle: nothing of a request yet. Partial: part of a head.
    State state() const { return m_state; }
    // Valid once Complete.
    const HttpRequestHead &head() const { return m_head; }
    // Once Error: the status to answer (400, 414, 417, 431, 501 or 505) and
    // why, for the response body.
    int errorStatus() const { return m_errorStatus; }
    QByteArray errorReason() const { return m_errorReason; }

    // Ready for the next request of the connection.
    void reset();

private:
    bool takeLine(const QByteArray &line);
    bool parseRequestLine(const QByteArray &line);
    bool parseHeaderLine(const QByteArray &line);
    bool frame();
    bool fail(int status, const char *reason);

    HttpLimits m_limits;
    HttpRequestHead m_head;
    QByteArray m_line;
    qsizetype m_headerBytes = 0;
    qsizetype m_leadingBytes = 0;
    bool m_requestLineSeen = false;
    State m_state = State::Idle;
    int m_errorStatus = 0;
    QByteArray m_errorReason;
};

// Decodes a chunked request body (RFC 9112, section 7.1) as it arrives.
// Chunk extensions and trailer fields are read and dropped, within limits.
class HttpChunkedDecoder
{
public:
    enum class State { Running, Done, Error };

    struct Step
    {
        qsizetype consumed = 0; // bytes of the input used by this step
        // Body data found in the consumed bytes: at data[offset, offset + length).
        qsizetype offset = 0;
        qsizetype length = 0;
    };

    explicit HttpChunkedDecoder(qsizetype maxLineLength = 4096,
                                qsizetype maxTrailerBytes = 64 * 1024);

    // Consumes framing bytes up to and including at most one run of body
    // data. Call again with the rest until the input is used up or the state
    // is no longer Running; nothing after the final CRLF is consumed.
    Step feed(const char *data, qsizetype size);

    State state() const { return m_state; }
    QByteArray errorReason() const { return m_errorReason; }
    // Body bytes decoded so far.
    qint64 decodedBytes() const { return m_decoded; }

private:
    enum class Phase { Size, Extension, SizeLf, Data, DataCr, DataLf, Trailer, TrailerLf };
    bool fail(const char *reason);

    qsizetype m_maxLineLength;
    qsizetype m_maxTrailerBytes;
    Phase m_phase = Phase::Size;
    State m_state = State::Running;
    qint64 m_chunkSize = 0;
    qint64 m_remaining = 0;
    qint64 m_decoded = 0;
    qsizetype m_lineLength = 0;
    qsizetype m_trailerBytes = 0;
    int m_sizeDigits = 0;
    bool m_lineEmpty = true;
    bool m_semicolon = false;
    QByteArray m_errorReason;
};

#endif // HTTPREQUESTPARSER_H
