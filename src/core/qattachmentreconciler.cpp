// Keeps the queue table in line with the watched set, the source of truth for
// which attachments the app's data references (DESIGN rules in doc/).

#include "qattachmentqueue_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qmimedatabase.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

using State = QAttachmentState::State;

bool QAttachmentQueuePrivate::runWatchQuery(QString *errorString)
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    QString problem;
    if (!query.exec(watchQuery)) {
        problem = QStringLiteral("the watch query failed: %1").arg(query.lastError().text());
        reportRecurring(QStringLiteral("watch"), QAttachmentError::DatabaseError, problem);
        if (errorString)
            *errorString = problem;
        return false;
    }
    const QSqlRecord record = query.record();
    const int idColumn = record.indexOf(QStringLiteral("id"));
    if (idColumn < 0) {
        problem = QStringLiteral("the watch query returns no \"id\" column");
        reportRecurring(QStringLiteral("watch"), QAttachmentError::InvalidInput, problem);
        if (errorString)
            *errorString = problem;
        return false;
    }
    const int extensionColumn = record.indexOf(QStringLiteral("file_extension"));
    const int filenameColumn = record.indexOf(QStringLiteral("filename"));
    const int metaColumn = record.indexOf(QStringLiteral("meta_data"));
    QList<QWatchedAttachmentItem> items;
    while (query.next()) {
        const QVariant id = query.value(idColumn);
        if (id.isNull())
            continue; // an unassigned reference (e.g. a checklist item without photo)
        QWatchedAttachmentItem item;
        item.setId(id.toString());
        if (extensionColumn >= 0)
            item.setFileExtension(query.value(extensionColumn).toString());
        if (filenameColumn >= 0)
            item.setFilename(query.value(filenameColumn).toString());
        if (metaColumn >= 0)
            item.setMetaData(query.value(metaColumn).toString());
        items.append(item);
    }
    watched = std::move(items);
    clearRecurring(QStringLiteral("watch"));
    return true;
}

void QAttachmentQueuePrivate::subscribeWatchTables()
{
    Q_Q(QAttachmentQueue);
    QSqlDatabase db = database();
    QSqlDriver *driver = db.isOpen() ? db.driver() : nullptr;
    if (!driver || watchTables.isEmpty())
        return;
    for (const QString &tableName : std::as_const(watchTables)) {
        if (subscribedTables.contains(tableName))
            continue;
        guardWatchTable(tableName, true);
        // The driver counts subscriptions per name; another subscriber of the
        // same table on this connection keeps its own.
        if (driver->subscribedToNotifications().contains(tableName)
            || driver->subscribeToNotification(tableName))
            subscribedTables.append(tableName);
        else
            qCWarning(lcQueue) << "cannot watch table" << tableName << "for changes";
    }
    if (!driverConnection)
        driverConnection
            = QObject::connect(driver, &QSqlDriver::notification, q,
                               [this](const QString &name) { onDatabaseNotification(name); });
}

void QAttachmentQueuePrivate::guardWatchTable(const QString &tableName, bool guard)
{
    // SQLite empties a table on `DELETE FROM t` without WHERE without telling
    // its update hook, so the driver would not notify. Any DELETE trigger
    // turns that shortcut off; a TEMP one is this connection's alone and
    // changes nothing in the app's schema.
    if (!guard || !QAttachmentQueueTable::isValidIdentifier(tableName))
        return;
    QSqlQuery query(database());
    const QString sql = QStringLiteral("CREATE TEMP TRIGGER IF NOT EXISTS \"psa_notify_delete_%1\" "
                                       "AFTER DELETE ON main.\"%1\" BEGIN SELECT 1; END")
                            .arg(tableName);
    // A view (or a missing table) takes no such trigger: nothing to guard.
    if (!query.exec(sql))
        qCDebug(lcQueue) << "no delete guard on" << tableName << query.lastError().text();
}

void QAttachmentQueuePrivate::unsubscribeWatchTables()
{
    QSqlDatabase db = database();
    QSqlDriver *driver = db.isValid() ? db.driver() : nullptr;
    QObject::disconnect(driverConnection);
    driverConnection = {};
    if (driver) {
        for (const QString &tableName : std::as_const(subscribedTables))
            driver->unsubscribeFromNotification(tableName);
    }
    subscribedTables.clear();
}

