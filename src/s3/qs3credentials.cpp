#include "qs3credentials.h"

class QS3CredentialsData : public QSharedData
{
public:
    QString accessKeyId;
    QString secretAccessKey;
    QString sessionToken;
    QDateTime expiration;
};

QS3Credentials::QS3Credentials() noexcept = default;

QS3Credentials::QS3Credentials(const QString &accessKeyId, const QString &secretAccessKey,
                               const QString &sessionToken, const QDateTime &expiration)
    : d(new QS3CredentialsData)
{
    d->accessKeyId = accessKeyId;
    d->secretAccessKey = secretAccessKey;
    d->sessionToken = sessionToken;
    d->expiration = expiration;
}

QS3Credentials::QS3Credentials(const QS3Credentials &other) noexcept = default;
QS3Credentials::QS3Credentials(QS3Credentials &&other) noexcept = default;
QS3Credentials &QS3Credentials::operator=(const QS3Credentials &other) noexcept = default;
QS3Credentials &QS3Credentials::operator=(QS3Credentials &&other) noexcept = default;
QS3Credentials::~QS3Credentials() = default;

QString QS3Credentials::accessKeyId() const
{
    return d ? d->accessKeyId : QString();
}

void QS3Credentials::setAccessKeyId(const QString &id)
{
    if (!d)
        d = new QS3CredentialsData;
    d->accessKeyId = id;
}

QString QS3Credentials::secretAccessKey() const
{
    return d ? d->secretAccessKey : QString();
}

void QS3Credentials::setSecretAccessKey(const QString &secret)
{
    if (!d)
        d = new QS3CredentialsData;
    d->secretAccessKey = secret;
}

QString QS3Credentials::sessionToken() const
{
    return d ? d->sessionToken : QString();
}

void QS3Credentials::setSessionToken(const QString &token)
{
    if (!d)
        d = new QS3CredentialsData;
    d->sessionToken = token;
}

QDateTime QS3Credentials::expiration() const
{
    return d ? d->expiration : QDateTime();
}

void QS3Credentials::setExpiration(const QDateTime &expiration)
{
    if (!d)
        d = new QS3CredentialsData;
    d->expiration = expiration;
}

bool QS3Credentials::isValid() const
{
    return d && !d->accessKeyId.isEmpty() && !d->secretAccessKey.isEmpty();
}

bool QS3Credentials::isExpired(int marginSeconds) const
{
    const QDateTime until = expiration();
    return until.isValid() && QDateTime::currentDateTimeUtc().addSecs(marginSeconds) >= until;
}

bool QS3Credentials::operator==(const QS3Credentials &other) const
{
    return accessKeyId() == other.accessKeyId() && secretAccessKey() == other.secretAccessKey()
        && sessionToken() == other.sessionToken() && expiration() == other.expiration();
}
