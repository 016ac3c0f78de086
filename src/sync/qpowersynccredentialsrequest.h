#ifndef QPOWERSYNCCREDENTIALSREQUEST_H
#define QPOWERSYNCCREDENTIALSREQUEST_H

#include "qpowersynccredentials.h"

#include <QtCore/qobject.h>

// A request for credentials handed to QPowerSyncBackendConnector::fetchCredentials():
// answer it once, now or later, with resolve() or fail(). The request is
// deleted after it is answered.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncCredentialsRequest : public QObject
{
    Q_OBJECT
    // True when the service said the previous token expired or was refused.
    Q_PROPERTY(bool didExpire READ didExpire CONSTANT FINAL)
    Q_PROPERTY(bool answered READ isAnswered NOTIFY answeredChanged FINAL)

public:
    explicit QPowerSyncCredentialsRequest(bool didExpire, QObject *parent = nullptr);

    bool didExpire() const { return m_didExpire; }
    bool isAnswered() const { return m_answered; }

public Q_SLOTS:
    void resolve(const QPowerSyncCredentials &credentials);
    void resolve(const QUrl &endpoint, const QString &token);
    void fail(const QString &errorString);

Q_SIGNALS:
    void resolved(const QPowerSyncCredentials &credentials);
    void failed(const QString &errorString);
    void answeredChanged();

private:
    bool m_didExpire = false;
    bool m_answered = false;
};

#endif // QPOWERSYNCCREDENTIALSREQUEST_H
