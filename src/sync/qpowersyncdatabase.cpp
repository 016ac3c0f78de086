#include "qpowersyncdatabase.h"

#include "qpowersyncbackendconnector.h"
#include "qpowersynccore.h"
#include "qpowersyncdatabase_p.h"
#include "qpowersyncworker_p.h"

#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

// The database's set-up, properties and connect()/disconnect(). The sync
// stream is in qpowersyncstreaming.cpp, the upload loop in
// qpowersyncuploading.cpp, watched queries in qpowersyncwatching.cpp.

QPowerSyncDatabasePrivate::QPowerSyncDatabasePrivate(QPowerSyncDatabase *q)
    : q_ptr(q)
{
    reconnectTimer.setSingleShot(true);
    uploadRetryTimer.setSingleShot(true);
}

QPowerSyncDatabase::QPowerSyncDatabase(QObject *parent)
    : QObject(parent)
    , d_ptr(new QPowerSyncDatabasePrivate(this))
{
    Q_D(QPowerSyncDatabase);
    QObject::connect(&d->reconnectTimer, &QTimer::timeout, this, [d] { d->startIteration(); });
    QObject::connect(&d->uploadRetryTimer, &QTimer::timeout, this, [this] { triggerUpload(); });
}

QPowerSyncDatabase::~QPowerSyncDatabase()
{
    close();
}

bool QPowerSyncDatabase::open(const QString &path, const QPowerSyncSchema &schema,
                              const QString &connectionName)
{
    Q_D(QPowerSyncDatabase);
    close();
    if (QSqlDatabase::contains(connectionName)) {
        d->errorString = QStringLiteral("a connection named %1 exists already").arg(connectionName);
        return false;
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName);
        db.setDatabaseName(path);
        // Waits for the sync thread's transactions (applying a checkpoint).
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open()) {
            d->errorString = db.lastError().text();
            db = QSqlDatabase();
            QSqlDatabase::removeDatabase(connectionName);
            return false;
        }
    }
    if (!d->attach(connectionName, schema, true)) {
        QSqlDatabase::database(connectionName, false).close();
        QSqlDatabase::removeDatabase(connectionName);
        return false;
    }
    return true;
}

bool QPowerSyncDatabase::adopt(const QString &connectionName, const QPowerSyncSchema &schema)
{
    Q_D(QPowerSyncDatabase);
    close();
    return d->attach(connectionName, schema, false);
}

bool QPowerSyncDatabasePrivate::attach(const QString &name, const QPowerSyncSchema &schema,
                                       bool owns)
{
    Q_Q(QPowerSyncDatabase);
    errorString.clear();
    if (!QPowerSyncCore::isLoaded()) {
        errorString = QStringLiteral("the PowerSync core is not loaded (QPowerSyncCore::load)");
        return false;
    }
    QSqlDatabase db = QSqlDatabase::database(name, false);
    if (!db.isValid() || !db.isOpen() || db.driverName() != QLatin1String("QSQLITE")) {
        errorString = QStringLiteral("%1 is not an open QSQLITE connection").arg(name);
        return false;
    }
    const QString file = db.databaseName();
    if (file.isEmpty() || file == QLatin1String(":memory:")
        || db.connectOptions().contains(QLatin1String("SQLITE_OPEN_URI"))) {
        errorString = QStringLiteral("the sync client needs a database file, not %1").arg(file);
        return false;
    }
    {
        // The sync thread's connection writes while this one reads.
        QSqlQuery wal(db);
        if (!wal.exec(QStringLiteral("PRAGMA journal_mode=WAL"))) {
            errorString = wal.lastError().text();
            return false;
        }
    }
    if (!QPowerSyncCore::applySchema(db, schema, &errorString))
        return false;
    connectionName = name;
    path = file;
    ownsConnection = owns;
    open = true;
    worker = new QPowerSyncWorker(path, q);
    QObject::connect(worker, &QPowerSyncWorker::tablesChanged, q,
                     [this](const QStringList &tables) { notifyTables(tables); });
    QObject::connect(
        db.driver(),
        QOverload<const QString &, QSqlDriver::NotificationSource, const QVariant &>::of(
            &QSqlDriver::notification),
        q, [this](const QString &table) { onNotification(table); });
    subscribe({QStringLiteral("ps_crud")});
    emit q->openChanged();
    return true;
}

void QPowerSyncDatabase::close()
{
    Q_D(QPowerSyncDatabase);
    if (!d->open)
        return;
    disconnect();
    delete d->worker;
    d->worker = nullptr;
    QSqlDatabase db = QSqlDatabase::database(d->connectionName, false);
    // Subscriptions stay: the driver keeps one list per connection, shared
    // with whoever else watches the same tables (the attachment queue).
    if (db.isValid() && db.driver())
        QObject::disconnect(db.driver(), nullptr, this, nullptr);
    d->subscribed.clear();
    d->open = false;
    if (d->ownsConnection) {
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(d->connectionName);
    }
    d->connectionName.clear();
    emit openChanged();
}

bool QPowerSyncDatabase::isOpen() const
{
    return d_func()->open;
}

QString QPowerSyncDatabase::connectionName() const
{
    return d_func()->connectionName;
}

QString QPowerSyncDatabase::errorString() const
{
    return d_func()->errorString;
}

QPowerSyncBackendConnector *QPowerSyncDatabase::connector() const
{
    return d_func()->connector;
}

QNetworkAccessManager *QPowerSyncDatabasePrivate::manager() const
{
    if (userManager)
        return userManager;
    if (!ownManager) {
        auto *self = const_cast<QPowerSyncDatabasePrivate *>(this);
        self->ownManager = new QNetworkAccessManager(self->q_ptr);
    }
    return ownManager;
}

