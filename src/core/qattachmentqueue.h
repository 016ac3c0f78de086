#ifndef QATTACHMENTQUEUE_H
#define QATTACHMENTQUEUE_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmentqueuetable.h"
#include "qattachmentstatus.h"
#include "qattachmenttransaction.h"
#include "qattachmenttransfer.h"
#include "qwatchedattachmentitem.h"

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>

#include <functional>
#include <memory>

class QAttachmentErrorHandler;
class QAttachmentLocalStorage;
class QAttachmentRemoteStorage;
class QAttachmentQueuePrivate;
Q_MOC_INCLUDE("qattachmentremotestorage.h")
class QIODevice;

// Keeps the files referenced from an app's SQLite database in sync with remote
// storage: uploads what the app saved, downloads what its data references,
// deletes what it was told to, archives what is no longer referenced, and
// retries what failed. State lives in a local-only table of the app's own
// database (see QAttachmentQueueTable); the watched set of referenced
// attachments is the source of truth.
//
// Everything runs on the thread the queue lives in, without blocking it on the
// network: no lock or transaction is held across a transfer.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentQueue : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString connectionName READ connectionName WRITE setConnectionName NOTIFY
                   connectionNameChanged)
    Q_PROPERTY(QString tableName READ tableName WRITE setTableName NOTIFY tableNameChanged)
    Q_PROPERTY(QString localDirectory READ localDirectory WRITE setLocalDirectory NOTIFY
                   localDirectoryChanged)
    Q_PROPERTY(QAttachmentRemoteStorage *remoteStorage READ remoteStorage WRITE setRemoteStorage
                   NOTIFY remoteStorageChanged)
    Q_PROPERTY(int syncInterval READ syncInterval WRITE setSyncInterval NOTIFY syncIntervalChanged)
    Q_PROPERTY(int archivedCacheLimit READ archivedCacheLimit WRITE setArchivedCacheLimit NOTIFY
                   archivedCacheLimitChanged)
    Q_PROPERTY(bool downloadAttachments READ downloadAttachments WRITE setDownloadAttachments NOTIFY
                   downloadAttachmentsChanged)
    Q_PROPERTY(int maxConcurrentTransfers READ maxConcurrentTransfers WRITE
                   setMaxConcurrentTransfers NOTIFY maxConcurrentTransfersChanged)
    Q_PROPERTY(int maxAttempts READ maxAttempts WRITE setMaxAttempts NOTIFY maxAttemptsChanged)
    Q_PROPERTY(int retryDelay READ retryDelay WRITE setRetryDelay NOTIFY retryDelayChanged)
    Q_PROPERTY(
        int maxRetryDelay READ maxRetryDelay WRITE setMaxRetryDelay NOTIFY maxRetryDelayChanged)
    Q_PROPERTY(bool online READ isOnline WRITE setOnline NOTIFY onlineChanged)
    Q_PROPERTY(QString watchQuery READ watchQuery WRITE setWatchQuery NOTIFY watchQueryChanged)
    Q_PROPERTY(
        QStringList watchTables READ watchTables WRITE setWatchTables NOTIFY watchTablesChanged)
    Q_PROPERTY(int pollInterval READ pollInterval WRITE setPollInterval NOTIFY pollIntervalChanged)
    Q_PROPERTY(QString defaultFileExtension READ defaultFileExtension WRITE setDefaultFileExtension
                   NOTIFY defaultFileExtensionChanged)
    Q_PROPERTY(bool backgroundCheckpoints READ backgroundCheckpoints WRITE setBackgroundCheckpoints
                   NOTIFY backgroundCheckpointsChanged)
    Q_PROPERTY(bool syncing READ isSyncing NOTIFY syncingChanged)
    Q_PROPERTY(bool idle READ isIdle NOTIFY idleChanged)
    Q_PROPERTY(int failing READ failing NOTIFY failingChanged)
    Q_PROPERTY(int pendingUploads READ pendingUploads NOTIFY pendingUploadsChanged)
    Q_PROPERTY(int pendingDownloads READ pendingDownloads NOTIFY pendingDownloadsChanged)
    Q_PROPERTY(int pendingDeletes READ pendingDeletes NOTIFY pendingDeletesChanged)
    Q_PROPERTY(int activeTransfers READ activeTransfers NOTIFY activeTransfersChanged)

