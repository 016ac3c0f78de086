#include "qattachmenterror.h"

#include <QtCore/qdebug.h>
#include <QtCore/qmetaobject.h>

class QAttachmentErrorData : public QSharedData
{
public:
    QAttachmentError::Code code = QAttachmentError::NoError;
    QString message;
    int httpStatus = 0;
    qint64 retryAfterMs = -1;
};

QAttachmentError::QAttachmentError() noexcept = default;

QAttachmentError::QAttachmentError(Code code, const QString &message, int httpStatus)
    : d(new QAttachmentErrorData)
{
    d->code = code;
    d->message = message;
    d->httpStatus = httpStatus;
}

QAttachmentError::QAttachmentError(const QAttachmentError &other) noexcept = default;
QAttachmentError::QAttachmentError(QAttachmentError &&other) noexcept = default;
QAttachmentError &QAttachmentError::operator=(const QAttachmentError &other) noexcept = default;
QAttachmentError &QAttachmentError::operator=(QAttachmentError &&other) noexcept = default;
QAttachmentError::~QAttachmentError() = default;

const QAttachmentErrorData &QAttachmentError::data() const
{
    static const QAttachmentErrorData defaults;
    return d ? *d : defaults;
}

QAttachmentErrorData &QAttachmentError::writable()
{
    if (!d)
        d = new QAttachmentErrorData;
    return *d; // detaches when shared
}

QAttachmentError::Code QAttachmentError::code() const
{
    return data().code;
}

QString QAttachmentError::message() const
{
    return data().message;
}

int QAttachmentError::httpStatus() const
{
    return data().httpStatus;
}

void QAttachmentError::setHttpStatus(int status)
{
    writable().httpStatus = status;
}

qint64 QAttachmentError::retryAfterMs() const
{
    return data().retryAfterMs;
}

void QAttachmentError::setRetryAfterMs(qint64 ms)
{
    writable().retryAfterMs = ms;
}

bool QAttachmentError::isRetryable() const
{
    switch (code()) {
    case ServerError:
    case RateLimited:
    case Timeout:
    case NetworkError:
    case ProtocolError:
    case Cancelled:
    case LocalStorageError:
    case DatabaseError:
        return true;
    case NoError:
    case NotFound:
    case Unauthorized:
    case ClientError:
    case InvalidInput:
        return false;
    }
    return false;
}

QAttachmentError QAttachmentError::fromHttpStatus(int status, const QString &message)
{
    Code code = NoError;
    if (status == 404 || status == 410)
        code = NotFound;
    else if (status == 401 || status == 403)
        code = Unauthorized;
    else if (status == 408)
        code = Timeout;
    else if (status == 429)
        code = RateLimited;
    else if (status >= 500)
        code = ServerError;
    else if (status >= 400)
        code = ClientError;
    else if (status >= 300)
        code = ProtocolError; // an unexpected redirect or other non-success answer
    QString text = message;
    if (text.isEmpty())
        text = QStringLiteral("HTTP status %1").arg(status);
    return QAttachmentError(code, text, status);
}

QDebug operator<<(QDebug debug, const QAttachmentError &error)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "QAttachmentError("
                    << QMetaEnum::fromType<QAttachmentError::Code>().valueToKey(error.code());
    if (error.httpStatus())
        debug << ", HTTP " << error.httpStatus();
    debug << ", " << error.message() << ')';
    return debug;
}
