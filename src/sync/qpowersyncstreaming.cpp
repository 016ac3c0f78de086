// The download side of QPowerSyncDatabase: one iteration of the core's sync
// state machine, the /sync/stream request fed line by line to the core, the
// core's instructions, credentials and reconnecting with backoff.
#include "qpowersyncdatabase.h"

#include "qpowersyncbackendconnector.h"
#include "qpowersyncdatabase_p.h"
#include "qpowersyncworker_p.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qrandom.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qnetworkrequest.h>

namespace {
// Lines handed to the sync thread and not applied yet: above this, the
// stream is not read (the socket's buffer is bounded too, so the service is
// slowed down instead of the app's memory growing).
constexpr qint64 kMaxPendingLineBytes = 4 * 1024 * 1024;
constexpr qint64 kStreamReadBuffer = 256 * 1024;
// Read per event-loop turn before letting other events run.
constexpr qint64 kReadPerTurn = 512 * 1024;
} // namespace

QString QPowerSyncDatabasePrivate::describeReply(QNetworkReply *reply, int status)
{
    if (status >= 400)
        return QStringLiteral("HTTP %1 from %2").arg(status).arg(reply->url().path());
    return reply->errorString();
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
