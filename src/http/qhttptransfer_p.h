#ifndef QHTTPTRANSFER_P_H
#define QHTTPTRANSFER_P_H

#include "qattachmenttransfer.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkrequest.h>

#include <functional>
#include <memory>

class QIODevice;
class QNetworkAccessManager;
class QNetworkReply;

// One HTTP exchange run as a QAttachmentTransfer: the engine under every
// network adapter (plain HTTP, presigned URLs, S3). It streams the request
// body from a device, streams the response body into a sink with a bounded
// read buffer, resumes downloads with Range, and maps every failure to a
// QAttachmentError (status, Retry-After, timeouts, network errors).
//
// Adapters that need several exchanges (token refresh, multipart uploads)
// compose these inside a transfer of their own.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QHttpTransfer : public QAttachmentTransfer
{
    Q_OBJECT

public:
    struct Request
    {
        QNetworkRequest request; // URL and headers; the engine adds Accept-Encoding: identity
        QByteArray method = "GET";
        // Request body, read from its current position; not owned, kept alive by
        // the caller until finished(). Null for no body.
        QIODevice *body = nullptr;
        qint64 bodySize
            = -1; // bytes of `body` to send (Content-Length); -1: the device's remaining size
        // Response body target, open for writing and positioned at `resumeFrom`;
        // not owned. Null: the body (success or error) is kept in responseBody(),
        // up to maxKeptBody bytes.
        QIODevice *sink = nullptr;
        qint64 resumeFrom = 0; // > 0 sends "Range: bytes=N-"; a 200 answer seeks the sink to 0
        qint64 maxKeptBody = 1024 * 1024;
        bool followRedirects = false;
        int transferTimeoutMs = 60000; // no progress for this long ends the exchange as Timeout
        bool notFoundIsSuccess = false; // DELETE of a missing object
    };

    // Turns an error response (status, kept body) into an error; the default
    // maps the status with QAttachmentError::fromHttpStatus().
    using ErrorParser = std::function<QAttachmentError(int status, const QByteArray &body)>;

    QHttpTransfer(Kind kind, QNetworkAccessManager *manager, QObject *parent = nullptr);
    ~QHttpTransfer() override;

    void setErrorParser(ErrorParser parser);
    // Starts the exchange; finished() follows asynchronously.
    void start(const Request &request);

    int httpStatus() const;
    QByteArray responseBody() const;
    QByteArray responseHeader(const QByteArray &name) const;

protected:
    void abortTransfer() override;

private:
    class Private;
    std::unique_ptr<Private> d;
};

#endif // QHTTPTRANSFER_P_H