QNetworkAccessManager *QPowerSyncDatabase::networkAccessManager() const
{
    return d_func()->manager();
}

void QPowerSyncDatabase::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    d_func()->userManager = manager;
}

qsizetype QPowerSyncDatabase::maxLineLength() const
{
    return d_func()->maxLineLength;
}

void QPowerSyncDatabase::setMaxLineLength(qsizetype bytes)
{
    d_func()->maxLineLength = qMax<qsizetype>(1024, bytes);
}

int QPowerSyncDatabase::retryDelay() const
{
    return d_func()->retryDelay;
}

void QPowerSyncDatabase::setRetryDelay(int msecs)
{
    Q_D(QPowerSyncDatabase);
    msecs = qMax(0, msecs);
    if (d->retryDelay == msecs)
        return;
    d->retryDelay = msecs;
    emit retryDelayChanged();
}

int QPowerSyncDatabase::maxRetryDelay() const
{
    return d_func()->maxRetryDelay;
}

void QPowerSyncDatabase::setMaxRetryDelay(int msecs)
{
    Q_D(QPowerSyncDatabase);
    msecs = qMax(0, msecs);
    if (d->maxRetryDelay == msecs)
        return;
    d->maxRetryDelay = msecs;
    emit maxRetryDelayChanged();
}

QVariantMap QPowerSyncDatabase::parameters() const
{
    return d_func()->parameters;
}

void QPowerSyncDatabase::setParameters(const QVariantMap &parameters)
{
    Q_D(QPowerSyncDatabase);
    if (d->parameters == parameters)
        return;
    d->parameters = parameters;
    emit parametersChanged();
}

bool QPowerSyncDatabase::isConnected() const
{
    return d_func()->status.connected;
}

bool QPowerSyncDatabase::isConnecting() const
{
    return d_func()->status.connecting;
}

bool QPowerSyncDatabase::isDownloading() const
{
    return d_func()->status.downloading;
}

bool QPowerSyncDatabase::isUploading() const
{
    return d_func()->uploading;
}

bool QPowerSyncDatabase::hasSynced() const
{
    return d_func()->status.hasSynced;
}

QDateTime QPowerSyncDatabase::lastSyncedAt() const
{
    return d_func()->status.lastSyncedAt;
}

qint64 QPowerSyncDatabase::downloadedOperations() const
{
    return d_func()->status.downloadedOperations;
}

qint64 QPowerSyncDatabase::totalOperations() const
{
    return d_func()->status.totalOperations;
}

QString QPowerSyncDatabase::downloadError() const
{
    return d_func()->downloadError;
}

QString QPowerSyncDatabase::uploadError() const
{
    return d_func()->uploadError;
}

// --- Connecting -------------------------------------------------------------

void QPowerSyncDatabase::connect(QPowerSyncBackendConnector *connector)
{
    Q_D(QPowerSyncDatabase);
    disconnect();
    if (!d->open || !connector) {
        d->setDownloadError(d->open ? QStringLiteral("no connector")
                                    : QStringLiteral("the database is not open"));
        return;
    }
    d->connector = connector;
    d->wantConnected = true;
    d->attempts = 0;
    d->retried401 = false;
    QPowerSyncCoreStatus status = d->status;
    status.connecting = true;
    d->applyStatus(status);
    d->startIteration();
    triggerUpload();
}

void QPowerSyncDatabase::disconnect()
{
    Q_D(QPowerSyncDatabase);
    d->wantConnected = false;
    d->reconnectTimer.stop();
    d->uploadRetryTimer.stop();
    d->credentialsWaiters.clear();
    if (d->credentialsRequest)
        d->credentialsRequest->deleteLater();
    d->credentialsRequest = nullptr;
    if (d->checkpointReply) {
        d->checkpointReply->disconnect(this);
        d->checkpointReply->abort();
        d->checkpointReply->deleteLater();
    }
    d->checkpointReply = nullptr;
    d->endIteration(true);
    d->uploadBusy = false;
    d->uploadAgain = false;
    d->setUploading(false);
    d->connector = nullptr;
    QPowerSyncCoreStatus status = d->status;
    status.connected = false;
    status.connecting = false;
    status.downloading = false;
    status.downloadedOperations = status.totalOperations = 0;
    d->applyStatus(status);
}

void QPowerSyncDatabase::disconnectAndClear()
{
    Q_D(QPowerSyncDatabase);
    disconnect();
    if (!d->worker)
        return;
    d->credentialsValid = false;
    d->worker->submit(
        [](QSqlDatabase &db, QString *error) -> QVariant {
            if (!QPowerSyncWorker::begin(db, error))
                return {};
            QSqlQuery query(db);
            if (!query.exec(QStringLiteral("SELECT powersync_clear(0)"))) {
                *error = query.lastError().text();
                QPowerSyncWorker::rollback(db);
                return {};
            }
            query.finish();
            if (!QPowerSyncWorker::commit(db, error))
                QPowerSyncWorker::rollback(db);
            return {};
        },
        [d](const QPowerSyncWorker::Result &result) {
            if (!result.errorString.isEmpty())
                d->setDownloadError(result.errorString);
            QPowerSyncCoreStatus status;
            d->applyStatus(status);
        });
}

void QPowerSyncDatabase::waitForFirstSync(const QObject *context, std::function<void()> callback)
{
    Q_D(QPowerSyncDatabase);
    if (!context || !callback)
        return;
    if (d->status.hasSynced) {
        QMetaObject::invokeMethod(const_cast<QObject *>(context), std::move(callback),
                                  Qt::QueuedConnection);
        return;
    }
    d->firstSyncWaiters.append({QPointer<const QObject>(context), std::move(callback)});
}
