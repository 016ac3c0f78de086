// The upload side of QPowerSyncDatabase: local writes from ps_crud handed to
// the backend connector in batches, removed once uploaded, then a write
// checkpoint reported to the core.
#include "qpowersyncdatabase.h"

#include "qpowersyncbackendconnector.h"
#include "qpowersyncdatabase_p.h"
#include "qpowersyncworker_p.h"

#include <QtCore/qjsondocument.h>
#include <QtCore/qurlquery.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qnetworkrequest.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

namespace {
// Local writes per upload batch (whole transactions unless one is larger).
constexpr int kBatchSize = 100;
constexpr qint64 kMaxCheckpointReply = 64 * 1024;
} // namespace

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
