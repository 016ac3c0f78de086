// QHttpSocketExchange's HTTP/2 upload (setHttp2()): what differs from
// HTTP/1.1 is what goes on the wire and how the answer is read; connecting,
// reading the file, the silence timer and the errors are shared.

#include "qhttpsocketexchange_p.h"

#include "qattachmentlogging_p.h"

#include <QtCore/qiodevice.h>
#include <QtNetwork/qtcpsocket.h>

namespace {

// Fields RFC 9113 8.2.2 forbids, and those this side writes itself.
bool isDroppedField(const QByteArray &name, const QByteArray &value)
{
    if (name == "te")
        return value.trimmed().compare("trailers", Qt::CaseInsensitive) != 0;
    return name == "host" || name == "content-length" || name == "connection"
        || name == "keep-alive" || name == "proxy-connection" || name == "transfer-encoding"
        || name == "upgrade" || name == "accept-encoding";
}

} // namespace

void QHttpSocketExchange::openHttp2(const QByteArray &method, const QByteArray &target,
                                    const QByteArray &authority)
{
    QList<QHttp2RequestCodec::Field> fields;
    fields.append({QByteArrayLiteral(":method"), method});
    fields.append({QByteArrayLiteral(":scheme"), QByteArrayLiteral("http")});
    fields.append({QByteArrayLiteral(":authority"), authority});
    fields.append({QByteArrayLiteral(":path"), target});
    bool hasUserAgent = false;
    bool hasContentType = false;
    const QList<QByteArray> names = m_request.request.rawHeaderList();
    for (const QByteArray &raw : names) {
        // HTTP/2 field names are lowercase (RFC 9113 8.2.1).
        const QByteArray name = raw.toLower();
        const QByteArray value = m_request.request.rawHeader(raw);
        if (isDroppedField(name, value))
            continue;
        hasUserAgent |= name == "user-agent";
        hasContentType |= name == "content-type";
        fields.append({name, value});
    }
    if (method == "POST" && !hasContentType)
        fields.append(
            {QByteArrayLiteral("content-type"), QByteArrayLiteral("application/octet-stream")});
    fields.append({QByteArrayLiteral("content-length"), QByteArray::number(m_total)});
    fields.append({QByteArrayLiteral("accept-encoding"), QByteArrayLiteral("identity")});
    if (!hasUserAgent)
        fields.append({QByteArrayLiteral("user-agent"), QByteArrayLiteral("Mozilla/5.0")});

    if (!m_request.body->seek(m_bodyStart)) {
        fail(QAttachmentError(QAttachmentError::LocalStorageError,
                              QStringLiteral("cannot seek in the local file")));
        return;
    }
    const QByteArray opening = m_h2->open(fields, m_total > 0);
    m_head = opening.size();
    m_writes = 0;
    if (!writeAll(opening))
        return;
    pump();
}

bool QHttpSocketExchange::readHttp2(QByteArrayView bytes)
{
    if (!m_h2->feed(bytes)) {
        const QString why = m_h2->errorString();
        if (m_h2->wasRefused() && !m_resent) {
            // Not processed at all (RFC 9113 8.7): once more at once, on a
            // new connection.
            qCDebug(lcHttp).noquote() << "HTTP/2 request refused by" << host() << "(" << why
                                      << "); sending again on a new connection";
            sendAgain();
            return false;
        }
        if (m_h2->headersComplete()) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  host() + QStringLiteral(": ") + why, m_h2->status()));
        } else {
            // Not HTTP/2, refused, reset or broken before an answer: a
            // network failure, as the manager names a connection that ends
            // without a valid response.
            fail(transportError(why));
        }
        return false;
    }
    if (!writeAll(m_h2->takeOutput()))
        return false;
    if (m_h2->isDone()) {
        responseDone();
        return false;
    }
    // Enough of the answer to name the failure: the rest is not needed.
    if (m_h2->headersComplete() && m_h2->bodyReceived() > m_request.maxKeptBody) {
        if (m_h2->status() >= 200 && m_h2->status() < 300) {
            fail(QAttachmentError(
                QAttachmentError::ProtocolError,
                QStringLiteral("response body exceeds %1 bytes").arg(m_request.maxKeptBody),
                m_h2->status()));
        } else {
            responseDone();
        }
        return false;
    }
    return true;
}
