#ifndef QHTTP2REQUESTCODEC_P_H
#define QHTTP2REQUESTCODEC_P_H

#include "qhpackdecoder_p.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>

// One request and its answer as the only stream (1) of a cleartext HTTP/2
// connection opened with prior knowledge (RFC 9113), without any I/O: the
// caller writes what open(), data() and takeOutput() return to the socket and
// feeds what arrives to feed().
//
// Why it exists: Qt 6.4's HTTP/2 upload through QNetworkAccessManager pulls
// the body from the app's thread in small pieces and keeps it in memory
// (5-8 x curl's time for 1 GiB); a large upload to a server that speaks only
// HTTP/2 goes this way instead (QHttpSocketExchange), streamed from the file
// at the pace the server's flow-control windows allow.
//
// Everything from the peer is checked: frame sizes against what this side
// advertised (the protocol's minimum, 16 KiB, so that a frame never needs a
// larger buffer), the connection preface, flow-control windows in both
// directions, header blocks (bounded, HPACK-decoded by QHpackDecoder, with
// the rules for responses: one :status, no other pseudo-header, lowercase
// names), and the answer's body against its content-length. Only the start
// of the body is kept (maxKeptBody), to name a failure. The first breach
// fails the connection with a short message.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttp2RequestCodec
{
public:
    using Field = QHpackDecoder::Field;

    static constexpr int FrameHeaderSize = 9;
    // SETTINGS_MAX_FRAME_SIZE of this side: the default, so not sent.
    static constexpr int MaxFrameSize = 16 * 1024;
    // The largest DATA frame sent, whatever the peer allows: one read of the
    // file is framed without holding more.
    static constexpr int MaxSendFrame = 256 * 1024;
    // SETTINGS_INITIAL_WINDOW_SIZE of this side: how much of the answer the
    // peer may send before this side acknowledges it (it always does, as
    // frames arrive: only the start of the body is kept).
    static constexpr int ReceiveWindow = 1024 * 1024;
    static constexpr int MaxHeaderBlock = QHpackDecoder::MaxBlockBytes;
    static constexpr int MaxInterimAnswers = 16;
    static constexpr qint64 MaxWindow = 0x7fffffff;

    explicit QHttp2RequestCodec(qint64 maxKeptBody = 1024 * 1024);

    // The connection preface, this side's SETTINGS and the request's header
    // block on stream 1 (END_STREAM when there is no body). `fields` are the
    // request's pseudo-headers first, then lowercase header fields; the caller
    // has checked them (no control characters).
    QByteArray open(const QList<Field> &fields, bool hasBody);

    // How many body bytes may be sent now: the smaller of the stream's and
    // the connection's send windows (0 while either is exhausted).
    qint64 sendWindow() const;
    // `bytes` (at most sendWindow()) as DATA frames on stream 1, END_STREAM on
    // the last when `last`. The windows shrink by what is framed.
    QByteArray data(QByteArrayView bytes, bool last);

    // Reads frames from the peer. false once the connection has failed
    // (errorString()); nothing more is taken then.
    bool feed(QByteArrayView bytes);
    // Frames this side owes the peer: SETTINGS and PING acknowledgements,
    // WINDOW_UPDATEs for the answer's DATA.
    QByteArray takeOutput();

    bool hasFailed() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    // The peer refused the stream before it processed it (RST_STREAM
    // REFUSED_STREAM, or a GOAWAY that does not include it): safe to send again.
    bool wasRefused() const { return m_refused; }
    // A final answer's header block has arrived.
    bool headersComplete() const { return m_status >= 200; }
    int status() const { return m_status >= 200 ? m_status : 0; }
    const QList<Field> &headers() const { return m_headers; }
    // The value of `name` (case-insensitive); several fields are joined by ", ".
    QByteArray header(QByteArrayView name) const;
    qint64 bodyReceived() const { return m_bodyReceived; }
    QByteArray keptBody() const { return m_kept; }
    // The peer ended the stream after a final answer (END_STREAM).
    bool isDone() const { return m_done; }
    // Frames read so far, of any kind (for tests).
    int framesRead() const { return m_framesRead; }

private:
    void fail(const QString &message);
    static quint32 frameLength(QByteArrayView frame);
    bool checkFrameHeader(QByteArrayView frame);
    bool handleFrame(QByteArrayView frame);
    bool handleFrame(quint8 type, quint8 flags, quint32 stream, QByteArrayView payload);
    bool onSettings(quint8 flags, quint32 stream, QByteArrayView payload);
    bool onWindowUpdate(quint32 stream, QByteArrayView payload);
    bool onHeaders(quint8 flags, quint32 stream, QByteArrayView payload);
    bool onContinuation(quint8 flags, quint32 stream, QByteArrayView payload);
    bool onData(quint8 flags, quint32 stream, QByteArrayView payload);
    bool onRstStream(quint32 stream, QByteArrayView payload);
    bool onGoAway(quint32 stream, QByteArrayView payload);
    bool onPing(quint8 flags, quint32 stream, QByteArrayView payload);
    bool headerBlockEnded();
    bool endOfStream();
    void appendFrame(QByteArray *out, quint8 type, quint8 flags, quint32 stream,
                     QByteArrayView payload) const;

    qint64 m_maxKeptBody;
    QString m_error;
    QByteArray m_in; // the start of a frame that has not all arrived
    QByteArray m_out;
    QHpackDecoder m_hpack;
    bool m_opened = false;
    bool m_sawSettings = false;
    bool m_refused = false;
    bool m_done = false;
    bool m_localEnded = false; // END_STREAM sent
    int m_framesRead = 0;
    // Send side.
    qint64 m_connectionWindow = 65535;
    qint64 m_streamWindow = 65535;
    qint64 m_peerInitialWindow = 65535;
    qint64 m_peerMaxFrame = 16 * 1024;
    // Receive side.
    qint64 m_receiveConnection = 65535;
    qint64 m_receiveStream = ReceiveWindow;
    // The answer.
    QByteArray m_block; // a header block still waiting for CONTINUATION
    bool m_blockOpen = false;
    bool m_blockEndsStream = false;
    quint32 m_blockStream = 0;
    int m_interim = 0;
    int m_status = 0;
    bool m_trailersSeen = false;
    QList<Field> m_headers;
    qint64 m_contentLength = -1;
    qint64 m_bodyReceived = 0;
    QByteArray m_kept;
};

#endif // QHTTP2REQUESTCODEC_P_H
