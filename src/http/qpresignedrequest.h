#ifndef QPRESIGNEDREQUEST_H
#define QPRESIGNEDREQUEST_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>

// One request handed out by the app's backend for one attachment operation:
// typically a presigned S3/GCS/Azure URL, the method to use and any headers
// that were part of the signature (Content-Type, x-amz-*).
class POWERSYNC_ATTACHMENTS_EXPORT QPresignedRequest
{
    Q_GADGET
    Q_PROPERTY(QUrl url READ url WRITE setUrl)
    Q_PROPERTY(QString method READ method WRITE setMethod)
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders)

public:
    QPresignedRequest() = default;
    // An empty method means the usual one for the operation: PUT, GET or DELETE.
    explicit QPresignedRequest(const QUrl &url, const QString &method = {},
                               const QVariantMap &headers = {});

    bool isValid() const { return m_url.isValid() && !m_url.isRelative(); }

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url) { m_url = url; }
    QString method() const { return m_method; }
    void setMethod(const QString &method) { m_method = method; }
    // Header name → value (converted to a string).
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers) { m_headers = headers; }

    bool operator==(const QPresignedRequest &other) const;
    bool operator!=(const QPresignedRequest &other) const { return !(*this == other); }

private:
    QUrl m_url;
    QString m_method;
    QVariantMap m_headers;
};

Q_DECLARE_METATYPE(QPresignedRequest)

#endif // QPRESIGNEDREQUEST_H