void QAttachmentQueuePrivate::onDatabaseNotification(const QString &tableName)
{
    // A hint to re-query soon: notifications carry no detail, and a burst of
    // writes should cost one query.
    if (syncing && subscribedTables.contains(tableName, Qt::CaseInsensitive)
        && !watchTimer.isActive())
        watchTimer.start();
}

void QAttachmentQueuePrivate::reconcile()
{
    if (!syncing || !watched || !ready)
        return;
    QSqlDatabase db = database();
    QString problem;

    QSqlQuery select(db);
    select.setForwardOnly(true);
    if (!exec(select, QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1").arg(t()), {},
              &problem)) {
        reportError(QAttachmentError::DatabaseError, problem);
        return;
    }
    QHash<QString, QAttachment> rows;
    QSet<QString> leftAlone; // rows that fail validation: reported, never changed
    while (select.next()) {
        QAttachment row = rowFromQuery(select);
        if (!acceptRow(row))
            leftAlone.insert(row.id());
        rows.insert(row.id(), row);
    }
    select.finish();

    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<QAttachment> inserts;
    QList<QAttachment> updates;
    QSet<QString> watchedIds;
    watchedIds.reserve(watched->size());
    QHash<QString, QString> mediaTypes; // by extension: QMimeDatabase lookups are not free
    QMimeDatabase mimeDatabase;

    for (const QWatchedAttachmentItem &item : std::as_const(*watched)) {
        const QString &id = item.id();
        QString bad = QAttachmentNames::problemWith(id, QStringLiteral("watched attachment id"));
        if (bad.isEmpty() && watchedIds.contains(id))
            continue; // listed twice
        if (!bad.isEmpty()) {
            if (!reportedBadIds.contains(id)) {
                reportedBadIds.insert(id);
                reportError(QAttachmentError::InvalidInput, bad);
            }
            continue;
        }
        watchedIds.insert(id);
        if (leftAlone.contains(id))
            continue;
        const auto existing = rows.constFind(id);
        if (existing == rows.cend()) {
            if (!downloadAttachments)
                continue;
            QString filename = item.filename();
            if (filename.isEmpty()) {
                QString extension = item.fileExtension();
                if (extension.isEmpty())
                    extension = defaultFileExtension;
                bad = extension.isEmpty() ? QString()
                                          : QAttachmentNames::problemWithExtension(extension);
                if (bad.isEmpty())
                    filename = q_ptr->resolveNewAttachmentFilename(id, extension);
            }
            if (bad.isEmpty())
                bad = QAttachmentNames::problemWith(filename, QStringLiteral("filename"));
            if (!bad.isEmpty()) {
                if (!reportedBadIds.contains(id)) {
                    reportedBadIds.insert(id);
                    reportError(QAttachmentError::InvalidInput,
                                QStringLiteral("watched attachment %1: %2").arg(id, bad));
                }
                continue;
            }
            QAttachment row(id, filename, State::QueuedDownload);
            row.setTimestamp(now);
            row.setMetaData(item.metaData());
            const QString suffix = filename.section(QLatin1Char('.'), -1).toLower();
            auto type = mediaTypes.constFind(suffix);
            if (type == mediaTypes.cend()) {
                const QMimeType mime
                    = mimeDatabase.mimeTypeForFile(filename, QMimeDatabase::MatchExtension);
                type = mediaTypes.insert(suffix, mime.isDefault() ? QString() : mime.name());
            }
            row.setMediaType(*type);
            inserts.append(row);
            continue;
        }
        if (existing->state() != State::Archived)
            continue;
        if (!restoreAllWatched && previouslyWatched.contains(id))
            continue; // archived while watched: an error handler gave up on it
        QAttachment row = *existing;
        const QString name = localName(row);
        const bool fileThere = !row.localUri().isEmpty() && storage()->exists(name);
        if (row.hasSynced() && fileThere)
            row.setState(State::Synced);
        else if (!row.hasSynced() && fileThere)
            row.setState(State::QueuedUpload);
        else {
            row.setState(State::QueuedDownload);
            row.setLocalUri(QString());
            row.setHasSynced(false);
        }
        row.setTimestamp(now);
        updates.append(row);
    }

    for (const QAttachment &existing : std::as_const(rows)) {
        if (watchedIds.contains(existing.id()) || leftAlone.contains(existing.id()))
            continue;
        bool archive = false;
        switch (existing.state()) {
        case State::QueuedUpload:
        case State::QueuedDelete:
            // An upload that never reached the server must not be lost.
            archive = existing.hasSynced();
            break;
        case State::QueuedDownload:
        case State::Synced:
            archive = true;
            break;
        case State::Archived:
        case State::Invalid:
            break;
        }
        if (!archive)
            continue;
        QAttachment row = existing;
        row.setState(State::Archived);
        row.setTimestamp(now);
        updates.append(row);
    }

    if (!inserts.isEmpty() || !updates.isEmpty()) {
        bool own = false;
        if (!beginWrite(&own, &problem)) {
            reportError(QAttachmentError::DatabaseError, problem);
            return;
        }
        bool ok = true;
        QSqlQuery insert(db);
        if (!inserts.isEmpty()) {
            insert.prepare(QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS
                                          ") VALUES (?, ?, NULL, ?, NULL, ?, ?, 0, ?)")
                               .arg(t()));
            for (const QAttachment &row : std::as_const(inserts)) {
                insert.addBindValue(row.id());
                insert.addBindValue(row.filename());
                insert.addBindValue(row.timestamp());
                insert.addBindValue(row.mediaType().isEmpty() ? QVariant()
                                                              : QVariant(row.mediaType()));
                insert.addBindValue(QAttachmentState::toInt(row.state()));
                insert.addBindValue(row.metaData().isNull() ? QVariant()
                                                            : QVariant(row.metaData()));
                if (!insert.exec()) {
                    ok = false;
                    problem = insert.lastError().text();
                    break;
                }
            }
        }
        QSqlQuery update(db);
        if (ok && !updates.isEmpty()) {
            // Conditional on the state read above: a transfer finishing in
            // between keeps its result.
            update.prepare(QStringLiteral("UPDATE %1 SET state = ?, local_uri = ?, has_synced = ?, "
                                          "timestamp = ? WHERE id = ? AND state = ?")
                               .arg(t()));
            for (const QAttachment &row : std::as_const(updates)) {
                update.addBindValue(QAttachmentState::toInt(row.state()));
                update.addBindValue(row.localUri().isEmpty() ? QVariant()
                                                             : QVariant(row.localUri()));
                update.addBindValue(row.hasSynced() ? 1 : 0);
                update.addBindValue(row.timestamp());
                update.addBindValue(row.id());
                update.addBindValue(QAttachmentState::toInt(rows.value(row.id()).state()));
                if (!update.exec()) {
                    ok = false;
                    problem = update.lastError().text();
                    break;
                }
            }
        }
        if (!endWrite(own, ok, &problem) || !ok) {
            reportError(
                QAttachmentError::DatabaseError,
                QStringLiteral("reconciling the watched attachments failed: %1").arg(problem));
            return;
        }
        qCDebug(lcQueue) << "reconciled:" << inserts.size() << "new," << updates.size()
                         << "changed";
        for (const QAttachment &row : std::as_const(updates)) {
            abortJobIfStale(row.id(), row.state());
            retries.remove(row.id());
            // A download that will not run again leaves no partial file behind.
            if (rows.value(row.id()).state() == State::QueuedDownload
                && row.state() != State::QueuedDownload)
                storage()->removePartial(downloadName(row));
        }
        for (const QAttachment &row : std::as_const(inserts))
            emitChanged(row);
        for (const QAttachment &row : std::as_const(updates))
            emitChanged(row);
        pendingDirty = true;
        scheduleCounts();
        schedulePump();
    }
    previouslyWatched = std::move(watchedIds);
    restoreAllWatched = false;
    if (!updates.isEmpty())
        q_ptr->expireCache();
}
