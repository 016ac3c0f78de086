#ifndef QHTTPSOCKETEXCHANGE_P_H
#define QHTTPSOCKETEXCHANGE_P_H

#include "qhttp2requestcodec_p.h"
#include "qhttpconnectioncache_p.h"
#include "qhttpexchange_p.h"
#include "qhttpresponseparser_p.h"
#include "qhttpsilencetimer_p.h"

#include <QtCore/qpointer.h>

#include <functional>
#include <memory>

class QNetworkAccessManager;
class QSslSocket;
class QTcpSocket;

// One HTTP/1.1 request and its answer on a socket of the calling thread,
// instead of through QNetworkAccessManager (whose QHttpExchange handles
// everything else): uploads, and downloads from http://.
//
// Uploads: Qt 6.4's HTTP thread pulls a body from the app's thread 16 KiB at
// a time, with a queued round trip per piece, which caps an upload well
// below what the link carries. Here the body is read from its device in
// large pieces and written as the socket drains, with at most WriteWindow
// bytes queued in the socket (memory stays bounded).
//
// It speaks to the same peer as the manager would: TLS with the request's
// QSslConfiguration and the usual certificate checks (the peer's name is
// verified), the request's headers (validated before anything is sent), and
// the response read with bounded buffers (QHttpResponseParser). Failures map
// to the same errors as QHttpExchange's. A TLS handshake that fails on
// certificate errors ends in onFallback, nothing of the request sent: the
// caller repeats it through the manager, whose own sslErrors handling
// (signals the app may have connected) then applies unchanged.
//
// Downloads: for `http://` without a proxy, Qt 6.4 reads an HTTP/1.1
// response's status line and headers one byte per system call (about 240
// read() calls for one of nginx's answers), on its own thread, and hands the
// body over to the app's thread. Here the answer is read in pieces of up to
// DownloadReadChunk and its body written to the sink as it comes (at most
// MaxPerTurn bytes or 5 ms per turn of the event loop). Only a download from the start (no Range)
// is taken: its 2xx must be framed by Content-Length or chunks, a 206 must be the whole resource,
// and the body may not run past its length; the answer's validator goes to the sink as the
// manager's path sets it. Resumed downloads keep going through the manager, and a redirect to
// follow is handed to it (onFallback), nothing written.
//
// whyNotStream() says which requests it takes; everything else stays with the
// manager (proxies, cookies, user info in the URL, HSTS upgrades, ...).
//
// With a connection cache, the connection is kept open (HTTP/1.1 keep-alive)
// and given to the cache after a response that was read whole and allows it;
// the next request to the same origin takes it from there. A request whose
// reused connection ends before any byte of an answer arrived (the server
// closed it while idle) is sent once more on a new connection. The socket
// has TCP_NODELAY set, and a small request (head and body up to SmallBody
// bytes) goes to it in one write: no segment waits for the peer's delayed
// acknowledgement.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttpSocketExchange : public QObject
{
public:
    static constexpr qint64 ReadChunk = 256 * 1024;
    static constexpr qint64 WriteWindow = 1024 * 1024;
    static constexpr qint64 MaxPerTurn = 4 * 1024 * 1024;
    static constexpr qint64 SmallBody = 256 * 1024;
    static constexpr qint64 DownloadReadChunk = 256 * 1024;

    using ErrorParser = QHttpExchange::ErrorParser;

    explicit QHttpSocketExchange(QObject *parent = nullptr);
    ~QHttpSocketExchange() override;

    // Empty when `request` may be sent here, with `manager`'s settings; else
    // why not (for the debug log). With `http2`: sent over HTTP/2 (below).
    static QString whyNotStream(const QHttpRequest &request, QNetworkAccessManager *manager,
                                bool http2 = false);

    // An upload to a cleartext server spoken to with prior knowledge of
    // HTTP/2 (one that may speak nothing else on that port): the request
    // goes as the only stream of a connection of its own
    // (QHttp2RequestCodec), its body streamed as the server's flow-control
    // windows allow. Set before start(); no connection cache is used.
    void setHttp2(bool enabled) { m_http2 = enabled; }

    void setErrorParser(ErrorParser parser) { m_errorParser = std::move(parser); }
    std::function<void(qint64 done, qint64 total)> onProgress;
    // Called once, with the error or with none for success.
    std::function<void(const QAttachmentError &error)> onFinished;
    // Called instead of onFinished with the request the manager should send:
    // this one after certificate errors (nothing of it was sent), or where a
    // download was redirected to (nothing of it written).
    std::function<void(const QHttpRequest &request)> onFallback;

    // Connections come from and go back to `cache` (null: one connection per
    // upload, closed at the end, as "Connection: close" asks).
    void setConnectionCache(QHttpConnectionCache *cache) { m_cache = cache; }
    // With a cache: at most this many uploads of the cache to one origin are
    // connected at once; the others wait (their timeout not running).
    void setConnectionLimit(int connections) { m_connectionLimit = connections; }

    void start(const QHttpRequest &request);
    // Stops; no callback follows.
    void abort();

    int httpStatus() const { return answerHeadersComplete() ? answerStatus() : 0; }
    QByteArray responseBody() const { return m_h2 ? m_h2->keptBody() : m_parser.keptBody(); }
    QByteArray responseHeader(const QByteArray &name) const { return answerHeader(name); }
    // For tests: whether the last connection was taken from the cache, and
    // how many writes to the socket carried the request.
    bool reusedConnection() const { return m_reused; }
    int socketWrites() const { return m_writes; }

private:
    void begin();
    // A fresh parser for the answer (again after a resend).
    void resetResponse();
    bool takeHeaders();
    bool toSink(QByteArrayView bytes);
    void releaseSlot();
    void connectSocket(QTcpSocket *reused);
    void onConnected();
    bool writeAll(const char *data, qint64 size);
    bool writeAll(const QByteArray &bytes);
    // The answer, from the HTTP/1.1 parser or the HTTP/2 codec.
    int answerStatus() const { return m_h2 ? m_h2->status() : m_parser.status(); }
    bool answerHeadersComplete() const
    {
        return m_h2 ? m_h2->headersComplete() : m_parser.headersComplete();
    }
    QByteArray answerHeader(QByteArrayView name) const
    {
        return m_h2 ? m_h2->header(name) : m_parser.header(name);
    }
    // HTTP/2 (qhttpsocketexchangehttp2.cpp): the connection preface and the
    // request's headers; the answer's frames, false once the exchange ended.
    void openHttp2(const QByteArray &method, const QByteArray &target, const QByteArray &authority);
    bool readHttp2(QByteArrayView bytes);
    qint64 readBody(qint64 offset, char *data, qint64 size);
    void continueLater(bool *queued, void (QHttpSocketExchange::*step)());
    void pump();
    void onReadyRead();
    void onDisconnected();
    // The connection ended: a response read to the close is complete, else
    // the upload fails with `cause`.
    void endOfStream(const QString &cause);
    void onSocketError();
    void onTimeout();
    void touch();
    void responseDone();
    // Ends here and lets the manager send `request` (onFallback).
    void fallBack(const QHttpRequest &request);
    QAttachmentError statusError() const;
    QAttachmentError transportError(const QString &cause) const;
    // The request once more from the start, on a new connection (once per exchange).
    void sendAgain();
    void fail(const QAttachmentError &error);
    void finish(const QAttachmentError &error);
    void closeSocket();
    // Gives the connection to the cache when the exchange left it reusable.
    void releaseSocket();
    qint64 queuedInSocket() const;
    QString host() const;

    QHttpRequest m_request;
    ErrorParser m_errorParser;
    QHttpResponseParser m_parser;
    bool m_http2 = false;
    std::unique_ptr<QHttp2RequestCodec> m_h2; // with m_http2, for the current attempt
    QTcpSocket *m_socket = nullptr;
    QSslSocket *m_tlsSocket = nullptr; // m_socket over https
    bool m_pumpQueued = false;
    QHttpSilenceTimer m_silence;
    bool m_tls = false;
    bool m_ready = false; // connected (and encrypted): the request may go out
    bool m_sslErrors = false;
    bool m_done = false;
    qint64 m_bodyStart = 0;
    qint64 m_total = 0; // body bytes to send
    qint64 m_read = 0; // body bytes read from the device and written to the socket
    qint64 m_head = 0; // bytes of the request head
    qint64 m_lastReported = -1;
    QPointer<QHttpConnectionCache> m_cache;
    QString m_origin;
    int m_connectionLimit = 6;
    quint64 m_ticket = 0; // waiting for a connection slot
    bool m_holdsSlot = false;
    bool m_reused = false; // the connection came from the cache
    bool m_resent = false; // sent again after a reused connection failed
    bool m_answered = false; // a byte of the answer arrived
    bool m_reusable = false; // the answer was read whole and allows reuse
    int m_writes = 0;
    // Downloads.
    bool m_toSink = false; // the answer is a 2xx whose body goes to the sink
    qint64 m_expected = -1; // body bytes the answer announced
    QAttachmentError m_pendingError; // found while the parser ran
    bool m_readQueued = false;
    QByteArray m_readBuffer;
};

#endif // QHTTPSOCKETEXCHANGE_P_H
