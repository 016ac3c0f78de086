#include "qattachmentqueue.h"
#include "qattachmentqueue_p.h"

#include "qattachmenterrorhandler.h"
#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentremotestorage.h"
#include "qfilesystemattachmentstorage.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/quuid.h>
#include <QtNetwork/qnetworkinformation.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

namespace {

template<typename T>
bool assign(T &member, const T &value)
{
    if (member == value)
        return false;
    member = value;
    return true;
}

QAttachment failSave(QString *errorString, const QString &message)
{
    qCWarning(lcQueue) << "saveFile:" << message;
    if (errorString)
        *errorString = message;
    return {};
}

bool failCall(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

} // namespace

QAttachmentQueue::QAttachmentQueue(QObject *parent)
    : QObject(parent)
    , d_ptr(new QAttachmentQueuePrivate(this))
{ }

QAttachmentQueue::~QAttachmentQueue()
{
    Q_D(QAttachmentQueue);
    d->scheduler->abortAll();
    d->unsubscribeWatchTables();
}

QString QAttachmentQueue::connectionName() const
{
    return d_func()->store.connectionName();
}

void QAttachmentQueue::setConnectionName(const QString &name)
{
    Q_D(QAttachmentQueue);
    if (name == d->store.connectionName())
        return;
    d->reconfigure([d, name] { d->store.setConnectionName(name); },
                   [this] { emit connectionNameChanged(); });
}

QString QAttachmentQueue::tableName() const
{
    return d_func()->store.tableName();
}

void QAttachmentQueue::setTableName(const QString &name)
{
    Q_D(QAttachmentQueue);
    if (name == d->store.tableName())
        return;
    QAttachmentQueueTable table = d->store.table();
    table.setName(name);
    setTable(table);
}

QAttachmentQueueTable QAttachmentQueue::table() const
{
    return d_func()->store.table();
}

void QAttachmentQueue::setTable(const QAttachmentQueueTable &table)
{
    Q_D(QAttachmentQueue);
    const bool nameChanged = table.name() != d->store.tableName();
    d->reconfigure([d, table] { d->store.setTable(table); },
                   [this, nameChanged] {
                       if (nameChanged)
                           emit tableNameChanged();
                   });
}

QString QAttachmentQueue::localDirectory() const
{
    return d_func()->localDirectory;
}

void QAttachmentQueue::setLocalDirectory(const QString &path)
{
    Q_D(QAttachmentQueue);
    if (path == d->localDirectory)
        return;
    d->reconfigure(
        [d, path] {
            d->localDirectory = path;
            d->externalStorage = nullptr;
            d->ownedStorage.reset(path.isEmpty() ? nullptr
                                                 : new QFileSystemAttachmentStorage(path));
        },
        [this] { emit localDirectoryChanged(); });
}

QAttachmentLocalStorage *QAttachmentQueue::localStorage() const
{
    return d_func()->storage();
}

void QAttachmentQueue::setLocalStorage(QAttachmentLocalStorage *storage)
{
    Q_D(QAttachmentQueue);
    if (storage == d->storage())
        return;
    const bool dirChanged = !d->localDirectory.isEmpty();
    d->reconfigure(
        [d, storage] {
            d->externalStorage = storage;
            d->ownedStorage.reset();
            d->localDirectory.clear();
        },
        [this, dirChanged] {
            if (dirChanged)
                emit localDirectoryChanged();
        });
}

QAttachmentRemoteStorage *QAttachmentQueue::remoteStorage() const
{
    return d_func()->remote;
}

void QAttachmentQueue::setRemoteStorage(QAttachmentRemoteStorage *storage)
{
    Q_D(QAttachmentQueue);
    if (storage == d->remote)
        return;
    const bool wasSyncing = d->syncing;
    stopSyncing();
    if (d->remote)
        disconnect(d->remote, nullptr, this, nullptr);
    d->remote = storage;
    if (storage) {
        // New credentials or settings may fix what retries could not.
        connect(storage, &QAttachmentRemoteStorage::configurationChanged, this, [d] {
            d->scheduler->retryNow();
            d->scheduler->schedule();
        });
        connect(storage, &QObject::destroyed, this, [this, d] {
            stopSyncing();
            d->remote = nullptr;
            emit remoteStorageChanged();
        });
    }
    d->scheduler->retryNow();
    emit remoteStorageChanged();
    if (wasSyncing && storage)
        startSync();
}

QAttachmentErrorHandler *QAttachmentQueue::errorHandler() const
{
    return d_func()->errorHandler;
}

void QAttachmentQueue::setErrorHandler(QAttachmentErrorHandler *handler)
{
    d_func()->errorHandler = handler;
}

int QAttachmentQueue::syncInterval() const
{
    return d_func()->syncInterval;
}

void QAttachmentQueue::setSyncInterval(int msecs)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->syncInterval, qMax(0, msecs)))
        return;
    d->scheduler->setPeriodic(d->syncing ? d->syncInterval : 0);
    emit syncIntervalChanged();
}

