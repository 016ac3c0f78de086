#include "qpowersyncdatabase.h"

#include "qattachmentqueue.h"
#include "qpowersyncbackendconnector.h"
#include "qpowersynccore.h"
#include "qpowersyncdatabase_p.h"
#include "qpowersyncwatchedquery.h"
#include "qpowersyncworker_p.h"
#include "qwatchedattachmentitem.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qrandom.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

namespace {
// Lines handed to the sync thread and not applied yet: above this, the
// stream is not read (the socket's buffer is bounded too, so the service is
// slowed down instead of the app's memory growing).
constexpr qint64 kMaxPendingLineBytes = 4 * 1024 * 1024;
constexpr qint64 kStreamReadBuffer = 256 * 1024;
// Read per event-loop turn before letting other events run.
constexpr qint64 kReadPerTurn = 512 * 1024;
// Local writes per upload batch (whole transactions unless one is larger).
constexpr int kBatchSize = 100;
constexpr qint64 kMaxCheckpointReply = 64 * 1024;

QString describeReply(QNetworkReply *reply, int status)
{
    if (status >= 400)
        return QStringLiteral("HTTP %1 from %2").arg(status).arg(reply->url().path());
    return reply->errorString();
}
} // namespace

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

void QPowerSyncDatabasePrivate::startIteration()
{
    Q_Q(QPowerSyncDatabase);
    if (!wantConnected || !connector || !worker)
        return;
    if (!credentialsValid) {
        fetchCredentials(false, [this] { startIteration(); });
        return;
    }
    endIteration(false);
    ++iteration;
    iterationActive = true;
    lastWarning.clear();
    QVariant payload;
    if (!parameters.isEmpty()) {
        payload = QString::fromUtf8(
            QJsonDocument(QJsonObject {{QStringLiteral("parameters"),
                                        QJsonObject::fromVariantMap(parameters)}})
                .toJson(QJsonDocument::Compact));
    }
    qCDebug(lcSync) << "starting sync iteration" << iteration;
    Q_UNUSED(q);
    control(QStringLiteral("start"), payload);
}

void QPowerSyncDatabasePrivate::control(const QString &op, const QVariant &payload)
{
    const int it = iteration;
    worker->submit(
        [op, payload](QSqlDatabase &db, QString *error) {
            return QPowerSyncWorker::control(db, op, payload, error);
        },
        [this, it](const QPowerSyncWorker::Result &result) {
            handleResult(it, result.value, result.errorString);
        });
}

void QPowerSyncDatabasePrivate::handleResult(int it, const QVariant &value, const QString &error)
{
    if (it != iteration || !iterationActive)
        return;
    if (!error.isEmpty()) {
        // The core refused a line (malformed, out of order): start over.
        qCWarning(lcSync) << "sync failed:" << error;
        endIteration(true);
        scheduleReconnect(nextBackoff(&attempts), error);
        return;
    }
    handleInstructions(it, value.toString().toUtf8());
}

void QPowerSyncDatabasePrivate::handleInstructions(int it, const QByteArray &json)
{
    Q_Q(QPowerSyncDatabase);
    QList<QPowerSyncInstruction> instructions;
    QString error;
    if (!QPowerSyncProtocol::parseInstructions(json, &instructions, &error)) {
        qCWarning(lcSync) << error;
        return;
    }
    for (const QPowerSyncInstruction &instruction : std::as_const(instructions)) {
        if (it != iteration)
            return;
        switch (instruction.kind) {
        case QPowerSyncInstruction::LogLine:
            if (instruction.severity == QLatin1String("WARNING")) {
                lastWarning = instruction.line;
                qCWarning(lcSync).noquote() << instruction.line;
            } else if (instruction.severity == QLatin1String("INFO")) {
                qCInfo(lcSync).noquote() << instruction.line;
            } else {
                qCDebug(lcSync).noquote() << instruction.line;
            }
            break;
        case QPowerSyncInstruction::UpdateSyncStatus:
            applyStatus(instruction.status);
            break;
        case QPowerSyncInstruction::EstablishSyncStream:
            clientId = instruction.request.value(QLatin1String("client_id")).toString();
            openStream(instruction.request);
            break;
        case QPowerSyncInstruction::FetchCredentials:
            if (instruction.didExpire) {
                // A CloseSyncStream follows; the restart fetches new ones.
                credentialsValid = false;
                credentialsExpired = true;
            } else {
                fetchCredentials(false, [this, it] {
                    if (it == iteration && iterationActive)
                        control(QStringLiteral("refreshed_token"), QVariant());
                });
            }
            break;
        case QPowerSyncInstruction::CloseSyncStream: {
            // The core ended the iteration (new token, checksum failure, ...).
            const QString reason = lastWarning;
            endIteration(false);
            if (instruction.hideDisconnect || reason.isEmpty())
                scheduleReconnect(0, QString());
            else
                scheduleReconnect(nextBackoff(&attempts), reason);
            return;
        }
        case QPowerSyncInstruction::FlushFileSystem:
            break;
        case QPowerSyncInstruction::DidCompleteSync:
            attempts = 0;
            setDownloadError(QString());
            emit q->syncCompleted();
            break;
        case QPowerSyncInstruction::Unknown:
            qCDebug(lcSync) << "ignoring instruction" << instruction.name;
            break;
        }
    }
}

