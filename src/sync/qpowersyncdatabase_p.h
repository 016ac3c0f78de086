#ifndef QPOWERSYNCDATABASE_P_H
#define QPOWERSYNCDATABASE_P_H

#include "qpowersynccredentials.h"
#include "qpowersyncdatabase.h"
#include "qpowersyncprotocol_p.h"

#include <QtCore/qpointer.h>
#include <QtCore/qset.h>
#include <QtCore/qtimer.h>

#include <functional>
#include <utility>

class QNetworkReply;
class QPowerSyncBackendConnector;
class QPowerSyncCredentialsRequest;
class QPowerSyncUploadBatch;
class QPowerSyncWorker;

class QPowerSyncDatabasePrivate
{
    Q_DECLARE_PUBLIC(QPowerSyncDatabase)

public:
    explicit QPowerSyncDatabasePrivate(QPowerSyncDatabase *q);

    bool attach(const QString &connectionName, const QPowerSyncSchema &schema, bool owns);

    // Streaming.
    void startIteration();
    void control(const QString &op, const QVariant &payload);
    void handleResult(int iteration, const QVariant &value, const QString &error);
    void handleInstructions(int iteration, const QByteArray &json);
    void openStream(const QJsonObject &request);
    void checkEstablished();
    void pump();
    void finishStream();
    void dropStream();
    void endIteration(bool stopCore);
    void scheduleReconnect(int msecs, const QString &error);
    int nextBackoff(int *attempts) const;
    void fetchCredentials(bool didExpire, std::function<void()> then);
    void applyStatus(const QPowerSyncCoreStatus &status);
    void setDownloadError(const QString &error);
    // An HTTP failure of the stream or of a write checkpoint, for the error texts.
    static QString describeReply(QNetworkReply *reply, int status);

    // Uploading.
    void readCrud();
    void deleteUploaded(qint64 lastId, int count);
    void requestWriteCheckpoint();
    void reachWriteCheckpoint(const QString &checkpoint);
    void uploadFailed(const QString &error);
    void uploadFinished();
    void setUploading(bool uploading);
    void setUploadError(const QString &error);

    // Watching.
    void subscribe(const QStringList &tables);
    void onNotification(const QString &name);
    void notifyTables(const QStringList &tables);

    QNetworkAccessManager *manager() const;

    QPowerSyncDatabase *q_ptr;
    QString connectionName;
    QString path;
    bool ownsConnection = false;
    bool open = false;
    QString errorString;
    QPowerSyncWorker *worker = nullptr;
    QPointer<QPowerSyncBackendConnector> connector;
    QNetworkAccessManager *ownManager = nullptr;
    QPointer<QNetworkAccessManager> userManager;
    qsizetype maxLineLength = 16 * 1024 * 1024;
    int retryDelay = 1000;
    int maxRetryDelay = 60000;
    QVariantMap parameters;

    // Status.
    QPowerSyncCoreStatus status;
    bool uploading = false;
    QString downloadError;
    QString uploadError;
    QString lastWarning;

    // The sync iteration (between powersync_control 'start' and its end).
    bool wantConnected = false;
    int iteration = 0;
    bool iterationActive = false;
    QPointer<QNetworkReply> stream;
    QPowerSyncLineSplitter splitter;
    qint64 pendingLineBytes = 0;
    bool streamEstablished = false;
    bool streamFinished = false;
    bool pumpScheduled = false;
    bool retried401 = false;
    int attempts = 0;
    QTimer reconnectTimer;
    QString clientId;

    // Credentials.
    QPowerSyncCredentials credentials;
    bool credentialsValid = false;
    bool credentialsExpired = false;
    QPointer<QPowerSyncCredentialsRequest> credentialsRequest;
    QList<std::function<void()>> credentialsWaiters;

    // Uploads.
    bool uploadBusy = false;
    bool uploadAgain = false;
    bool uploadedSinceCheckpoint = false;
    int uploadAttempts = 0;
    QTimer uploadRetryTimer;
    QPointer<QPowerSyncUploadBatch> batch;
    QPointer<QNetworkReply> checkpointReply;

    // Watched queries.
    QList<QPointer<QPowerSyncWatchedQuery>> queries;
    QSet<QString> subscribed;
    QStringList pendingTables;
    bool notifyScheduled = false;
    QList<std::pair<QPointer<const QObject>, std::function<void()>>> firstSyncWaiters;
};

#endif // QPOWERSYNCDATABASE_P_H
