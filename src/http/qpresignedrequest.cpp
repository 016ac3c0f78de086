#include "qpresignedrequest.h"

QPresignedRequest::QPresignedRequest(const QUrl &url, const QString &method,
                                     const QVariantMap &headers)
    : m_url(url)
    , m_method(method)
    , m_headers(headers)
{ }

bool QPresignedRequest::operator==(const QPresignedRequest &other) const
{
    return m_url == other.m_url && m_method == other.m_method && m_headers == other.m_headers;
}
