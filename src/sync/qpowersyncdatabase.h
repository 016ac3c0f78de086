#ifndef QPOWERSYNCDATABASE_H
#define QPOWERSYNCDATABASE_H

#include "qpowersyncattachmentsglobal.h"
#include "qpowersyncschema.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>

#include <functional>

class QAttachmentQueue;
class QNetworkAccessManager;
class QPowerSyncBackendConnector;
class QPowerSyncWatchedQuery;
class QPowerSyncDatabasePrivate;

// A database managed by PowerSync, synced with a PowerSync Service.
//
// open() or adopt() a QSQLITE connection to a database file (the PowerSync
// core must be loaded with QPowerSyncCore::load() first), then connect() with
// a backend connector: the client streams the service's changes into the
// database (the core validates and applies them) and uploads local writes
// through the connector. Everything runs asynchronously: network I/O on the
// event loop, and the core's work on a thread of the client with its own
// connection to the same file (WAL mode), so that applying a large checkpoint
// does not hold up the app.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncDatabase : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString connectionName READ connectionName NOTIFY openChanged FINAL)
    Q_PROPERTY(bool open READ isOpen NOTIFY openChanged FINAL)
    Q_PROPERTY(bool connected READ isConnected NOTIFY connectedChanged FINAL)
    Q_PROPERTY(bool connecting READ isConnecting NOTIFY connectingChanged FINAL)
    Q_PROPERTY(bool downloading READ isDownloading NOTIFY downloadingChanged FINAL)
    Q_PROPERTY(bool uploading READ isUploading NOTIFY uploadingChanged FINAL)
    Q_PROPERTY(bool hasSynced READ hasSynced NOTIFY hasSyncedChanged FINAL)
    Q_PROPERTY(QDateTime lastSyncedAt READ lastSyncedAt NOTIFY lastSyncedAtChanged FINAL)
    Q_PROPERTY(
        qint64 downloadedOperations READ downloadedOperations NOTIFY downloadProgressChanged FINAL)
    Q_PROPERTY(qint64 totalOperations READ totalOperations NOTIFY downloadProgressChanged FINAL)
    Q_PROPERTY(QString downloadError READ downloadError NOTIFY downloadErrorChanged FINAL)
    Q_PROPERTY(QString uploadError READ uploadError NOTIFY uploadErrorChanged FINAL)
    Q_PROPERTY(int retryDelay READ retryDelay WRITE setRetryDelay NOTIFY retryDelayChanged FINAL)
    Q_PROPERTY(int maxRetryDelay READ maxRetryDelay WRITE setMaxRetryDelay NOTIFY
                   maxRetryDelayChanged FINAL)
    Q_PROPERTY(
        QVariantMap parameters READ parameters WRITE setParameters NOTIFY parametersChanged FINAL)

