#ifndef QHTTPREPLYERRORS_P_H
#define QHTTPREPLYERRORS_P_H

#include "qattachmenterror.h"

#include <QtNetwork/qnetworkreply.h>

// The errors of a reply that did not bring a whole HTTP answer: the
// connection failed, broke off, or the peer did not speak HTTP.
namespace QHttpReplyErrors {

// Where the exchange was when the reply ended.
struct Progress
{
    bool responseStarted = false; // a final status line arrived
    int status = 0;
    qint64 announced = -1; // Content-Length of the response
    qint64 received = 0; // response body bytes seen
    qint64 sendTotal = -1; // request body length, -1 when unknown
    qint64 bodySent = 0; // request body bytes handed to the connection
};

// Whether the reply's error is about the connection rather than an HTTP status.
bool isTransportError(QNetworkReply::NetworkError error);
// What happened to the connection, in Qt's words where it has some.
QString causeOf(QNetworkReply *reply);
// The error of a reply that ended on a transport failure or without a
// response; the message names the host, never the query.
QAttachmentError transportError(QNetworkReply *reply, const Progress &progress);

} // namespace QHttpReplyErrors

#endif // QHTTPREPLYERRORS_P_H