void QPowerSyncDatabasePrivate::openStream(const QJsonObject &request)
{
    Q_Q(QPowerSyncDatabase);
    dropStream();
    QNetworkRequest http(credentials.url(QStringLiteral("/sync/stream")));
    http.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    http.setRawHeader("Accept", "application/x-ndjson");
    http.setRawHeader("Authorization", "Token " + credentials.token().toLatin1());
    http.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                      QNetworkRequest::ManualRedirectPolicy);
    QNetworkReply *reply
        = manager()->post(http, QJsonDocument(request).toJson(QJsonDocument::Compact));
    reply->setReadBufferSize(kStreamReadBuffer);
    stream = reply;
    splitter = QPowerSyncLineSplitter(maxLineLength);
    streamEstablished = false;
    streamFinished = false;
    pendingLineBytes = 0;
    QObject::connect(reply, &QNetworkReply::metaDataChanged, q, [this, reply] {
        if (reply == stream)
            checkEstablished();
    });
    QObject::connect(reply, &QIODevice::readyRead, q, [this, reply] {
        if (reply == stream)
            pump();
    });
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply] {
        if (reply != stream)
            return;
        streamFinished = true;
        pump();
    });
}

void QPowerSyncDatabasePrivate::checkEstablished()
{
    if (streamEstablished || !stream)
        return;
    const int status = stream->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200)
        return;
    const QByteArray type = stream->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    if (!type.isEmpty() && !type.startsWith("application/x-ndjson")
        && !type.startsWith("application/json")) {
        const QString error = QStringLiteral("the service sent %1, not NDJSON")
                                  .arg(QString::fromLatin1(type.left(100)).simplified());
        endIteration(true);
        scheduleReconnect(nextBackoff(&attempts), error);
        return;
    }
    streamEstablished = true;
    control(QStringLiteral("connection"), QStringLiteral("established"));
}

void QPowerSyncDatabasePrivate::pump()
{
    Q_Q(QPowerSyncDatabase);
    if (!stream)
        return;
    QNetworkReply *reply = stream;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!streamEstablished && status != 0 && status != 200) {
        // An error body: nothing to feed; finishStream() reports it.
        reply->readAll();
    }
    if (!streamEstablished && status == 200)
        checkEstablished();
    if (!stream)
        return;
    qint64 budget = kReadPerTurn;
    char chunk[16 * 1024];
    while (streamEstablished && budget > 0 && pendingLineBytes < kMaxPendingLineBytes) {
        const qint64 n = reply->read(chunk, sizeof chunk);
        if (n <= 0)
            break;
        budget -= n;
        if (!splitter.append(chunk, n)) {
            const QString error
                = QStringLiteral("a sync line is longer than %1 bytes").arg(maxLineLength);
            endIteration(true);
            scheduleReconnect(nextBackoff(&attempts), error);
            return;
        }
        QByteArray line;
        while (splitter.takeLine(&line)) {
            const qint64 size = line.size();
            pendingLineBytes += size;
            const int it = iteration;
            QString text = QString::fromUtf8(line);
            line = QByteArray();
            worker->submit(
                [text = std::move(text)](QSqlDatabase &db, QString *error) {
                    return QPowerSyncWorker::control(db, QStringLiteral("line_text"), text, error);
                },
                [this, it, size](const QPowerSyncWorker::Result &result) {
                    if (it != iteration)
                        return;
                    pendingLineBytes -= size;
                    handleResult(it, result.value, result.errorString);
                    if (it == iteration && stream)
                        pump();
                });
        }
    }
    if (!stream || stream != reply)
        return;
    if (reply->bytesAvailable() > 0) {
        if (pendingLineBytes < kMaxPendingLineBytes && !pumpScheduled) {
            pumpScheduled = true;
            QTimer::singleShot(0, q, [this] {
                pumpScheduled = false;
                pump();
            });
        }
        return;
    }
    if (streamFinished)
        finishStream();
}