int QAttachmentQueue::archivedCacheLimit() const
{
    return d_func()->archivedCacheLimit;
}

void QAttachmentQueue::setArchivedCacheLimit(int limit)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->archivedCacheLimit, qMax(0, limit)))
        return;
    emit archivedCacheLimitChanged();
    if (d->syncing)
        d->expireCache();
}

bool QAttachmentQueue::downloadAttachments() const
{
    return d_func()->downloadAttachments;
}

void QAttachmentQueue::setDownloadAttachments(bool download)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->downloadAttachments, download))
        return;
    emit downloadAttachmentsChanged();
    if (d->syncing)
        d->reconcile();
}

int QAttachmentQueue::maxConcurrentTransfers() const
{
    return d_func()->maxConcurrentTransfers;
}

void QAttachmentQueue::setMaxConcurrentTransfers(int count)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->maxConcurrentTransfers, qMax(1, count)))
        return;
    emit maxConcurrentTransfersChanged();
    d->scheduler->schedule();
}

int QAttachmentQueue::maxAttempts() const
{
    return d_func()->maxAttempts;
}

void QAttachmentQueue::setMaxAttempts(int attempts)
{
    Q_D(QAttachmentQueue);
    if (assign(d->maxAttempts, qMax(0, attempts)))
        emit maxAttemptsChanged();
}

int QAttachmentQueue::retryDelay() const
{
    return d_func()->retryDelay;
}

void QAttachmentQueue::setRetryDelay(int msecs)
{
    Q_D(QAttachmentQueue);
    if (assign(d->retryDelay, qMax(0, msecs)))
        emit retryDelayChanged();
}

int QAttachmentQueue::maxRetryDelay() const
{
    return d_func()->maxRetryDelay;
}

void QAttachmentQueue::setMaxRetryDelay(int msecs)
{
    Q_D(QAttachmentQueue);
    if (assign(d->maxRetryDelay, qMax(0, msecs)))
        emit maxRetryDelayChanged();
}

bool QAttachmentQueue::isOnline() const
{
    return d_func()->online;
}

void QAttachmentQueue::setOnline(bool online)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->online, online))
        return;
    qCDebug(lcQueue) << "online:" << online;
    if (online) {
        // Failures while offline say nothing about the server: try again now.
        d->scheduler->retryNow();
        d->scheduler->schedule();
    }
    d->updateIdle();
    emit onlineChanged();
}

QString QAttachmentQueue::watchQuery() const
{
    return d_func()->watchQuery;
}

void QAttachmentQueue::setWatchQuery(const QString &sql)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->watchQuery, sql))
        return;
    emit watchQueryChanged();
    if (d->watchQuery.isEmpty())
        return;
    if (d->syncing)
        d->refreshWatchQuery();
}

QStringList QAttachmentQueue::watchTables() const
{
    return d_func()->watchTables;
}

void QAttachmentQueue::setWatchTables(const QStringList &tables)
{
    Q_D(QAttachmentQueue);
    if (!assign(d->watchTables, tables))
        return;
    if (d->syncing) {
        d->unsubscribeWatchTables();
        d->subscribeWatchTables();
    }
    emit watchTablesChanged();
}

int QAttachmentQueue::pollInterval() const
{
    return d_func()->pollInterval;
}

void QAttachmentQueue::setPollInterval(int msecs)
{
    Q_D(QAttachmentQueue);
    const int before = d->pollInterval;
    if (!assign(d->pollInterval, qMax(0, msecs)))
        return;
    if (d->syncing) {
        d->startPolling();
        // Commits made while nobody checked are not known: look once.
        if (before == 0)
            d->onExternalChange();
    }
    emit pollIntervalChanged();
}

QString QAttachmentQueue::defaultFileExtension() const
{
    return d_func()->defaultFileExtension;
}

void QAttachmentQueue::setDefaultFileExtension(const QString &extension)
{
    Q_D(QAttachmentQueue);
    if (assign(d->defaultFileExtension, extension))
        emit defaultFileExtensionChanged();
}

bool QAttachmentQueue::isSyncing() const
{
    return d_func()->syncing;
}

bool QAttachmentQueue::isIdle() const
{
    return d_func()->idle;
}

int QAttachmentQueue::failing() const
{
    return d_func()->failing;
}

int QAttachmentQueue::pendingUploads() const
{
    return d_func()->pendingUploads;
}