public:
    explicit QPowerSyncDatabase(QObject *parent = nullptr);
    // disconnect()s; closes the connection if open() opened it.
    ~QPowerSyncDatabase() override;

    // Opens `path` (created if missing) as QSQLITE connection `connectionName`
    // and applies `schema`. False with errorString() on failure: core not
    // loaded, file not writable, schema refused.
    bool open(const QString &path, const QPowerSyncSchema &schema,
              const QString &connectionName = QStringLiteral("powersync"));
    // Uses the app's open QSQLITE connection to a database file (not
    // ":memory:"), opened after QPowerSyncCore::load(); applies `schema`.
    bool adopt(const QString &connectionName, const QPowerSyncSchema &schema);
    // Disconnects, and closes the connection if open() opened it.
    void close();
    bool isOpen() const;
    QString connectionName() const;
    QString errorString() const;

    QPowerSyncBackendConnector *connector() const;
    // Starts syncing with the service the connector names: fetches
    // credentials, streams changes, uploads local writes. Reconnects after
    // errors with exponential backoff (retryDelay .. maxRetryDelay, jittered).
    // The connector must outlive the connection (or be disconnected first).
    void connect(QPowerSyncBackendConnector *connector);
    // Stops syncing; local data and local writes not yet uploaded stay.
    void disconnect();
    // disconnect(), then deletes every synced row, the sync state and local
    // writes not yet uploaded (local-only tables are kept).
    void disconnectAndClear();

    // Calls `callback` (in `context`'s thread, never from inside this call)
    // once hasSynced is true: after the first complete sync, or at once.
    void waitForFirstSync(const QObject *context, std::function<void()> callback);

    // Runs `sql` (with `params`) now and again whenever a sync or a local
    // write touches one of `tables` (view names); see QPowerSyncWatchedQuery.
    // The query is owned by `parent` (this database if null).
    QPowerSyncWatchedQuery *watch(const QString &sql, const QVariantList &params,
                                  const QStringList &tables, QObject *parent = nullptr);
    // Feeds `queue`'s watched set (QAttachmentQueue::setWatchedAttachments)
    // from `sql`, which returns `id` and `file_extension` or `filename`
    // (optionally `meta_data`), re-run when `tables` change: a synced row
    // referencing an attachment starts its download as soon as the checkpoint
    // that brings it is applied. Do not also set the queue's watchQuery.
    QPowerSyncWatchedQuery *watchAttachments(QAttachmentQueue *queue, const QString &sql,
                                             const QStringList &tables);

    bool isConnected() const;
    bool isConnecting() const;
    bool isDownloading() const;
    bool isUploading() const;
    bool hasSynced() const;
    QDateTime lastSyncedAt() const;
    // Operations received and expected for the checkpoint being downloaded.
    qint64 downloadedOperations() const;
    qint64 totalOperations() const;
    // Last errors of the stream and of uploads; cleared by the next success.
    QString downloadError() const;
    QString uploadError() const;

    // First reconnect delay after an error, in ms (default 1000); doubles per
    // failed attempt up to maxRetryDelay (default 60000); each delay is
    // randomly shortened by up to a half.
    int retryDelay() const;
    void setRetryDelay(int msecs);
    int maxRetryDelay() const;
    void setMaxRetryDelay(int msecs);
    // Client parameters sent with the sync request (used by sync rules).
    QVariantMap parameters() const;
    void setParameters(const QVariantMap &parameters);

    // The network access manager used (one of the database's own by default).
    QNetworkAccessManager *networkAccessManager() const;
    void setNetworkAccessManager(QNetworkAccessManager *manager);

    // Longest NDJSON line accepted from the service, in bytes (default 16 MiB).
    qsizetype maxLineLength() const;
    void setMaxLineLength(qsizetype bytes);

public Q_SLOTS:
    // Looks for local writes to upload now (they are noticed by themselves
    // when written through this database's connection).
    void triggerUpload();

Q_SIGNALS:
    void openChanged();
    void connectedChanged();
    void connectingChanged();
    void downloadingChanged();
    void uploadingChanged();
    void hasSyncedChanged();
    void lastSyncedAtChanged();
    void downloadProgressChanged();
    void downloadErrorChanged();
    void uploadErrorChanged();
    void retryDelayChanged();
    void maxRetryDelayChanged();
    void parametersChanged();
    // A checkpoint was validated and applied (DidCompleteSync).
    void syncCompleted();
    void firstSyncCompleted();
    // Tables (view names) changed by a sync or a local write.
    void tablesChanged(const QStringList &tables);
    // The stream ended with an error; the next attempt starts in `msecs`.
    void reconnectScheduled(int msecs, const QString &errorString);
    // A batch of local writes was acknowledged by the connector and removed.
    void uploadCompleted(int entries);
    // The service acknowledged every upload: its write checkpoint `checkpoint`
    // was handed to the core, which applies downloads up to it.
    void writeCheckpointReached(const QString &checkpoint);

private:
    Q_DECLARE_PRIVATE(QPowerSyncDatabase)
    QScopedPointer<QPowerSyncDatabasePrivate> d_ptr;
};

#endif // QPOWERSYNCDATABASE_H
