#ifndef QPRESIGNEDREQUEST_H
#define QPRESIGNEDREQUEST_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>

// One request handed out by the app's backend for one attachment operation:
// typically a presigned S3/GCS/Azure URL, the method to use and any headers
// that were part of the signature (Content-Type, x-amz-*).
class QPresignedRequestData;
class POWERSYNC_ATTACHMENTS_EXPORT QPresignedRequest
{
    Q_GADGET
    Q_PROPERTY(QUrl url READ url WRITE setUrl FINAL)
    Q_PROPERTY(QString method READ method WRITE setMethod FINAL)
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders FINAL)

public:
    QPresignedRequest() noexcept;
    // An empty method means the usual one for the operation: PUT, GET or DELETE.
    explicit QPresignedRequest(const QUrl &url, const QString &method = {},
                               const QVariantMap &headers = {});
    QPresignedRequest(const QPresignedRequest &other) noexcept;
    QPresignedRequest(QPresignedRequest &&other) noexcept;
    QPresignedRequest &operator=(const QPresignedRequest &other) noexcept;
    QPresignedRequest &operator=(QPresignedRequest &&other) noexcept;
    ~QPresignedRequest();
    void swap(QPresignedRequest &other) noexcept { d.swap(other.d); }

    bool isValid() const;

    QUrl url() const;
    void setUrl(const QUrl &url);
    QString method() const;
    void setMethod(const QString &method);
    // Header name → value (converted to a string).
    QVariantMap headers() const;
    void setHeaders(const QVariantMap &headers);

    bool operator==(const QPresignedRequest &other) const;
    bool operator!=(const QPresignedRequest &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPresignedRequestData> d;
};

Q_DECLARE_SHARED(QPresignedRequest)
Q_DECLARE_METATYPE(QPresignedRequest)

#endif // QPRESIGNEDREQUEST_H