void QPowerSyncDatabasePrivate::finishStream()
{
    QNetworkReply *reply = stream;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QNetworkReply::NetworkError networkError = reply->error();
    QString error;
    int delay = 0;
    if (status == 401 || status == 403) {
        credentialsValid = false;
        credentialsExpired = true;
        error = describeReply(reply, status);
        if (!retried401) {
            retried401 = true;
            delay = 0;
        } else {
            delay = nextBackoff(&attempts);
        }
    } else if (networkError != QNetworkReply::NoError || status != 200) {
        error = describeReply(reply, status);
        delay = nextBackoff(&attempts);
    } else {
        // The service ended the stream (or the connection was cut): a line
        // left unfinished is dropped, the next stream resumes from the
        // buckets' last applied operations.
        error = splitter.bufferedBytes() > 0
            ? QStringLiteral("the sync stream ended in the middle of a line")
            : QStringLiteral("the sync stream ended");
        delay = nextBackoff(&attempts);
    }
    qCInfo(lcSync).noquote() << "sync stream ended:" << error;
    if (streamEstablished)
        control(QStringLiteral("connection"), QStringLiteral("end"));
    endIteration(true);
    scheduleReconnect(delay, error);
}

void QPowerSyncDatabasePrivate::dropStream()
{
    if (stream) {
        QNetworkReply *reply = stream;
        stream = nullptr;
        reply->disconnect(q_ptr);
        reply->abort();
        reply->deleteLater();
    }
    splitter.reset();
    pendingLineBytes = 0;
    streamEstablished = false;
    streamFinished = false;
}

void QPowerSyncDatabasePrivate::endIteration(bool stopCore)
{
    dropStream();
    if (!iterationActive)
        return;
    if (stopCore && worker) {
        // Ends the core's iteration; its status update comes back with the
        // old iteration's number and is applied below.
        const int it = iteration;
        worker->submit(
            [](QSqlDatabase &db, QString *error) {
                return QPowerSyncWorker::control(db, QStringLiteral("stop"), QVariant(), error);
            },
            [this, it](const QPowerSyncWorker::Result &result) {
                if (it + 1 != iteration || iterationActive)
                    return;
                QList<QPowerSyncInstruction> instructions;
                QPowerSyncProtocol::parseInstructions(result.value.toString().toUtf8(),
                                                      &instructions);
                for (const QPowerSyncInstruction &instruction : std::as_const(instructions)) {
                    if (instruction.kind != QPowerSyncInstruction::UpdateSyncStatus)
                        continue;
                    QPowerSyncCoreStatus status = instruction.status;
                    status.connecting = status.connecting || wantConnected;
                    applyStatus(status);
                }
            });
    }
    ++iteration;
    iterationActive = false;
    QPowerSyncCoreStatus status = this->status;
    status.connected = false;
    status.downloading = false;
    status.downloadedOperations = status.totalOperations = 0;
    status.connecting = wantConnected;
    applyStatus(status);
}

int QPowerSyncDatabasePrivate::nextBackoff(int *count) const
{
    const int shift = qMin(*count, 16);
    ++*count;
    const qint64 full = qMin<qint64>(qint64(retryDelay) << shift, maxRetryDelay);
    if (full <= 1)
        return int(full);
    // Between half and all of it.
    return int(full / 2 + QRandomGenerator::global()->bounded(full / 2 + 1));
}