public:
    // Runs inside the transaction that writes the attachment row. Return false,
    // or let a statement fail, to roll both back.
    using UpdateHook = std::function<bool(QAttachmentTransaction &, const QAttachment &)>;

    explicit QAttachmentQueue(QObject *parent = nullptr);
    ~QAttachmentQueue() override;

    // The QSqlDatabase connection (by name) that holds the app's data and the
    // queue table. Empty: the default connection.
    QString connectionName() const;
    void setConnectionName(const QString &name);

    QString tableName() const;
    void setTableName(const QString &name);
    QAttachmentQueueTable table() const;
    void setTable(const QAttachmentQueueTable &table);

    // Either a directory (the queue then owns a QFileSystemAttachmentStorage
    // rooted there) or a storage the caller owns and keeps alive. The
    // directory belongs to the queue alone: at startSync() files in it that
    // no row owns are removed, and clearQueue() empties it.
    QString localDirectory() const;
    void setLocalDirectory(const QString &path);
    QAttachmentLocalStorage *localStorage() const;
    void setLocalStorage(QAttachmentLocalStorage *storage);

    QAttachmentRemoteStorage *remoteStorage() const;
    void setRemoteStorage(QAttachmentRemoteStorage *storage);

    // Not owned; null means "retry retryable errors forever".
    QAttachmentErrorHandler *errorHandler() const;
    void setErrorHandler(QAttachmentErrorHandler *handler);

    // Milliseconds between periodic syncs (default 30000); 0 disables them.
    int syncInterval() const;
    void setSyncInterval(int msecs);
    // Archived rows kept for restoring (default 100).
    int archivedCacheLimit() const;
    void setArchivedCacheLimit(int limit);
    // Whether watched attachments without a row are downloaded (default true).
    bool downloadAttachments() const;
    void setDownloadAttachments(bool download);
    // Transfers in flight at once (default 6, at least 1).
    int maxConcurrentTransfers() const;
    void setMaxConcurrentTransfers(int count);
    // Failed attempts of one operation after which the error handler is asked
    // (or, without one, the row is archived). 0: unlimited (default).
    int maxAttempts() const;
    void setMaxAttempts(int attempts);
    // Backoff after a failure: retryDelay * 2^(attempt-1) with jitter, capped at
    // maxRetryDelay and, when set, at syncInterval (milliseconds; defaults
    // 1000 and 300000). A server's Retry-After may ask for up to maxRetryDelay.
    int retryDelay() const;
    void setRetryDelay(int msecs);
    int maxRetryDelay() const;
    void setMaxRetryDelay(int msecs);

    // Whether transfers may start. Defaults to true; when Qt's network
    // information backend reports the network coming back, waiting retries
    // are started at once. Apps that know better set it themselves.
    bool isOnline() const;
    void setOnline(bool online);

    // SQL returning the referenced attachments: an `id` column and optionally
    // `file_extension`, `filename` and `meta_data`. Re-run when `watchTables`
    // change through the queue's connection, when another connection or
    // process commits to the database (see pollInterval), on
    // refreshWatchQuery(), and on each periodic sync.
    QString watchQuery() const;
    void setWatchQuery(const QString &sql);
    // Tables (or views: a view is followed through the tables it reads, as a
    // PowerSync view through its ps_data__ table) whose writes re-run the
    // watch query.
    QStringList watchTables() const;
    void setWatchTables(const QStringList &tables);
    // Milliseconds between checks, while syncing, of whether another
    // connection or process committed to the database (PRAGMA data_version;
    // default 250); the watch query is re-run when one did. 0: no checks.
    int pollInterval() const;
    void setPollInterval(int msecs);
    // Extension for watched rows that name neither an extension nor a filename.
    QString defaultFileExtension() const;
    void setDefaultFileExtension(const QString &extension);
    // Default false; for a database on a slow disk. When true and the
    // database is a file in WAL mode, the queue turns
    // off SQLite's auto-checkpoint on its connection (`PRAGMA
    // wal_autocheckpoint = 0`, the app's writes on that connection included)
    // and runs PASSIVE checkpoints from a second connection on a thread of
    // its own, so that no commit on this thread copies the log back into the
    // database. The setting is restored when the queue stops using the
    // connection (close(), another connection, destruction). false: the
    // connection keeps its own auto-checkpoint (see doc/state-machine.md).
    bool backgroundCheckpoints() const;
    void setBackgroundCheckpoints(bool enabled);

    bool isSyncing() const;
    // Nothing in flight and nothing that could start now: also true while
    // failed transfers wait for their retry (see failing() and status()), and
    // while the queue is stopped, offline or has no remote storage.
    bool isIdle() const;
    // Attachments whose last transfer failed and that wait for another attempt
    // (status(id).nextRetry() says when); 0 once each succeeded, changed state
    // or was given up.
    int failing() const;
    int pendingUploads() const;
    int pendingDownloads() const;
    int pendingDeletes() const;
    int activeTransfers() const;

    // Writes `data` to local storage, then in one transaction inserts the row as
    // queuedUpload and runs `updateHook`. Works before startSync(). Returns the
    // new attachment, or an invalid one (with errorString) when nothing was kept.
    QAttachment saveFile(const QByteArray &data, const QString &mediaType,
                         const QString &fileExtension = {}, const UpdateHook &updateHook = {},
                         const QString &metaData = {}, QString *errorString = nullptr);
    QAttachment saveFile(QIODevice *data, const QString &mediaType,
                         const QString &fileExtension = {}, const UpdateHook &updateHook = {},
                         const QString &metaData = {}, QString *errorString = nullptr);
    // Copies a file of the device; the extension defaults to the source's.
    QAttachment saveFileFromPath(const QString &sourcePath, const QString &mediaType,
                                 const QString &fileExtension = {},
                                 const UpdateHook &updateHook = {}, const QString &metaData = {},
                                 QString *errorString = nullptr);

    // Marks the attachment queuedDelete and runs `updateHook` (which should
    // unassign it from the app's data) in the same transaction.
    bool deleteFile(const QString &id, const UpdateHook &updateHook = {},
                    QString *errorString = nullptr);

    // The row of `id`, or an invalid attachment.
    QAttachment attachment(const QString &id) const;
    // Every row of the table, in insertion order.
    QList<QAttachment> attachments() const;
    // Absolute URL of the attachment's local file; empty until the file exists.
    QUrl localUrl(const QAttachment &attachment) const;
    QUrl localUrl(const QString &id) const;
    // The last failure of the attachment's pending operation, if it failed.
    QAttachmentError lastError(const QString &id) const;
    // Bytes done and total (-1 unknown) of the attachment's running transfer;
    // {-1, -1} when none runs.
    std::pair<qint64, qint64> transferProgressOf(const QString &id) const;
    // Where the attachment stands: its row, the bytes of its running transfer,
    // its last failure and when it is tried again. statusChanged(id) says when
    // any of it changed.
    Q_INVOKABLE QAttachmentStatus status(const QString &id) const;

    // The filename a new attachment gets; default `id.extension` (`dat` when no
    // extension is given). Override to lay files out differently.
    virtual QString resolveNewAttachmentFilename(const QString &id,
                                                 const QString &fileExtension) const;
    // A new attachment id; default a QUuid without braces.
    virtual QString generateAttachmentId() const;

    // Whether `name` is safe as an attachment id or filename: not empty, at most
    // 255 bytes of UTF-8, no path separators, no `.`/`..`, no control characters.
    static bool isValidName(const QString &name, QString *errorString = nullptr);

