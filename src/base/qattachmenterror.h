#ifndef QATTACHMENTERROR_H
#define QATTACHMENTERROR_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

// What went wrong with one transfer or operation, in terms the queue and an
// error handler can act on.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentError
{
    Q_GADGET
    Q_PROPERTY(Code code READ code)
    Q_PROPERTY(QString message READ message)
    Q_PROPERTY(int httpStatus READ httpStatus)
    Q_PROPERTY(bool retryable READ isRetryable)

public:
    enum Code {
        NoError = 0,
        NotFound, // the remote object does not exist
        Unauthorized, // 401/403, bad signature, expired credentials
        ClientError, // other 4xx: the request itself is wrong
        ServerError, // 5xx
        RateLimited, // 429, 503 SlowDown: retry after a pause
        Timeout, // no progress within the transfer timeout, or 408
        NetworkError, // connection refused, reset, host not found, ...
        ProtocolError, // the peer did not speak valid HTTP, or sent a short body
        Cancelled, // aborted by the queue or the app
        LocalStorageError, // reading or writing the local file failed
        DatabaseError, // the queue table could not be read or written
        InvalidInput, // bad id, filename, table name or argument
    };
    Q_ENUM(Code)

    QAttachmentError() = default;
    QAttachmentError(Code code, const QString &message, int httpStatus = 0);

    bool isError() const { return m_code != NoError; }
    Code code() const { return m_code; }
    QString message() const { return m_message; }
    // The HTTP status that caused the error, 0 when there was none.
    int httpStatus() const { return m_httpStatus; }
    void setHttpStatus(int status) { m_httpStatus = status; }
    // The pause the server asked for (Retry-After), in milliseconds; -1 when none.
    qint64 retryAfterMs() const { return m_retryAfterMs; }
    void setRetryAfterMs(qint64 ms) { m_retryAfterMs = ms; }

    // Whether retrying the same request unchanged can succeed: server errors,
    // timeouts, rate limits and network errors are; 4xx, authorization and
    // bad input are not worth blind retries.
    bool isRetryable() const;

    static QAttachmentError fromHttpStatus(int status, const QString &message = {});

private:
    Code m_code = NoError;
    QString m_message;
    int m_httpStatus = 0;
    qint64 m_retryAfterMs = -1;
};

POWERSYNC_ATTACHMENTS_EXPORT QDebug operator<<(QDebug debug, const QAttachmentError &error);

Q_DECLARE_METATYPE(QAttachmentError)

#endif // QATTACHMENTERROR_H
