#ifndef QHTTPRESPONSEPARSER_P_H
#define QHTTPRESPONSEPARSER_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

#include <functional>
#include <utility>

// Reads one HTTP/1.x response from bytes as they arrive, with every buffer
// bounded: the status line, the header block, and a body framed by
// Content-Length, chunked encoding or the end of the connection. Interim
// (1xx) answers are skipped. Only the start of the body is kept (up to
// maxKeptBody); the rest is counted and dropped. Anything malformed ends in
// Failed with a message that quotes at most a few bytes of the input.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttpResponseParser
{
public:
    enum State { StatusLine, Headers, Body, Done, Failed };

    static constexpr int MaxLineLength = 8 * 1024;
    static constexpr int MaxHeaderBytes = 64 * 1024;
    static constexpr int MaxHeaderCount = 100;
    static constexpr int MaxInterimAnswers = 16;

    explicit QHttpResponseParser(qint64 maxKeptBody = 1024 * 1024)
        : m_maxKeptBody(maxKeptBody)
    { }

    // Called once the final answer's header block is read, before any of its
    // body; false stops the parse there (Failed).
    void setHeadersHandler(std::function<bool()> handler) { m_onHeaders = std::move(handler); }
    // From then on the body goes to `sink`, piece by piece, instead of being
    // kept (usually set by the headers handler for a 2xx); false from it
    // fails the parse.
    void setBodySink(std::function<bool(QByteArrayView)> sink) { m_bodySink = std::move(sink); }

    // Reads from `data`; returns how many bytes belong to this response. Once
    // Done or Failed nothing more is taken.
    qsizetype feed(QByteArrayView data);
    // The peer closed the connection: a body that runs to the close ends
    // here (Done); anything else still missing fails.
    void endOfInput();

    State state() const { return m_state; }
    bool isDone() const { return m_state == Done; }
    bool hasFailed() const { return m_state == Failed; }
    // A final status line and its whole header block have arrived (also when
    // the body failed afterwards).
    bool headersComplete() const { return m_headersDone; }
    QString errorString() const { return m_error; }

    int status() const { return m_status; }
    QByteArray reason() const { return m_reason; }
    const QList<std::pair<QByteArray, QByteArray>> &headers() const { return m_headers; }
    // The value of `name` (case-insensitive); several fields are joined by ", ".
    QByteArray header(QByteArrayView name) const;
    // -1 when the body is not framed by Content-Length.
    qint64 contentLength() const { return m_contentLength; }
    bool isChunked() const { return m_chunked; }
    // Body bytes seen so far, kept or not.
    qint64 bodyReceived() const { return m_bodyReceived; }
    QByteArray keptBody() const { return m_kept; }
    // Whether the connection may carry another request after this response:
    // the response is Done, framed by its length or chunks (not by the end of
    // the connection), HTTP/1.1, and without "Connection: close".
    bool allowsReuse() const;

private:
    enum BodyMode { NoBody, Length, Chunked, UntilClose };
    enum ChunkState { ChunkSize, ChunkData, ChunkDataEnd, Trailers };

    // Takes one line (without CR LF) from the pending bytes; false when it is
    // not complete yet (or failed).
    bool takeLine(QByteArrayView data, qsizetype *pos, QByteArray *line);
    void fail(const QString &message);
    void parseStatusLine(const QByteArray &line);
    void parseHeaderLine(const QByteArray &line);
    void headersEnded();
    void keep(QByteArrayView bytes);

    State m_state = StatusLine;
    QString m_error;
    QByteArray m_line; // a line that is not complete yet
    int m_headerBytes = 0;
    int m_interim = 0;
    bool m_interimAnswer = false;
    bool m_headersDone = false;

    int m_status = 0;
    bool m_http10 = false;
    QByteArray m_reason;
    QList<std::pair<QByteArray, QByteArray>> m_headers;

    BodyMode m_bodyMode = NoBody;
    ChunkState m_chunkState = ChunkSize;
    bool m_chunked = false;
    qint64 m_contentLength = -1;
    qint64 m_remaining = 0; // of the body (Length) or the chunk (Chunked)
    qint64 m_bodyReceived = 0;
    qint64 m_maxKeptBody;
    QByteArray m_kept;
    std::function<bool()> m_onHeaders;
    std::function<bool(QByteArrayView)> m_bodySink;
};

#endif // QHTTPRESPONSEPARSER_P_H