public Q_SLOTS:
    // Creates the table, checks local files, reconciles the watched set and
    // starts transfers and the periodic timer. Returns false (and emits
    // errorOccurred) when the queue cannot run.
    bool startSync();
    // Stops the timer and aborts transfers in flight; their rows keep their
    // state, so the work resumes with the next startSync().
    void stopSyncing();
    // stopSyncing() and release the storages' resources.
    void close();
    // Runs the watch query (if any), reconciles and starts due transfers.
    void triggerSync();
    // Like triggerSync(), but also retries failed operations now, ignoring
    // their backoff and re-trying errors that are not retried automatically.
    void retryFailed();
    // Re-runs the watch query and reconciles.
    void refreshWatchQuery();
    // Push API: the current complete list of referenced attachments.
    void setWatchedAttachments(const QList<QWatchedAttachmentItem> &items);
    // Deletes archived rows (and their files) beyond archivedCacheLimit, oldest
    // first. Returns how many were deleted, -1 on a database error.
    int expireCache();
    // Removes every row and every local file.
    bool clearQueue();

Q_SIGNALS:
    void connectionNameChanged();
    void tableNameChanged();
    void localDirectoryChanged();
    void remoteStorageChanged();
    void syncIntervalChanged();
    void archivedCacheLimitChanged();
    void downloadAttachmentsChanged();
    void maxConcurrentTransfersChanged();
    void maxAttemptsChanged();
    void retryDelayChanged();
    void maxRetryDelayChanged();
    void onlineChanged();
    void watchQueryChanged();
    void watchTablesChanged();
    void pollIntervalChanged();
    void defaultFileExtensionChanged();
    void backgroundCheckpointsChanged();
    void syncingChanged();
    void idleChanged();
    void failingChanged();
    void pendingUploadsChanged();
    void pendingDownloadsChanged();
    void pendingDeletesChanged();
    void activeTransfersChanged();

    // A row was inserted or changed (state, local file, ...).
    void attachmentChanged(const QAttachment &attachment);
    // A row was removed (deleted, expired from the cache, cleared).
    void attachmentRemoved(const QString &id);
    void transferStarted(const QString &id, QAttachmentTransfer::Kind kind);
    void transferProgress(const QString &id, QAttachmentTransfer::Kind kind, qint64 bytesDone,
                          qint64 bytesTotal);
    void uploadFinished(const QAttachment &attachment);
    void downloadFinished(const QAttachment &attachment);
    void deleteFinished(const QString &id);
    // A transfer failed; whether it will be retried is in `willRetry`.
    void transferFailed(const QString &id, QAttachmentTransfer::Kind kind,
                        const QAttachmentError &error, bool willRetry);
    // Something in status(id) changed: the row, the transfer's bytes, the
    // last error or the next retry.
    void statusChanged(const QString &id);
    // A failure outside any one transfer (database, watch query, storage).
    void errorOccurred(const QAttachmentError &error);

private:
    Q_DECLARE_PRIVATE(QAttachmentQueue)
    std::unique_ptr<QAttachmentQueuePrivate> d_ptr;
};

#endif // QATTACHMENTQUEUE_H