void QPowerSyncDatabasePrivate::scheduleReconnect(int msecs, const QString &error)
{
    Q_Q(QPowerSyncDatabase);
    if (!wantConnected)
        return;
    if (!error.isEmpty())
        setDownloadError(error);
    qCDebug(lcSync) << "reconnecting in" << msecs << "ms";
    emit q->reconnectScheduled(msecs, error);
    reconnectTimer.start(msecs);
}

void QPowerSyncDatabasePrivate::fetchCredentials(bool didExpire, std::function<void()> then)
{
    Q_Q(QPowerSyncDatabase);
    if (then)
        credentialsWaiters.append(std::move(then));
    if (credentialsRequest || !connector)
        return;
    auto *request = new QPowerSyncCredentialsRequest(didExpire || credentialsExpired, q);
    credentialsExpired = false;
    credentialsRequest = request;
    QObject::connect(request, &QPowerSyncCredentialsRequest::resolved, q,
                     [this, request](const QPowerSyncCredentials &answer) {
                         request->deleteLater();
                         if (credentialsRequest != request)
                             return;
                         credentialsRequest = nullptr;
                         QString error;
                         if (!answer.isValid(&error)) {
                             credentialsWaiters.clear();
                             setDownloadError(QStringLiteral("invalid credentials: ") + error);
                             if (!iterationActive)
                                 scheduleReconnect(nextBackoff(&attempts), downloadError);
                             return;
                         }
                         credentials = answer;
                         credentialsValid = true;
                         const auto waiters = std::exchange(credentialsWaiters, {});
                         for (const auto &waiter : waiters)
                             waiter();
                     });
    QObject::connect(request, &QPowerSyncCredentialsRequest::failed, q,
                     [this, request](const QString &error) {
                         request->deleteLater();
                         if (credentialsRequest != request)
                             return;
                         credentialsRequest = nullptr;
                         credentialsWaiters.clear();
                         setDownloadError(QStringLiteral("fetching credentials failed: ") + error);
                         if (!iterationActive)
                             scheduleReconnect(nextBackoff(&attempts), downloadError);
                     });
    connector->fetchCredentials(request);
}

void QPowerSyncDatabasePrivate::applyStatus(const QPowerSyncCoreStatus &next)
{
    Q_Q(QPowerSyncDatabase);
    const QPowerSyncCoreStatus old = status;
    status = next;
    if (old.connected != next.connected)
        emit q->connectedChanged();
    if (old.connecting != next.connecting)
        emit q->connectingChanged();
    if (old.downloading != next.downloading)
        emit q->downloadingChanged();
    if (old.downloadedOperations != next.downloadedOperations
        || old.totalOperations != next.totalOperations)
        emit q->downloadProgressChanged();
    if (old.lastSyncedAt != next.lastSyncedAt)
        emit q->lastSyncedAtChanged();
    if (old.hasSynced != next.hasSynced) {
        emit q->hasSyncedChanged();
        if (next.hasSynced) {
            emit q->firstSyncCompleted();
            const auto waiters = std::exchange(firstSyncWaiters, {});
            for (const auto &waiter : waiters) {
                if (waiter.first)
                    QMetaObject::invokeMethod(const_cast<QObject *>(waiter.first.data()),
                                              waiter.second, Qt::QueuedConnection);
            }
        }
    }
}

void QPowerSyncDatabasePrivate::setDownloadError(const QString &error)
{
    Q_Q(QPowerSyncDatabase);
    if (downloadError == error)
        return;
    downloadError = error;
    emit q->downloadErrorChanged();
}

// --- Uploading --------------------------------------------------------------

void QPowerSyncDatabase::triggerUpload()
{
    Q_D(QPowerSyncDatabase);
    if (!d->wantConnected || !d->connector || !d->worker)
        return;
    if (d->uploadBusy) {
        d->uploadAgain = true;
        return;
    }
    d->uploadRetryTimer.stop();
    d->uploadBusy = true;
    d->uploadAgain = false;
    d->readCrud();
}

