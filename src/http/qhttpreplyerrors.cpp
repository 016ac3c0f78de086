#include "qhttpreplyerrors_p.h"

#include "qhttpwire_p.h"

#include <QtCore/qmetaobject.h>

// What happened to the connection, in Qt's words where it has some; Qt
// sometimes reports only "Unknown error" for a connection the peer reset.
QString QHttpReplyErrors::causeOf(QNetworkReply *reply)
{
    const QString text = QHttpWire::redactSecrets(reply->errorString(), reply->url());
    if (!text.isEmpty() && text != QLatin1String("Unknown error"))
        return text;
    switch (reply->error()) {
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("the connection was closed or reset by the server");
    case QNetworkReply::UnknownNetworkError:
        // What Qt reports for a connection reset while the request body is written.
        return QStringLiteral("the connection broke with no reason given (closed or reset)");
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection refused");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host not found");
    case QNetworkReply::TimeoutError:
        return QStringLiteral("the connection timed out");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("the TLS handshake failed");
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
        return QStringLiteral("the network is not available");
    default:
        return QString::fromLatin1(
            QMetaEnum::fromType<QNetworkReply::NetworkError>().valueToKey(reply->error()));
    }
}

bool QHttpReplyErrors::isTransportError(QNetworkReply::NetworkError error)
{
    // Codes below 200 are connection and proxy failures; 301 and 399 mean the
    // peer could not be spoken to in HTTP at all. Everything else in 200..499
    // is Qt's translation of an HTTP status, which is handled from the status.
    return (error > QNetworkReply::NoError && error < QNetworkReply::ContentAccessDenied)
        || error == QNetworkReply::ProtocolUnknownError || error == QNetworkReply::ProtocolFailure;
}

QAttachmentError QHttpReplyErrors::transportError(QNetworkReply *reply, const Progress &p)
{
    const QNetworkReply::NetworkError netError = reply->error();
    QAttachmentError::Code code = QAttachmentError::NetworkError;
    if (netError == QNetworkReply::TimeoutError)
        code = QAttachmentError::Timeout;
    else if (netError == QNetworkReply::ProtocolFailure
             || netError == QNetworkReply::ProtocolUnknownError
             || (netError == QNetworkReply::NoError && !p.responseStarted))
        code = QAttachmentError::ProtocolError;
    // Qt's text names the cause; the host says where, and the query
    // (a presigned signature) is never part of it.
    const QString host = QHttpWire::hostOf(reply->url());
    const QString cause = causeOf(reply);
    QString message;
    if (p.responseStarted && netError == QNetworkReply::RemoteHostClosedError && p.announced >= 0
        && p.received < p.announced) {
        // The server ended the connection inside the announced body; Qt
        // cannot tell a close from a reset here.
        code = QAttachmentError::ProtocolError;
        message = QStringLiteral("short body from %1: the connection ended after %2 of the "
                                 "announced %3 bytes (%4)")
                      .arg(host)
                      .arg(p.received)
                      .arg(p.announced)
                      .arg(cause);
    } else if (p.responseStarted) {
        message = QStringLiteral("HTTP %1 response from %2 broken off after %3 bytes: %4")
                      .arg(p.status)
                      .arg(host)
                      .arg(p.received)
                      .arg(cause);
    } else if (netError == QNetworkReply::NoError) {
        message = QStringLiteral("%1 sent no valid HTTP response").arg(host);
    } else if (p.sendTotal > 0 && p.bodySent < p.sendTotal) {
        // The request body did not get out whole: a short write.
        message = QStringLiteral("the connection to %1 ended after %2 of %3 bytes of the "
                                 "request body were sent, without a valid HTTP response: %4")
                      .arg(host)
                      .arg(p.bodySent)
                      .arg(p.sendTotal)
                      .arg(cause);
    } else if (netError == QNetworkReply::RemoteHostClosedError) {
        message = QStringLiteral("%1 closed the connection without a valid HTTP "
                                 "response (%2)")
                      .arg(host, cause);
    } else {
        message = QStringLiteral("request to %1 failed: %2").arg(host, cause);
    }
    return QAttachmentError(code, message, p.status);
}
