#include "qs3credentials.h"

QS3Credentials::QS3Credentials(const QString &accessKeyId, const QString &secretAccessKey,
                               const QString &sessionToken, const QDateTime &expiration)
    : m_accessKeyId(accessKeyId)
    , m_secretAccessKey(secretAccessKey)
    , m_sessionToken(sessionToken)
    , m_expiration(expiration)
{ }

bool QS3Credentials::isExpired(int marginSeconds) const
{
    return m_expiration.isValid()
        && QDateTime::currentDateTimeUtc().addSecs(marginSeconds) >= m_expiration;
}

bool QS3Credentials::operator==(const QS3Credentials &other) const
{
    return m_accessKeyId == other.m_accessKeyId && m_secretAccessKey == other.m_secretAccessKey
        && m_sessionToken == other.m_sessionToken && m_expiration == other.m_expiration;
}