int QAttachmentQueue::pendingDownloads() const
{
    return d_func()->pendingDownloads;
}

int QAttachmentQueue::pendingDeletes() const
{
    return d_func()->pendingDeletes;
}

int QAttachmentQueue::activeTransfers() const
{
    return d_func()->scheduler->activeCount();
}

QAttachment QAttachmentQueue::saveFile(const QByteArray &data, const QString &mediaType,
                                       const QString &fileExtension, const UpdateHook &updateHook,
                                       const QString &metaData, QString *errorString)
{
    QBuffer buffer;
    buffer.setData(data);
    buffer.open(QIODevice::ReadOnly);
    return saveFile(&buffer, mediaType, fileExtension, updateHook, metaData, errorString);
}

QAttachment QAttachmentQueue::saveFile(QIODevice *data, const QString &mediaType,
                                       const QString &fileExtension, const UpdateHook &updateHook,
                                       const QString &metaData, QString *errorString)
{
    Q_D(QAttachmentQueue);
    if (!data || !data->isOpen() || !data->isReadable())
        return failSave(errorString, QStringLiteral("the data device is not open for reading"));
    QString problem;
    if (!d->ensureReady(&problem))
        return failSave(errorString, problem);

    const QString id = generateAttachmentId();
    const QString extension = d->newExtension(fileExtension);
    problem = d->problemWithNewId(id, extension);
    if (!problem.isEmpty())
        return failSave(errorString, problem);
    const QString filename = resolveNewAttachmentFilename(id, extension);
    const QString localName = d->newLocalName(id, filename, mediaType, &problem);
    if (localName.isEmpty())
        return failSave(errorString, problem);

    const QAttachment saved
        = d->addSaved(data, id, filename, localName, mediaType, metaData, updateHook, &problem);
    return saved.isValid() ? saved : failSave(errorString, problem);
}

QAttachment QAttachmentQueue::saveFileFromPath(const QString &sourcePath, const QString &mediaType,
                                               const QString &fileExtension,
                                               const UpdateHook &updateHook,
                                               const QString &metaData, QString *errorString)
{
    QFile file(sourcePath);
    if (!file.open(QIODevice::ReadOnly))
        return failSave(errorString,
                        QStringLiteral("cannot read %1: %2").arg(sourcePath, file.errorString()));
    QString extension = fileExtension;
    if (extension.isEmpty())
        extension = QFileInfo(sourcePath).suffix();
    return saveFile(&file, mediaType, extension, updateHook, metaData, errorString);
}

bool QAttachmentQueue::deleteFile(const QString &id, const UpdateHook &updateHook,
                                  QString *errorString)
{
    Q_D(QAttachmentQueue);
    QString problem = QAttachmentNames::problemWith(id, QStringLiteral("attachment id"));
    if (!problem.isEmpty())
        return failCall(errorString, problem);
    if (!d->ensureReady(&problem))
        return failCall(errorString, problem);
    std::optional<QAttachment> row;
    {
        const QAttachmentStore::ReadLimit shortWait(d->store, QAttachmentStore::BusyTimeoutMs);
        row = d->store.row(id, &problem);
    }
    if (!row)
        return failCall(errorString,
                        d->store.lastFailureWasBusy()
                            ? QStringLiteral("the database is busy: another connection holds a "
                                             "lock on it (%1)")
                                  .arg(problem)
                            : problem);
    if (!row->isValid())
        return failCall(errorString, QStringLiteral("no attachment with id \"%1\"").arg(id));

    QAttachment attachment = *row;
    attachment.setState(QAttachmentState::QueuedDelete);
    attachment.setHasSynced(false);
    attachment.setTimestamp(QDateTime::currentMSecsSinceEpoch());

    const bool ok = d->writeWithHook(
        [&](QString *error) {
            return d->store.markQueuedDelete(id, attachment.timestamp(), error);
        },
        updateHook, attachment, &problem);
    if (!ok)
        return failCall(errorString, QStringLiteral("nothing deleted: %1").arg(problem));

    // The delete wins over an upload or download of the same attachment.
    d->scheduler->abortIfStale(id, QAttachmentState::QueuedDelete);
    d->scheduler->forget(id);
    d->scheduler->invalidatePending();
    d->emitChanged(attachment);
    d->scheduleCounts();
    d->scheduler->schedule();
    return true;
}

QAttachment QAttachmentQueue::attachment(const QString &id) const
{
    Q_D(const QAttachmentQueue);
    if (!const_cast<QAttachmentQueuePrivate *>(d)->ensureReady(nullptr))
        return {};
    QAttachment row;
    {
        // Another connection's lock is waited for briefly: then there is no row to give.
        const QAttachmentStore::ReadLimit shortWait(d->store, QAttachmentStore::BusyTimeoutMs);
        row = d->store.row(id, nullptr).value_or(QAttachment());
    }
    if (row.isValid())
        const_cast<QAttachmentQueuePrivate *>(d)->statuses.remember(row);
    return row;
}

