#include "qpowersynccredentials.h"

QPowerSyncCredentials::QPowerSyncCredentials(const QUrl &endpoint, const QString &token)
    : m_endpoint(endpoint)
    , m_token(token)
{ }

bool QPowerSyncCredentials::isValid(QString *errorString) const
{
    auto fail = [errorString](const QString &message) {
        if (errorString)
            *errorString = message;
        return false;
    };
    if (!m_endpoint.isValid() || m_endpoint.host().isEmpty())
        return fail(QStringLiteral("the endpoint is not a URL with a host"));
    const QString scheme = m_endpoint.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return fail(QStringLiteral("the endpoint is not an http or https URL"));
    if (!m_endpoint.userInfo().isEmpty() || m_endpoint.hasQuery() || m_endpoint.hasFragment())
        return fail(QStringLiteral("the endpoint has user info, a query or a fragment"));
    if (m_token.isEmpty())
        return fail(QStringLiteral("the token is empty"));
    if (m_token.size() > 16 * 1024)
        return fail(QStringLiteral("the token is longer than 16 KiB"));
    for (const QChar c : m_token) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return fail(QStringLiteral("the token holds a character that is not printable ASCII"));
    }
    return true;
}

QUrl QPowerSyncCredentials::url(const QString &path) const
{
    QUrl url = m_endpoint;
    QString base = url.path();
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    url.setPath(base + path);
    return url;
}
