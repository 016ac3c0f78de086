#ifndef QATTACHMENTERROR_H
#define QATTACHMENTERROR_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

class QAttachmentErrorData;

// What went wrong with one transfer or operation, in terms the queue and an
// error handler can act on. Implicitly shared.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentError
{
    Q_GADGET
    Q_PROPERTY(Code code READ code FINAL)
    Q_PROPERTY(QString message READ message FINAL)
    Q_PROPERTY(int httpStatus READ httpStatus FINAL)
    Q_PROPERTY(bool retryable READ isRetryable FINAL)

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

    QAttachmentError() noexcept;
    QAttachmentError(Code code, const QString &message, int httpStatus = 0);
    QAttachmentError(const QAttachmentError &other) noexcept;
    QAttachmentError(QAttachmentError &&other) noexcept;
    QAttachmentError &operator=(const QAttachmentError &other) noexcept;
    QAttachmentError &operator=(QAttachmentError &&other) noexcept;
    ~QAttachmentError();

    void swap(QAttachmentError &other) noexcept { d.swap(other.d); }

    bool isError() const { return code() != NoError; }
    Code code() const;
    QString message() const;
    // The HTTP status that caused the error, 0 when there was none.
    int httpStatus() const;
    void setHttpStatus(int status);
    // The pause the server asked for (Retry-After), in milliseconds; -1 when none.
    qint64 retryAfterMs() const;
    void setRetryAfterMs(qint64 ms);

    // Whether retrying the same request unchanged can succeed: server errors,
    // timeouts, rate limits and network errors are; 4xx, authorization and
    // bad input are not worth blind retries.
    bool isRetryable() const;

    static QAttachmentError fromHttpStatus(int status, const QString &message = {});

private:
    const QAttachmentErrorData &data() const;
    QAttachmentErrorData &writable();

    // Null for NoError as default-constructed: no allocation on success paths.
    QSharedDataPointer<QAttachmentErrorData> d;
};

Q_DECLARE_SHARED(QAttachmentError)

POWERSYNC_ATTACHMENTS_EXPORT QDebug operator<<(QDebug debug, const QAttachmentError &error);

Q_DECLARE_METATYPE(QAttachmentError)

#endif // QATTACHMENTERROR_H
