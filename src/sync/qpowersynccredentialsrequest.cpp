#include "qpowersynccredentialsrequest.h"

QPowerSyncCredentialsRequest::QPowerSyncCredentialsRequest(bool didExpire, QObject *parent)
    : QObject(parent)
    , m_didExpire(didExpire)
{ }

void QPowerSyncCredentialsRequest::resolve(const QPowerSyncCredentials &credentials)
{
    if (m_answered)
        return;
    m_answered = true;
    emit answeredChanged();
    emit resolved(credentials);
}

void QPowerSyncCredentialsRequest::resolve(const QUrl &endpoint, const QString &token)
{
    resolve(QPowerSyncCredentials(endpoint, token));
}

void QPowerSyncCredentialsRequest::fail(const QString &errorString)
{
    if (m_answered)
        return;
    m_answered = true;
    emit answeredChanged();
    emit failed(errorString.isEmpty() ? QStringLiteral("no credentials") : errorString);
}