QList<QAttachment> QAttachmentQueue::attachments() const
{
    Q_D(const QAttachmentQueue);
    QList<QAttachment> result;
    if (!const_cast<QAttachmentQueuePrivate *>(d)->ensureReady(nullptr))
        return result;
    QString problem;
    auto *self = const_cast<QAttachmentQueuePrivate *>(d);
    bool ok = false;
    {
        const QAttachmentStore::ReadLimit shortWait(d->store, QAttachmentStore::BusyTimeoutMs);
        ok = d->store.allRows(&result, &problem);
    }
    if (!ok) {
        self->reportError(QAttachmentError::DatabaseError, problem);
        return result;
    }
    // What status() tells about these rows, until the queue changes them.
    for (const QAttachment &row : std::as_const(result))
        self->statuses.remember(row);
    return result;
}

QUrl QAttachmentQueue::localUrl(const QAttachment &attachment) const
{
    Q_D(const QAttachmentQueue);
    QAttachmentLocalStorage *storage = d->storage();
    if (!storage || attachment.localUri().isEmpty() || !storage->exists(attachment.localUri()))
        return {};
    return storage->url(attachment.localUri());
}

QUrl QAttachmentQueue::localUrl(const QString &id) const
{
    return localUrl(attachment(id));
}

QAttachmentError QAttachmentQueue::lastError(const QString &id) const
{
    return d_func()->scheduler->lastError(id);
}

std::pair<qint64, qint64> QAttachmentQueue::transferProgressOf(const QString &id) const
{
    return d_func()->scheduler->progressOf(id);
}

QAttachmentStatus QAttachmentQueue::status(const QString &id) const
{
    Q_D(const QAttachmentQueue);
    QAttachmentStatus result(d->statuses.knownRow(id).value_or(QAttachment()));
    if (!result.attachment().isValid())
        result.setAttachment(attachment(id));
    const auto [done, total] = d->scheduler->liveProgressOf(id);
    result.setBytes(done, total);
    result.setLastError(d->scheduler->lastError(id));
    const qint64 next = d->scheduler->nextRetryMs(id);
    if (next >= 0)
        result.setNextRetry(QDateTime::fromMSecsSinceEpoch(next));
    return result;
}

QString QAttachmentQueue::resolveNewAttachmentFilename(const QString &id,
                                                       const QString &fileExtension) const
{
    const QString extension = fileExtension.isEmpty() ? QStringLiteral("dat") : fileExtension;
    return id + QLatin1Char('.') + extension;
}

QString QAttachmentQueue::generateAttachmentId() const
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

bool QAttachmentQueue::backgroundCheckpoints() const
{
    return d_func()->backgroundCheckpoints;
}

void QAttachmentQueue::setBackgroundCheckpoints(bool enabled)
{
    Q_D(QAttachmentQueue);
    if (d->backgroundCheckpoints == enabled)
        return;
    d->backgroundCheckpoints = enabled;
    d->updateCheckpointer();
    emit backgroundCheckpointsChanged();
}

bool QAttachmentQueue::isValidName(const QString &name, QString *errorString)
{
    const QString problem = QAttachmentNames::problemWith(name, QStringLiteral("name"));
    if (errorString)
        *errorString = problem;
    return problem.isEmpty();
}

bool QAttachmentQueue::startSync()
{
    return d_func()->startSync();
}

void QAttachmentQueue::stopSyncing()
{
    d_func()->stopSyncing();
}

void QAttachmentQueue::close()
{
    Q_D(QAttachmentQueue);
    stopSyncing();
    d->scheduler->forgetAll();
    d->invalidateReady();
}

void QAttachmentQueue::triggerSync()
{
    d_func()->triggerSync();
}

void QAttachmentQueue::retryFailed()
{
    Q_D(QAttachmentQueue);
    d->scheduler->retryNow();
    d->triggerSync();
}

void QAttachmentQueue::refreshWatchQuery()
{
    d_func()->refreshWatchQuery();
}

void QAttachmentQueue::setWatchedAttachments(const QList<QWatchedAttachmentItem> &items)
{
    Q_D(QAttachmentQueue);
    d->watched = items;
    if (d->syncing)
        d->reconcile();
}

int QAttachmentQueue::expireCache()
{
    return d_func()->expireCache();
}

bool QAttachmentQueue::clearQueue()
{
    return d_func()->clearQueue();
}
