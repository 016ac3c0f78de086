#ifndef QPOWERSYNCCREDENTIALS_H
#define QPOWERSYNCCREDENTIALS_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>
#include <QtCore/qurl.h>

// Where a PowerSync Service is (its endpoint URL, e.g.
// https://<instance>.powersync.journeyapps.com) and the JWT that authenticates
// this client to it. Valid when the endpoint is an http(s) URL without user
// info, query or fragment, and the token is non-empty printable ASCII.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncCredentials
{
    Q_GADGET
    Q_PROPERTY(QUrl endpoint READ endpoint FINAL)
    Q_PROPERTY(QString token READ token FINAL)

public:
    QPowerSyncCredentials() = default;
    QPowerSyncCredentials(const QUrl &endpoint, const QString &token);

    QUrl endpoint() const { return m_endpoint; }
    void setEndpoint(const QUrl &endpoint) { m_endpoint = endpoint; }
    QString token() const { return m_token; }
    void setToken(const QString &token) { m_token = token; }

    bool isValid(QString *errorString = nullptr) const;
    // endpoint() with `path` appended to its path ("/sync/stream").
    QUrl url(const QString &path) const;

    bool operator==(const QPowerSyncCredentials &other) const
    {
        return m_endpoint == other.m_endpoint && m_token == other.m_token;
    }
    bool operator!=(const QPowerSyncCredentials &other) const { return !(*this == other); }

private:
    QUrl m_endpoint;
    QString m_token;
};

Q_DECLARE_METATYPE(QPowerSyncCredentials)

#endif // QPOWERSYNCCREDENTIALS_H
