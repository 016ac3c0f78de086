#ifndef QS3CREDENTIALS_H
#define QS3CREDENTIALS_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

// Access key, secret and optional session token for S3-compatible storage.
// Temporary credentials (STS, a backend's token vending endpoint) carry the
// time they expire; QS3RemoteStorage asks its credentials provider for new
// ones shortly before.
class POWERSYNC_ATTACHMENTS_EXPORT QS3Credentials
{
    Q_GADGET
    Q_PROPERTY(QString accessKeyId READ accessKeyId WRITE setAccessKeyId)
    Q_PROPERTY(QString secretAccessKey READ secretAccessKey WRITE setSecretAccessKey)
    Q_PROPERTY(QString sessionToken READ sessionToken WRITE setSessionToken)
    Q_PROPERTY(QDateTime expiration READ expiration WRITE setExpiration)
    Q_PROPERTY(bool valid READ isValid)

public:
    QS3Credentials() = default;
    QS3Credentials(const QString &accessKeyId, const QString &secretAccessKey,
                   const QString &sessionToken = {}, const QDateTime &expiration = {});

    QString accessKeyId() const { return m_accessKeyId; }
    void setAccessKeyId(const QString &id) { m_accessKeyId = id; }
    QString secretAccessKey() const { return m_secretAccessKey; }
    void setSecretAccessKey(const QString &secret) { m_secretAccessKey = secret; }
    QString sessionToken() const { return m_sessionToken; }
    void setSessionToken(const QString &token) { m_sessionToken = token; }
    // When temporary credentials stop working; invalid for ones that do not expire.
    QDateTime expiration() const { return m_expiration; }
    void setExpiration(const QDateTime &expiration) { m_expiration = expiration; }

    // Both the access key id and the secret are set.
    bool isValid() const { return !m_accessKeyId.isEmpty() && !m_secretAccessKey.isEmpty(); }
    // Whether the credentials expire within `marginSeconds` from now.
    bool isExpired(int marginSeconds = 0) const;

    bool operator==(const QS3Credentials &other) const;
    bool operator!=(const QS3Credentials &other) const { return !(*this == other); }

private:
    QString m_accessKeyId;
    QString m_secretAccessKey;
    QString m_sessionToken;
    QDateTime m_expiration;
};

Q_DECLARE_METATYPE(QS3Credentials)

#endif // QS3CREDENTIALS_H
