#ifndef QHTTPTRANSFER_P_H
#define QHTTPTRANSFER_P_H

#include "qattachmenttransfer.h"
#include "qhttpexchange_p.h"

#include <functional>
#include <memory>

class QIODevice;
class QNetworkAccessManager;

// An upload, download or delete done with HTTP: the transfer every network
// storage hands out. It prepares the request (a token, a signature, a
// presigned URL: asynchronous, from the app), runs it as one QHttpExchange
// and, when told so, prepares and runs it once more after a 401/403 with the
// device rewound to where it was. It alone reports progress and the end.
//
// start(request) runs a request that is known already; start() runs the
// preparing callback, which may call `ready` synchronously, later, or after the
// transfer was aborted or deleted: late and repeated answers are ignored.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttpTransfer : public QAttachmentTransfer
{
    Q_OBJECT

public:
    using Request = QHttpRequest;
    using ErrorParser = QHttpExchange::ErrorParser;
    using Ready = std::function<void(const Request &request, const QAttachmentError &error)>;
    // `afterUnauthorized` is true when preparing the retry after a 401/403.
    using Prepare = std::function<void(bool afterUnauthorized, Ready ready)>;

    QHttpTransfer(Kind kind, QNetworkAccessManager *manager, QObject *parent = nullptr);
    ~QHttpTransfer() override;

    // Turns an error response (status, kept body) into an error; the default
    // is QHttpWire::statusError(). With a parser,
    // an answer it maps to NotFound also counts as success for notFoundIsSuccess.
    void setErrorParser(ErrorParser parser);

    void setPrepare(Prepare prepare);
    void setRetryOnUnauthorized(bool retry);
    // How long preparing may take before the transfer fails as Timeout; 0: no limit.
    void setPrepareTimeout(int msecs);
    // The body or sink of the request, rewound to where it is now before the
    // retry after 401/403.
    void setDevice(QIODevice *device);
    // Requests to http:// URLs speak HTTP/2 without asking first (request
    // bodies over 1 MiB excepted).
    void setHttp2PriorKnowledge(bool enabled);
    // Uploads of a file with at least this many bytes go over a socket of
    // this thread (QHttpSocketExchange) where the request allows it; negative:
    // never.
    static constexpr qint64 DefaultStreamThreshold = 8 * 1024 * 1024;
    void setStreamThreshold(qint64 bytes);
    // Uploads under the threshold to http:// URLs (without HTTP/2 prior
    // knowledge) go that way too, on kept-alive connections; default true.
    void setStreamSmallCleartextUploads(bool enabled);
    // Downloads from http:// over a socket of this thread (default on; see
    // QHttpSocketExchange); off: through the manager.
    void setStreamCleartextDownloads(bool enabled);
    // Replaces every request's http2PartSize; negative (the default): each
    // request keeps its own.
    void setHttp2PartSize(qint64 bytes);

    // Starts the exchange of a known request now; finished() follows asynchronously.
    void start(const Request &request);
    // Starts preparing on the next event loop pass, so that the caller
    // receives the transfer before any callback of the app runs.
    void start();
    // Ends the transfer with `error` (asynchronously, like every end).
    void fail(const QAttachmentError &error);

    int httpStatus() const;
    QByteArray responseBody() const;
    QByteArray responseHeader(const QByteArray &name) const;
    // Whether the last request went over the streaming path.
    bool isStreamed() const;
    // For tests: whether the streamed request went on a kept-alive connection,
    // and in how many socket writes.
    bool reusedConnection() const;
    int requestWrites() const;

protected:
    void abortTransfer() override;

private:
    class Private;
    std::unique_ptr<Private> d;
};

#endif // QHTTPTRANSFER_P_H
