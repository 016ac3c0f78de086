#include "qattachmenterror.h"

#include <QtCore/qdebug.h>
#include <QtCore/qmetaobject.h>

QAttachmentError::QAttachmentError(Code code, const QString &message, int httpStatus)
    : m_code(code)
    , m_message(message)
    , m_httpStatus(httpStatus)
{ }

bool QAttachmentError::isRetryable() const
{
    switch (m_code) {
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
