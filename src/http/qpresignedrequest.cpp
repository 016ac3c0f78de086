#include "qpresignedrequest.h"

class QPresignedRequestData : public QSharedData
{
public:
    QUrl url;
    QString method;
    QVariantMap headers;
};

QPresignedRequest::QPresignedRequest() noexcept = default;

QPresignedRequest::QPresignedRequest(const QUrl &url, const QString &method,
                                     const QVariantMap &headers)
    : d(new QPresignedRequestData)
{
    d->url = url;
    d->method = method;
    d->headers = headers;
}

QPresignedRequest::QPresignedRequest(const QPresignedRequest &other) noexcept = default;
QPresignedRequest::QPresignedRequest(QPresignedRequest &&other) noexcept = default;
QPresignedRequest &QPresignedRequest::operator=(const QPresignedRequest &other) noexcept = default;
QPresignedRequest &QPresignedRequest::operator=(QPresignedRequest &&other) noexcept = default;
QPresignedRequest::~QPresignedRequest() = default;

bool QPresignedRequest::isValid() const
{
    return d && d->url.isValid() && !d->url.isRelative();
}

QUrl QPresignedRequest::url() const
{
    return d ? d->url : QUrl();
}

void QPresignedRequest::setUrl(const QUrl &url)
{
    if (!d)
        d = new QPresignedRequestData;
    d->url = url;
}

QString QPresignedRequest::method() const
{
    return d ? d->method : QString();
}

void QPresignedRequest::setMethod(const QString &method)
{
    if (!d)
        d = new QPresignedRequestData;
    d->method = method;
}

QVariantMap QPresignedRequest::headers() const
{
    return d ? d->headers : QVariantMap();
}

void QPresignedRequest::setHeaders(const QVariantMap &headers)
{
    if (!d)
        d = new QPresignedRequestData;
    d->headers = headers;
}

bool QPresignedRequest::operator==(const QPresignedRequest &other) const
{
    return url() == other.url() && method() == other.method() && headers() == other.headers();
}
