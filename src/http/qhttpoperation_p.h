#ifndef QHTTPOPERATION_P_H
#define QHTTPOPERATION_P_H

#include "qhttptransfer_p.h"

#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

#include <functional>

// A transfer whose HTTP request is only known after an asynchronous step
// (a token from the app, a presigned URL from a backend). It prepares the
// request, runs it through one QHttpTransfer and, when told so, prepares and
// runs it once more after a 401/403 (a refreshed token).
//
// The preparing callback may call `ready` synchronously, later, or after the
// operation was aborted or deleted: late and repeated answers are ignored.
class QHttpOperation : public QAttachmentTransfer
{
    Q_OBJECT

public:
    using Ready
        = std::function<void(const QHttpTransfer::Request &request, const QAttachmentError &error)>;
    // `afterUnauthorized` is true when preparing the retry after a 401/403.
    using Prepare = std::function<void(bool afterUnauthorized, Ready ready)>;

    QHttpOperation(Kind kind, QNetworkAccessManager *manager, QObject *parent = nullptr);
    ~QHttpOperation() override;

    void setPrepare(Prepare prepare) { m_prepare = std::move(prepare); }
    void setRetryOnUnauthorized(bool retry) { m_retryOnUnauthorized = retry; }
    // How long preparing may take before the operation fails as Timeout; 0: no limit.
    void setPrepareTimeout(int msecs) { m_prepareTimeoutMs = msecs; }
    // The body or sink of the request, rewound to where it was at start()
    // before the retry after 401/403.
    void setDevice(QIODevice *device);

    // Starts preparing on the next event loop pass, so that the caller
    // receives the transfer before any callback of the app runs.
    void start();

protected:
    void abortTransfer() override;

private:
    void prepare(bool afterUnauthorized);
    void run(const QHttpTransfer::Request &request);
    void onExchangeFinished();

    // The storage's manager may go (with the storage) while the request is prepared.
    QPointer<QNetworkAccessManager> m_manager;
    Prepare m_prepare;
    bool m_retryOnUnauthorized = false;
    bool m_retried = false;
    int m_prepareTimeoutMs = 0;
    QTimer m_prepareTimer;
    QAttachmentError m_failWith; // set: the next prepared request is not sent
    QIODevice *m_device = nullptr;
    qint64 m_devicePos = 0;
    int m_generation = 0; // answers to an earlier prepare() are ignored
    QHttpTransfer *m_exchange = nullptr;
};

#endif // QHTTPOPERATION_P_H