void QPowerSyncDatabasePrivate::readCrud()
{
    Q_Q(QPowerSyncDatabase);
    worker->submit(
        [](QSqlDatabase &db, QString *error) -> QVariant {
            QSqlQuery query(db);
            query.setForwardOnly(true);
            if (!query.exec(
                    QStringLiteral("SELECT id, tx_id, data FROM ps_crud ORDER BY id LIMIT %1")
                        .arg(kBatchSize + 1))) {
                *error = query.lastError().text();
                return {};
            }
            QVariantList rows;
            while (query.next())
                rows.append(
                    QVariant(QVariantList {query.value(0), query.value(1), query.value(2)}));
            return rows;
        },
        [this, q](const QPowerSyncWorker::Result &result) {
            if (!wantConnected || !connector) {
                uploadBusy = false;
                return;
            }
            if (!result.errorString.isEmpty()) {
                uploadFailed(result.errorString);
                return;
            }
            const QVariantList rows = result.value.toList();
            if (rows.isEmpty()) {
                if (uploadedSinceCheckpoint)
                    requestWriteCheckpoint();
                else
                    uploadFinished();
                return;
            }
            QList<QPowerSyncCrudEntry> entries;
            for (const QVariant &row : rows) {
                const QVariantList fields = row.toList();
                QPowerSyncCrudEntry entry;
                QString error;
                if (!QPowerSyncCrudEntry::fromCrudRow(fields.at(0).toLongLong(),
                                                      fields.at(1).toLongLong(),
                                                      fields.at(2).toByteArray(), &entry, &error)) {
                    uploadFailed(error);
                    return;
                }
                entries.append(entry);
            }
            if (entries.size() > kBatchSize) {
                // Whole transactions only, unless the first one alone is larger.
                const qint64 lastTx = entries.constLast().transactionId();
                entries.removeLast();
                QList<QPowerSyncCrudEntry> whole = entries;
                while (!whole.isEmpty() && whole.constLast().transactionId() == lastTx)
                    whole.removeLast();
                if (!whole.isEmpty())
                    entries = whole;
            }
            const qint64 lastId = entries.constLast().clientId();
            const int count = int(entries.size());
            auto *upload = new QPowerSyncUploadBatch(entries, q);
            batch = upload;
            QObject::connect(upload, &QPowerSyncUploadBatch::completed, q,
                             [this, upload, lastId, count] {
                                 upload->deleteLater();
                                 if (batch != upload)
                                     return;
                                 batch = nullptr;
                                 deleteUploaded(lastId, count);
                             });
            QObject::connect(upload, &QPowerSyncUploadBatch::failed, q,
                             [this, upload](const QString &error) {
                                 upload->deleteLater();
                                 if (batch != upload)
                                     return;
                                 batch = nullptr;
                                 uploadFailed(error);
                             });
            setUploading(true);
            connector->uploadData(upload);
        });
}

void QPowerSyncDatabasePrivate::deleteUploaded(qint64 lastId, int count)
{
    Q_Q(QPowerSyncDatabase);
    worker->submit(
        [lastId](QSqlDatabase &db, QString *error) -> QVariant {
            if (!QPowerSyncWorker::begin(db, error))
                return {};
            QSqlQuery query(db);
            query.prepare(QStringLiteral("DELETE FROM ps_crud WHERE id <= ?"));
            query.addBindValue(lastId);
            if (!query.exec()) {
                *error = query.lastError().text();
                QPowerSyncWorker::rollback(db);
                return {};
            }
            if (!QPowerSyncWorker::commit(db, error))
                QPowerSyncWorker::rollback(db);
            return {};
        },
        [this, q, count](const QPowerSyncWorker::Result &result) {
            if (!result.errorString.isEmpty()) {
                uploadFailed(result.errorString);
                return;
            }
            uploadedSinceCheckpoint = true;
            uploadAttempts = 0;
            setUploadError(QString());
            emit q->uploadCompleted(count);
            if (!wantConnected || !connector) {
                uploadBusy = false;
                setUploading(false);
                return;
            }
            readCrud();
        });
}

