#ifndef QHTTPEXCHANGE_P_H
#define QHTTPEXCHANGE_P_H

#include "qattachmenttransfer.h"
#include "qhttpsilencetimer_p.h"
#include "qhttpwire_p.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qhttp2configuration.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qnetworkrequest.h>

#include <functional>

class QIODevice;
class QNetworkAccessManager;
class QHttpBodySlice;

// What one HTTP exchange sends, and where its answer goes.
struct QHttpRequest
{
    static constexpr qint64 DefaultHttp2PartSize = 4 * 1024 * 1024;
    static constexpr int DefaultHttp2PartsAhead = 3;

    QNetworkRequest request; // URL and headers; the engine adds Accept-Encoding: identity
    QByteArray method = "GET";
    // Request body, read from its current position; not owned, kept alive by
    // the caller until finished(). Null for no body.
    QIODevice *body = nullptr;
    // Bytes of `body` to send (Content-Length); -1: the device's remaining size.
    qint64 bodySize = -1;
    // Response body target, open for writing and positioned at `resumeFrom`;
    // not owned. Null: the body (success or error) is kept in responseBody(),
    // up to maxKeptBody bytes.
    QIODevice *sink = nullptr;
    qint64 resumeFrom = 0; // > 0 sends "Range: bytes=N-"; a 200 answer seeks the sink to 0
    // A download that an HTTP/2 server can send in ranges, and that has more
    // than this many bytes left, is fetched as a series of Range requests of
    // this size (see QHttpExchange); 0: always in one response.
    qint64 http2PartSize = DefaultHttp2PartSize;
    // Parts asked for beyond the one being read.
    int http2PartsAhead = DefaultHttp2PartsAhead;
    // Parts also over HTTP/1.1, where the reply's read buffer bounds memory
    // anyway: for servers that speak nothing else (tests).
    bool partsOverHttp1 = false;
    // The first request asks for a part, as to a server known to speak
    // HTTP/2 (tests; see QHttpExchange).
    bool partsFromTheStart = false;
    qint64 maxKeptBody = 1024 * 1024;
    bool followRedirects = false;
    int transferTimeoutMs = 60000; // no progress for this long ends the exchange as Timeout
    bool notFoundIsSuccess = false; // DELETE of a missing object
};

// One HTTP request and its response on a QNetworkAccessManager: streams the
// request body from a device, streams the response body into a sink with a
// bounded read buffer, resumes downloads with Range (and starts over when the
// resource changed), follows redirects when asked, and maps every failure to
// a QAttachmentError (status, Retry-After, timeouts, network errors).
//
// Over HTTP/2, Qt 6.4 grants the server more data as frames arrive, not as
// the app reads them: a download written more slowly than it arrives piles
// up in memory, whatever the receive windows. A large download from a server
// that serves ranges and names the version (ETag or Last-Modified) is
// therefore cut into parts of QHttpRequest::http2PartSize, each asked for with
// "Range: bytes=N-M" and "If-Range", a few parts ahead of the one being read
// (see prefetchParts()). What Qt can hold is bounded by those parts. To a
// server known to speak HTTP/2 (prior knowledge, or an earlier answer from
// the same origin) the first request asks for the first part already; to
// another, the first answer is dropped once its headers say it can be had
// in parts, with what the server sent of it by then.
//
// It is not a transfer: QHttpTransfer runs it and reports its progress and
// end. The callbacks may run from inside start() (a request refused before it
// is sent); the exchange must not be deleted from inside them (deleteLater).
class QHttpExchange : public QObject
{
public:
    // Turns an error response (status, kept body) into an error; the default
    // maps the status with QHttpWire::statusError().
    using ErrorParser = QHttpWire::ErrorParser;

    QHttpExchange(QAttachmentTransfer::Kind kind, QNetworkAccessManager *manager,
                  QObject *parent = nullptr);
    ~QHttpExchange() override;

    void setErrorParser(ErrorParser parser) { errorParser = std::move(parser); }
    // Called with bytes done and total (-1 while unknown).
    std::function<void(qint64 done, qint64 total)> onProgress;
    // Called once, with the error or with none for success.
    std::function<void(const QAttachmentError &error)> onFinished;

    void start(const QHttpRequest &request);
    // Stops the exchange; onFinished is not called.
    void abort();

    int httpStatus() const { return status; }
    QByteArray responseBody() const { return kept; }
    QByteArray responseHeader(const QByteArray &name) const;

    // The HTTP/2 settings every request gets unless its own differ from Qt's
    // defaults: receive windows that bound a download's memory.
    POWERSYNC_ATTACHMENTS_TEST_EXPORT static QHttp2Configuration http2Configuration();

private:
    void send();
    void sendAgain();
    bool followRedirect();
    void restartFromZero();
    void resetResponse();
    QNetworkRequest prepared() const;
    QNetworkReply *dispatch(const QNetworkRequest &req, const QByteArray &method,
                            QIODevice *device);
    void attach(QNetworkReply *r);
    bool startParts(bool http2);
    bool startsInParts(const QNetworkRequest &req) const;
    bool afterFirstPart(bool http2);
    void requestPart(qint64 from);
    void prefetchParts();
    bool nextPart();
    void takeNextPart();
    void attachNextPart();
    void dropAhead();
    void refuseParts();
    qint64 resourceTotal() const;
    void detachReply();
    void onMetaDataChanged();
    // `all`: take whatever is there, also less than a copy chunk.
    void onReadyRead(bool all = false);
    void onReplyFinished();
    void onTimeout();
    void touch();
    void report(qint64 doneBytes, qint64 totalBytes);
    void finish(const QAttachmentError &error);
    void fail(const QAttachmentError &error);
    QAttachmentError statusError();
    void keep(const QByteArray &data);

    QAttachmentTransfer::Kind kind;
    QNetworkAccessManager *manager = nullptr;
    QHttpRequest request;
    ErrorParser errorParser;
    QPointer<QNetworkReply> reply;
    QHttpSilenceTimer silence; // runs while a reply is out
    QHttpBodySlice *slice = nullptr;
    qint64 bodyStart = -1; // where the body began in the caller's device
    bool done = false;
    bool flushQueued = false; // a pass that takes a rest below CopyChunkSize

    // State of the current response.
    bool responseStarted = false;
    bool bodyToSink = false; // a success body streamed into the sink
    int status = 0;
    qint64 offset = 0; // where this response's body starts in the resource
    qint64 announced = -1; // Content-Length of this response
    qint64 received = 0; // body bytes of this response seen so far
    qint64 sendTotal = -1; // request body length, -1 when unknown
    qint64 bodySent = 0; // request body bytes handed to the connection so far
    QByteArray pending; // body bytes read, not written to the sink yet
    QByteArray kept;
    QList<QNetworkReply::RawHeaderPair> headers;
    bool restartedFromZero = false;
    // Fetching the body in parts (see the class comment).
    enum class Parts {
        Undecided, // parts may still start
        Probing, // the first request asks for a part; its answer decides
        InParts,
        RestAfterPart, // after this part, the rest with "Range: bytes=N-"
        Refused, // no parts any more (answered whole, started over, no version)
    };
    Parts parts = Parts::Undecided;
    qint64 partEnd = -1; // the last byte the current part asks for; -1: to the end
    qint64 resourceSize = -1; // the whole resource's length, once known
    struct Part
    {
        QPointer<QNetworkReply> reply;
        qint64 from = -1;
        qint64 last = -1;
    };
    QList<Part> ahead; // the next parts, asked for, not read yet
    int redirects = 0;
};

#endif // QHTTPEXCHANGE_P_H
