#ifndef QS3CREDENTIALS_H
#define QS3CREDENTIALS_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

// Access key, secret and optional session token for S3-compatible storage.
// Temporary credentials (STS, a backend's token vending endpoint) carry the
// time they expire; QS3RemoteStorage asks its credentials provider for new
// ones shortly before.
class QS3CredentialsData;
class POWERSYNC_ATTACHMENTS_EXPORT QS3Credentials
{
    Q_GADGET
    Q_PROPERTY(QString accessKeyId READ accessKeyId WRITE setAccessKeyId FINAL)
    Q_PROPERTY(QString secretAccessKey READ secretAccessKey WRITE setSecretAccessKey FINAL)
    Q_PROPERTY(QString sessionToken READ sessionToken WRITE setSessionToken FINAL)
    Q_PROPERTY(QDateTime expiration READ expiration WRITE setExpiration FINAL)
    Q_PROPERTY(bool valid READ isValid FINAL)

public:
    QS3Credentials() noexcept;
    QS3Credentials(const QString &accessKeyId, const QString &secretAccessKey,
                   const QString &sessionToken = {}, const QDateTime &expiration = {});
    QS3Credentials(const QS3Credentials &other) noexcept;
    QS3Credentials(QS3Credentials &&other) noexcept;
    QS3Credentials &operator=(const QS3Credentials &other) noexcept;
    QS3Credentials &operator=(QS3Credentials &&other) noexcept;
    ~QS3Credentials();
    void swap(QS3Credentials &other) noexcept { d.swap(other.d); }

    QString accessKeyId() const;
    void setAccessKeyId(const QString &id);
    QString secretAccessKey() const;
    void setSecretAccessKey(const QString &secret);
    QString sessionToken() const;
    void setSessionToken(const QString &token);
    // When temporary credentials stop working; invalid for ones that do not expire.
    QDateTime expiration() const;
    void setExpiration(const QDateTime &expiration);

    // Both the access key id and the secret are set.
    bool isValid() const;
    // Whether the credentials expire within `marginSeconds` from now.
    bool isExpired(int marginSeconds = 0) const;

    bool operator==(const QS3Credentials &other) const;
    bool operator!=(const QS3Credentials &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QS3CredentialsData> d;
};

Q_DECLARE_SHARED(QS3Credentials)
Q_DECLARE_METATYPE(QS3Credentials)

#endif // QS3CREDENTIALS_H