void QPowerSyncDatabasePrivate::requestWriteCheckpoint()
{
    Q_Q(QPowerSyncDatabase);
    if (!credentialsValid) {
        fetchCredentials(false, [this] {
            if (uploadBusy && !checkpointReply)
                requestWriteCheckpoint();
        });
        return;
    }
    if (clientId.isEmpty()) {
        worker->submit(
            [](QSqlDatabase &db, QString *error) -> QVariant {
                QSqlQuery query(db);
                if (!query.exec(QStringLiteral("SELECT powersync_client_id()")) || !query.next()) {
                    *error = query.lastError().text();
                    return {};
                }
                return query.value(0);
            },
            [this](const QPowerSyncWorker::Result &result) {
                if (!result.errorString.isEmpty() || result.value.toString().isEmpty()) {
                    uploadFailed(result.errorString);
                    return;
                }
                clientId = result.value.toString();
                requestWriteCheckpoint();
            });
        return;
    }
    QUrl url = credentials.url(QStringLiteral("/write-checkpoint2.json"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("client_id"), clientId);
    url.setQuery(query);
    QNetworkRequest http(url);
    http.setRawHeader("Accept", "application/json");
    http.setRawHeader("Authorization", "Token " + credentials.token().toLatin1());
    http.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                      QNetworkRequest::ManualRedirectPolicy);
    QNetworkReply *reply = manager()->get(http);
    reply->setReadBufferSize(kMaxCheckpointReply);
    checkpointReply = reply;
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply] {
        reply->deleteLater();
        if (checkpointReply != reply)
            return;
        checkpointReply = nullptr;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 401 || status == 403)
            credentialsValid = false;
        if (reply->error() != QNetworkReply::NoError || status != 200) {
            uploadFailed(QStringLiteral("write checkpoint: ") + describeReply(reply, status));
            return;
        }
        const QString checkpoint
            = QPowerSyncProtocol::parseWriteCheckpoint(reply->read(kMaxCheckpointReply));
        if (checkpoint.isEmpty()) {
            uploadFailed(QStringLiteral("write checkpoint: the service's answer has none"));
            return;
        }
        reachWriteCheckpoint(checkpoint);
    });
}

void QPowerSyncDatabasePrivate::reachWriteCheckpoint(const QString &checkpoint)
{
    Q_Q(QPowerSyncDatabase);
    const int it = iteration;
    const bool active = iterationActive;
    worker->submit(
        [checkpoint, active](QSqlDatabase &db, QString *error) -> QVariant {
            {
                QSqlQuery pending(db);
                if (!pending.exec(QStringLiteral("SELECT 1 FROM ps_crud LIMIT 1"))) {
                    *error = pending.lastError().text();
                    return {};
                }
                if (pending.next())
                    return QStringLiteral("pending");
            }
            QPowerSyncWorker::control(db, QStringLiteral("target_checkpoint_request_id"),
                                      checkpoint, error);
            if (!error->isEmpty() || !active)
                return QString();
            QString ignored;
            // Outside an iteration the core has nothing to apply.
            return QPowerSyncWorker::control(db, QStringLiteral("completed_upload"), QVariant(),
                                             &ignored);
        },
        [this, q, it, checkpoint](const QPowerSyncWorker::Result &result) {
            if (!result.errorString.isEmpty()) {
                uploadFailed(result.errorString);
                return;
            }
            if (result.value.toString() == QLatin1String("pending")) {
                readCrud();
                return;
            }
            uploadedSinceCheckpoint = false;
            qCDebug(lcSync) << "write checkpoint" << checkpoint;
            emit q->writeCheckpointReached(checkpoint);
            if (!result.value.toString().isEmpty() && it == iteration && iterationActive)
                handleInstructions(it, result.value.toString().toUtf8());
            uploadFinished();
        });
}

void QPowerSyncDatabasePrivate::uploadFailed(const QString &error)
{
    qCWarning(lcSync).noquote() << "upload failed:" << error;
    uploadBusy = false;
    uploadAgain = false;
    setUploadError(error.isEmpty() ? QStringLiteral("upload failed") : error);
    if (wantConnected)
        uploadRetryTimer.start(nextBackoff(&uploadAttempts));
}

void QPowerSyncDatabasePrivate::uploadFinished()
{
    Q_Q(QPowerSyncDatabase);
    uploadBusy = false;
    setUploading(false);
    if (uploadAgain) {
        uploadAgain = false;
        q->triggerUpload();
    }
}

