#include "qs3errors_p.h"

#include "qhttpwire_p.h"

#include <QtCore/qstringlist.h>
#include <QtCore/qxmlstream.h>

namespace {

constexpr int CodeLimit = 100;
constexpr int MessageLimit = 300;

QString xmlElementTextIn(const QByteArray &xml, QStringView name)
{
    QXmlStreamReader reader(xml);
    while (!reader.atEnd()) {
        reader.readNext();
        if (reader.isStartElement() && reader.name() == name)
            return reader.readElementText(QXmlStreamReader::IncludeChildElements);
    }
    return {};
}

bool isS3ErrorDocument(const QByteArray &xml)
{
    QXmlStreamReader reader(xml);
    return reader.readNextStartElement() && reader.name() == QLatin1String("Error");
}

} // namespace

QS3ErrorDocument QS3ErrorDocument::parse(const QByteArray &body)
{
    // A long CompleteMultipartUpload sends white space to keep the connection
    // alive before the document, and an XML declaration after it is invalid.
    const QByteArray xml = body.trimmed();
    QS3ErrorDocument doc;
    if (!isS3ErrorDocument(xml))
        return doc;
    doc.code = xmlElementTextIn(xml, u"Code").simplified().left(CodeLimit);
    doc.message = xmlElementTextIn(xml, u"Message").simplified();
    if (doc.message.size() > MessageLimit)
        doc.message = doc.message.left(MessageLimit) + QStringLiteral("...");
    return doc;
}

QAttachmentError qS3Error(int status, const QByteArray &body, const QString &what,
                          const QUrl &requestUrl)
{
    const QS3ErrorDocument doc = QS3ErrorDocument::parse(body);
    QAttachmentError error = QAttachmentError::fromHttpStatus(status);
    QAttachmentError::Code code = error.code();
    if (code == QAttachmentError::NoError)
        code = QAttachmentError::ServerError; // an <Error> inside a 200 answer

    static const QStringList unauthorized = {
        QStringLiteral("AccessDenied"),
        QStringLiteral("SignatureDoesNotMatch"),
        QStringLiteral("InvalidAccessKeyId"),
        QStringLiteral("ExpiredToken"),
        QStringLiteral("InvalidToken"),
        QStringLiteral("TokenRefreshRequired"),
        QStringLiteral("RequestTimeTooSkewed"),
        QStringLiteral("AccountProblem"),
        QStringLiteral("AllAccessDisabled"),
        QStringLiteral("InvalidSecurity"),
        QStringLiteral("AuthorizationHeaderMalformed"),
    };
    if (doc.code == QLatin1String("SlowDown") || status == 503)
        code = QAttachmentError::RateLimited;
    else if (unauthorized.contains(doc.code))
        code = QAttachmentError::Unauthorized;
    else if (doc.code == QLatin1String("NoSuchKey"))
        code = QAttachmentError::NotFound;
    else if (doc.code == QLatin1String("NoSuchUpload"))
        code = QAttachmentError::ServerError; // the multipart session is gone: a new attempt opens
                                              // one
    else if (doc.code == QLatin1String("NoSuchBucket"))
        code = QAttachmentError::ClientError; // a configuration error, not a missing file
    else if (doc.code == QLatin1String("RequestTimeout"))
        code = QAttachmentError::Timeout;
    else if (doc.code == QLatin1String("InternalError")
             || doc.code == QLatin1String("ServiceUnavailable"))
        code = status == 503 ? QAttachmentError::RateLimited : QAttachmentError::ServerError;

    // Where the answer came from: the host, never the path or the query (a
    // presigned URL's query holds its signature).
    QString from;
    if (!requestUrl.host().isEmpty())
        from = QStringLiteral(" from ") + QHttpWire::hostOf(requestUrl);
    QString message;
    if (!doc.code.isEmpty()) {
        message = QStringLiteral("S3 %1%2 for %3").arg(doc.code, from, what);
        if (!doc.message.isEmpty())
            message += QStringLiteral(": ") + QHttpWire::redactSecrets(doc.message);
        if (doc.code == QLatin1String("RequestTimeTooSkewed"))
            message += QStringLiteral(" (check the device clock)");
        else if (doc.code == QLatin1String("NoSuchBucket"))
            message += QStringLiteral(" (check the bucket name and endpoint)");
    } else {
        message = QStringLiteral("HTTP %1%2 for %3").arg(QString::number(status), from, what);
    }
    return QAttachmentError(code, message, status);
}

QString qS3XmlElementText(const QByteArray &xml, QStringView name)
{
    return xmlElementTextIn(xml, name);
}