void QPowerSyncDatabasePrivate::setUploading(bool value)
{
    Q_Q(QPowerSyncDatabase);
    if (uploading == value)
        return;
    uploading = value;
    emit q->uploadingChanged();
}

void QPowerSyncDatabasePrivate::setUploadError(const QString &error)
{
    Q_Q(QPowerSyncDatabase);
    if (uploadError == error)
        return;
    uploadError = error;
    emit q->uploadErrorChanged();
}

// --- Watching ---------------------------------------------------------------

QPowerSyncWatchedQuery *QPowerSyncDatabase::watch(const QString &sql, const QVariantList &params,
                                                  const QStringList &tables, QObject *parent)
{
    Q_D(QPowerSyncDatabase);
    auto *query = new QPowerSyncWatchedQuery(d->connectionName, sql, params, tables,
                                             parent ? parent : this);
    d->queries.append(query);
    QStringList underlying;
    for (const QString &table : tables) {
        underlying << table << QStringLiteral("ps_data__") + table
                   << QStringLiteral("ps_data_local__") + table;
    }
    d->subscribe(underlying);
    query->refresh();
    return query;
}

QPowerSyncWatchedQuery *QPowerSyncDatabase::watchAttachments(QAttachmentQueue *queue,
                                                             const QString &sql,
                                                             const QStringList &tables)
{
    if (!queue)
        return nullptr;
    QPowerSyncWatchedQuery *query = watch(sql, {}, tables, queue);
    auto feed = [queue](const QVariantList &rows) {
        QList<QWatchedAttachmentItem> items;
        items.reserve(rows.size());
        for (const QVariant &row : rows) {
            const QVariantMap map = row.toMap();
            const QWatchedAttachmentItem item(
                map.value(QStringLiteral("id")).toString(),
                map.value(QStringLiteral("file_extension")).toString(),
                map.value(QStringLiteral("filename")).toString(),
                map.value(QStringLiteral("meta_data")).toString());
            if (item.isValid())
                items.append(item);
        }
        queue->setWatchedAttachments(items);
    };
    QObject::connect(query, &QPowerSyncWatchedQuery::resultsChanged, queue, feed);
    feed(query->rows());
    return query;
}

void QPowerSyncDatabasePrivate::subscribe(const QStringList &tables)
{
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    if (!db.isValid() || !db.driver())
        return;
    const QStringList shared = db.driver()->subscribedToNotifications();
    for (const QString &table : tables) {
        // Another subscriber of the same name (the attachment queue) is enough:
        // the driver's notification signal reaches every receiver.
        if (subscribed.contains(table) || shared.contains(table))
            continue;
        if (db.driver()->subscribeToNotification(table))
            subscribed.insert(table);
    }
}

void QPowerSyncDatabasePrivate::onNotification(const QString &name)
{
    Q_Q(QPowerSyncDatabase);
    if (name == QLatin1String("ps_crud")) {
        q->triggerUpload();
        return;
    }
    const QString table = QPowerSyncProtocol::userTableName(name);
    if (!pendingTables.contains(table))
        pendingTables.append(table);
    if (notifyScheduled)
        return;
    // One refresh for the rows of a transaction (Qt reports each row).
    notifyScheduled = true;
    QTimer::singleShot(0, q, [this] {
        notifyScheduled = false;
        notifyTables(std::exchange(pendingTables, {}));
    });
}

void QPowerSyncDatabasePrivate::notifyTables(const QStringList &raw)
{
    Q_Q(QPowerSyncDatabase);
    QStringList tables;
    for (const QString &name : raw) {
        if (name.startsWith(QLatin1String("ps_")) && !name.startsWith(QLatin1String("ps_data")))
            continue;
        const QString table = QPowerSyncProtocol::userTableName(name);
        if (!tables.contains(table))
            tables.append(table);
    }
    if (tables.isEmpty())
        return;
    emit q->tablesChanged(tables);
    for (qsizetype i = 0; i < queries.size();) {
        QPowerSyncWatchedQuery *query = queries.at(i);
        if (!query) {
            queries.removeAt(i);
            continue;
        }
        if (query->touches(tables))
            query->refresh();
        ++i;
    }
}
