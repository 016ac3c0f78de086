#include "qattachmentstore_p.h"

#include <QtCore/qset.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

using State = QAttachmentState::State;

namespace {

// The columns every read selects; rows are read back by these names.
#define PSA_ROW_COLUMNS \
    "id, filename, local_uri, timestamp, size, media_type, state, has_synced, meta_data"

// Where each column is in a result, looked up by name once per query.
struct RowReader
{
    explicit RowReader(const QSqlRecord &record)
        : id(record.indexOf(QStringLiteral("id")))
        , filename(record.indexOf(QStringLiteral("filename")))
        , localUri(record.indexOf(QStringLiteral("local_uri")))
        , timestamp(record.indexOf(QStringLiteral("timestamp")))
        , size(record.indexOf(QStringLiteral("size")))
        , mediaType(record.indexOf(QStringLiteral("media_type")))
        , state(record.indexOf(QStringLiteral("state")))
        , hasSynced(record.indexOf(QStringLiteral("has_synced")))
        , metaData(record.indexOf(QStringLiteral("meta_data")))
    { }

    QAttachment read(const QSqlQuery &query) const
    {
        QAttachment row(query.value(id).toString(), query.value(filename).toString());
        row.setLocalUri(query.value(localUri).toString());
        row.setTimestamp(query.value(timestamp).toLongLong());
        const QVariant sizeValue = query.value(size);
        row.setSize(sizeValue.isNull() ? -1 : sizeValue.toLongLong());
        row.setMediaType(query.value(mediaType).toString());
        // Rows are only written by the queue, but the file is the app's: a
        // value outside the enum is reported by the queue, never mistaken for
        // a state.
        bool isInt = false;
        const int stored = query.value(state).toInt(&isInt);
        const auto known = isInt ? QAttachmentState::fromInt(stored) : std::nullopt;
        row.setState(known.value_or(State::Invalid));
        row.setHasSynced(query.value(hasSynced).toInt() != 0);
        row.setMetaData(query.value(metaData).toString());
        return row;
    }

    int id, filename, localUri, timestamp, size, mediaType, state, hasSynced, metaData;
};

bool failWith(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

bool runDdl(QSqlDatabase &db, const QString &sql, QString *errorString)
{
    QSqlQuery query(db);
    if (!query.exec(sql))
        return failWith(errorString,
                        QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text()));
    return true;
}

QVariant nullIfEmpty(const QString &value)
{
    return value.isEmpty() ? QVariant() : QVariant(value);
}

QVariant nullIfNull(const QString &value)
{
    return value.isNull() ? QVariant() : QVariant(value);
}

} // namespace

// --- the write transaction ------------------------------------------------------

QAttachmentStore::WriteTransaction::WriteTransaction(const QAttachmentStore &store)
    : m_database(store.database())
    , m_onCommit(store.m_onCommit)
{
    // Inside a transaction the app opened on this connection, our writes join
    // it; otherwise they get one of their own. It takes the write lock at
    // once (IMMEDIATE), waiting for another connection's lock for no more than
    // BusyTimeoutMs: a lock held elsewhere ends in "busy" here, not in a
    // statement blocked for the connection's whole busy timeout.
    {
        QSqlQuery pragma(m_database);
        const int appTimeout = pragma.exec(QStringLiteral("PRAGMA busy_timeout")) && pragma.next()
            ? pragma.value(0).toInt()
            : -1;
        const bool shortened = appTimeout > BusyTimeoutMs
            && pragma.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(BusyTimeoutMs));
        QSqlQuery begin(m_database);
        m_own = begin.exec(QStringLiteral("BEGIN IMMEDIATE"));
        const QSqlError error = begin.lastError();
        if (shortened)
            pragma.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(appTimeout));
        if (m_own) {
            m_open = true;
            return;
        }
        if (QAttachmentStore::isBusyError(error)) {
            m_busy = true;
            m_errorString = QStringLiteral("the database is busy: another connection holds its "
                                           "write lock (%1)")
                                .arg(error.databaseText());
            return;
        }
    }
    QSqlQuery probe(m_database);
    m_open = probe.exec(QStringLiteral("SELECT 1"));
    if (!m_open)
        m_errorString
            = QStringLiteral("cannot begin a transaction: %1").arg(m_database.lastError().text());
}

QAttachmentStore::WriteTransaction::~WriteTransaction()
{
    rollback();
}

bool QAttachmentStore::WriteTransaction::commit(QString *errorString)
{
    if (!m_open || m_done) {
        if (errorString && !m_errorString.isEmpty())
            *errorString = m_errorString;
        return false;
    }
    m_done = true;
    if (!m_own)
        return true;
    if (m_database.commit()) {
        if (m_onCommit)
            m_onCommit();
        return true;
    }
    m_errorString = QStringLiteral("commit failed: %1").arg(m_database.lastError().text());
    if (errorString)
        *errorString = m_errorString;
    m_database.rollback();
    return false;
}

void QAttachmentStore::WriteTransaction::rollback()
{
    if (!m_open || m_done)
        return;
    m_done = true;
    if (m_own)
        m_database.rollback();
}

// --- the busy limit ----------------------------------------------------------------

QAttachmentStore::BusyLimit::BusyLimit(const QAttachmentStore &store, int msecs)
    : m_database(store.database())
{
    QSqlQuery pragma(m_database);
    pragma.setForwardOnly(true);
    const int current = pragma.exec(QStringLiteral("PRAGMA busy_timeout")) && pragma.next()
        ? pragma.value(0).toInt()
        : -1;
    pragma.finish();
    if (current > msecs
        && pragma.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(qMax(0, msecs))))
        m_restore = current;
}

QAttachmentStore::BusyLimit::~BusyLimit()
{
    if (m_restore < 0)
        return;
    QSqlQuery pragma(m_database);
    pragma.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(m_restore));
}

bool QAttachmentStore::isBusyError(const QSqlError &error)
{
    // SQLITE_BUSY (5) or SQLITE_LOCKED (6), possibly as an extended code.
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok) & 0xff;
    return ok && (code == 5 || code == 6);
}

// --- the store -------------------------------------------------------------------

QSqlDatabase QAttachmentStore::database() const
{
    return m_connectionName.isEmpty()
        ? QSqlDatabase::database(QLatin1String(QSqlDatabase::defaultConnection), false)
        : QSqlDatabase::database(m_connectionName, false);
}

bool QAttachmentStore::createTable(QString *errorString)
{
    QString target;
    bool isView = false;
    if (!createTable(m_table, database(), errorString, &target, &isView))
        return false;
    m_target = target;
    m_isView = isView;
    return true;
}

namespace {

// "table", "view" or empty: what `name` is in the main schema.
QString schemaType(const QSqlDatabase &db, const QString &name, QString *errorString, bool *ok)
{
    QSqlQuery query(db);
    query.setForwardOnly(true);
    *ok = query.prepare(QStringLiteral("SELECT type FROM main.sqlite_master WHERE name = ? "
                                       "COLLATE NOCASE AND type IN ('table', 'view')"));
    if (*ok) {
        query.addBindValue(name);
        *ok = query.exec();
    }
    if (!*ok) {
        failWith(errorString, query.lastError().text());
        return {};
    }
    return query.next() ? query.value(0).toString() : QString();
}

// The view takes the queue's rows: it must have every column the queue writes.
bool checkViewColumns(const QSqlDatabase &db, const QString &view,
                      const QList<QAttachmentQueueTable::Column> &columns, QString *errorString)
{
    QSet<QString> existing;
    QSqlQuery info(db);
    if (!info.exec(QStringLiteral("PRAGMA main.table_info(%1)").arg(view)))
        return failWith(errorString, info.lastError().text());
    while (info.next())
        existing.insert(info.value(QStringLiteral("name")).toString().toLower());
    QStringList missing;
    for (const QAttachmentQueueTable::Column &column : columns) {
        if (!existing.contains(column.name.toLower()))
            missing << column.name;
    }
    if (missing.isEmpty())
        return true;
    return failWith(errorString,
                    QStringLiteral("the view \"%1\" lacks the column%2 %3 that the queue needs "
                                   "(a view is used as it is: declare it with every column of "
                                   "QAttachmentQueueTable::toPowerSyncTable())")
                        .arg(view, missing.size() > 1 ? QStringLiteral("s") : QString(),
                             missing.join(QStringLiteral(", "))));
}

} // namespace

bool QAttachmentStore::createTable(const QAttachmentQueueTable &table, const QSqlDatabase &database,
                                   QString *errorString, QString *target, bool *isView)
{
    const QString invalid = table.validate();
    if (!invalid.isEmpty())
        return failWith(errorString, invalid);
    QSqlDatabase db = database;
    if (!db.isOpen())
        return failWith(
            errorString,
            QStringLiteral("the database connection \"%1\" is not open").arg(db.connectionName()));

    QList<QAttachmentQueueTable::Column> columns = QAttachmentQueueTable::standardColumns();
    columns += table.additionalColumns();

    // A view in the table's place (or, with no table, in the view's place) is
    // used as it is: a PowerSync schema made it, and owns its definition.
    bool ok = false;
    const QString type = schemaType(db, table.name(), errorString, &ok);
    if (!ok)
        return false;
    QString view;
    if (type == QLatin1String("view")) {
        view = table.name();
    } else if (type.isEmpty() && !table.viewName().isEmpty()) {
        if (schemaType(db, table.viewName(), errorString, &ok) == QLatin1String("view"))
            view = table.viewName();
        if (!ok)
            return false;
    }
    if (target)
        *target = view.isEmpty() ? table.name() : view;
    if (isView)
        *isView = !view.isEmpty();
    if (!view.isEmpty())
        return checkViewColumns(db, view, columns, errorString);

    QStringList definitions;
    for (const QAttachmentQueueTable::Column &column : std::as_const(columns)) {
        if (column.name == QLatin1String("id"))
            definitions << QStringLiteral("id TEXT PRIMARY KEY NOT NULL");
        else
            definitions << column.name + QLatin1Char(' ') + column.type;
    }
    if (!runDdl(db,
                QStringLiteral("CREATE TABLE IF NOT EXISTS %1 (%2)")
                    .arg(table.name(), definitions.join(QStringLiteral(", "))),
                errorString))
        return false;

    // An older table may lack columns added since: add them, keeping every row.
    QSet<QString> existing;
    QSqlQuery info(db);
    if (!info.exec(QStringLiteral("PRAGMA table_info(%1)").arg(table.name())))
        return failWith(errorString, info.lastError().text());
    while (info.next())
        existing.insert(info.value(QStringLiteral("name")).toString().toLower());
    for (const QAttachmentQueueTable::Column &column : std::as_const(columns)) {
        if (existing.contains(column.name.toLower()))
            continue;
        if (!runDdl(db,
                    QStringLiteral("ALTER TABLE %1 ADD COLUMN %2 %3")
                        .arg(table.name(), column.name, column.type),
                    errorString))
            return false;
    }

    // The queue looks rows up by state (pending work, counts, archive order).
    if (!runDdl(
            db,
            QStringLiteral("CREATE INDEX IF NOT EXISTS %1_state_timestamp ON %1 (state, timestamp)")
                .arg(table.name()),
            errorString))
        return false;
    for (const QAttachmentQueueTable::Index &index : table.indexes()) {
        if (!runDdl(db,
                    QStringLiteral("CREATE INDEX IF NOT EXISTS %1 ON %2 (%3)")
                        .arg(index.name, table.name(), index.columns.join(QStringLiteral(", "))),
                    errorString))
            return false;
    }
    if (!table.viewName().isEmpty()
        && !runDdl(db,
                   QStringLiteral("CREATE VIEW IF NOT EXISTS %1 AS SELECT * FROM %2")
                       .arg(table.viewName(), table.name()),
                   errorString))
        return false;
    return true;
}

bool QAttachmentStore::exec(QSqlQuery &query, const QString &sql, const QVariantList &params,
                            QString *errorString) const
{
    bool ok = query.prepare(sql);
    if (ok) {
        for (const QVariant &value : params)
            query.addBindValue(value);
        ok = query.exec();
    }
    if (!ok) {
        m_lastBusy = isBusyError(query.lastError());
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text());
    }
    return ok;
}

bool QAttachmentStore::readRows(const QString &sql, const QVariantList &params,
                                QList<QAttachment> *rows, QString *errorString,
                                QVariant *lastKey) const
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!exec(query, sql, params, errorString))
        return false;
    const RowReader reader(query.record());
    const int keyColumn = lastKey ? query.record().indexOf(QStringLiteral("psa_key")) : -1;
    while (query.next()) {
        rows->append(reader.read(query));
        if (keyColumn >= 0)
            *lastKey = query.value(keyColumn);
    }
    // A read that stopped half-way (a lock taken while it stepped) is an error too.
    if (query.lastError().isValid()) {
        m_lastBusy = isBusyError(query.lastError());
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text());
        return false;
    }
    return true;
}

bool QAttachmentStore::wasApplied(QSqlQuery &query) const
{
    // Through a view's INSTEAD OF trigger SQLite counts no changed rows (0,
    // whatever happened); the row the statement returned says it matched.
    if (m_isView)
        return query.isActive() && query.next();
    return query.numRowsAffected() > 0;
}

QAttachmentStore::Result QAttachmentStore::execConditional(const QString &sql,
                                                           const QVariantList &params,
                                                           QString *errorString)
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    // SQLite makes every change of a statement with RETURNING in its first
    // step, when exec() runs: reading the row back changes nothing more.
    if (!exec(query, m_isView ? sql + QStringLiteral(" RETURNING id") : sql, params, errorString))
        return Result::Failed;
    const bool applied = wasApplied(query);
    query.finish();
    return applied ? Result::Applied : Result::Skipped;
}

std::optional<QAttachment> QAttachmentStore::row(const QString &id, QString *errorString) const
{
    QList<QAttachment> rows;
    if (!readRows(QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE id = ?").arg(t()), {id},
                  &rows, errorString))
        return std::nullopt;
    return rows.isEmpty() ? QAttachment() : rows.constFirst();
}

bool QAttachmentStore::allRows(QList<QAttachment> *rows, QString *errorString) const
{
    // A view has no rowid: it returns the rows of the table under it, in
    // that table's order (a PowerSync view: the order they were inserted in).
    return readRows(
        m_isView ? QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1").arg(t())
                 : QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 ORDER BY rowid").arg(t()),
        {}, rows, errorString);
}

bool QAttachmentStore::rowsPage(QVariant *cursor, int limit, QList<QAttachment> *rows,
                                QString *errorString) const
{
    // The key is rowid on a table and id (its primary key) on a view: either
    // way an index gives the next page without reading the ones before.
    const QString key = m_isView ? QStringLiteral("id") : QStringLiteral("rowid");
    const bool first = cursor->isNull();
    const QString sql
        = QStringLiteral("SELECT %1 AS psa_key, " PSA_ROW_COLUMNS " FROM %2%3 "
                         "ORDER BY %1 LIMIT ?")
              .arg(key, t(), first ? QString() : QStringLiteral(" WHERE %1 > ?").arg(key));
    QVariantList params;
    if (!first)
        params << *cursor;
    params << qMax(1, limit);
    return readRows(sql, params, rows, errorString, cursor);
}

bool QAttachmentStore::pendingRows(QList<QAttachment> *rows, QString *errorString) const
{
    return readRows(QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE state IN (?, ?, ?) "
                                   "ORDER BY timestamp, %2")
                        .arg(t(), order()),
                    {QAttachmentState::toInt(State::QueuedDownload),
                     QAttachmentState::toInt(State::QueuedUpload),
                     QAttachmentState::toInt(State::QueuedDelete)},
                    rows, errorString);
}

bool QAttachmentStore::expiredRows(int keep, QList<QAttachment> *rows, QString *errorString) const
{
    // Everything past the newest `keep` archived rows, in one query.
    return readRows(QStringLiteral("SELECT " PSA_ROW_COLUMNS " FROM %1 WHERE state = ? "
                                   "ORDER BY timestamp DESC, %2 DESC LIMIT -1 OFFSET ?")
                        .arg(t(), order()),
                    {QAttachmentState::toInt(State::Archived), keep}, rows, errorString);
}

bool QAttachmentStore::expiredPage(int keep, ExpiryCursor *cursor, int limit,
                                   QList<QAttachment> *rows, QString *errorString) const
{
    // The first page skips the newest `keep`; the next ones go on from the
    // last row seen, so that rows left in place (deleted by nobody, or
    // refused by the caller) are never read twice.
    const QString key = order();
    const int archived = QAttachmentState::toInt(State::Archived);
    QString sql;
    QVariantList params;
    if (!cursor->started) {
        sql = QStringLiteral("SELECT %1 AS psa_key, " PSA_ROW_COLUMNS " FROM %2 WHERE state = ? "
                             "ORDER BY timestamp DESC, %1 DESC LIMIT ? OFFSET ?")
                  .arg(key, t());
        params = {archived, qMax(1, limit), qMax(0, keep)};
    } else {
        sql = QStringLiteral("SELECT %1 AS psa_key, " PSA_ROW_COLUMNS " FROM %2 WHERE state = ? "
                             "AND (timestamp, %1) < (?, ?) ORDER BY timestamp DESC, %1 DESC "
                             "LIMIT ?")
                  .arg(key, t());
        params = {archived, cursor->timestamp, cursor->key, qMax(1, limit)};
    }
    const qsizetype before = rows->size();
    QVariant lastKey = cursor->key;
    if (!readRows(sql, params, rows, errorString, &lastKey))
        return false;
    cursor->started = true;
    if (rows->size() > before) {
        cursor->timestamp = rows->constLast().timestamp();
        cursor->key = lastKey;
    }
    return true;
}

bool QAttachmentStore::pendingCounts(int *uploads, int *downloads, int *deletes,
                                     QString *errorString) const
{
    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!exec(
            query,
            QStringLiteral("SELECT state, COUNT(*) AS n FROM %1 WHERE state IN (?, ?, ?) GROUP BY "
                           "state")
                .arg(t()),
            {QAttachmentState::toInt(State::QueuedDownload),
             QAttachmentState::toInt(State::QueuedUpload),
             QAttachmentState::toInt(State::QueuedDelete)},
            errorString))
        return false;
    *uploads = *downloads = *deletes = 0;
    const QSqlRecord record = query.record();
    const int stateColumn = record.indexOf(QStringLiteral("state"));
    const int countColumn = record.indexOf(QStringLiteral("n"));
    while (query.next()) {
        const int count = query.value(countColumn).toInt();
        switch (
            QAttachmentState::fromInt(query.value(stateColumn).toInt()).value_or(State::Archived)) {
        case State::QueuedUpload:
            *uploads = count;
            break;
        case State::QueuedDownload:
            *downloads = count;
            break;
        case State::QueuedDelete:
            *deletes = count;
            break;
        default:
            break;
        }
    }
    return true;
}

bool QAttachmentStore::insert(const QAttachment &row, QString *errorString)
{
    touch(row.id());
    QSqlQuery query(database());
    return exec(
        query,
        QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .arg(t()),
        {row.id(), row.filename(), nullIfEmpty(row.localUri()), row.timestamp(),
         row.size() < 0 ? QVariant() : QVariant(row.size()), nullIfNull(row.mediaType()),
         QAttachmentState::toInt(row.state()), row.hasSynced() ? 1 : 0, nullIfNull(row.metaData())},
        errorString);
}

bool QAttachmentStore::insertWatched(const QList<QAttachment> &rows, QString *errorString,
                                     QList<QAttachment> *inserted)
{
    if (rows.isEmpty())
        return true;
    QSqlQuery insert(database());
    insert.setForwardOnly(true);
    // Planned from rows read a while ago: a row that appeared since (saved by
    // the app under a watched id) is kept, never overwritten nor a failure.
    insert.prepare(
        QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS
                       ") SELECT ?, ?, NULL, ?, NULL, ?, ?, 0, ? WHERE NOT EXISTS "
                       "(SELECT 1 FROM %1 WHERE id = ?)%2")
            .arg(t(), m_isView && inserted ? QStringLiteral(" RETURNING id") : QString()));
    for (const QAttachment &row : rows) {
        insert.addBindValue(row.id());
        insert.addBindValue(row.filename());
        insert.addBindValue(row.timestamp());
        insert.addBindValue(nullIfEmpty(row.mediaType()));
        insert.addBindValue(QAttachmentState::toInt(row.state()));
        insert.addBindValue(nullIfNull(row.metaData()));
        insert.addBindValue(row.id());
        if (!insert.exec()) {
            m_lastBusy = isBusyError(insert.lastError());
            if (errorString)
                *errorString = insert.lastError().text();
            return false;
        }
        touch(row.id());
        if (inserted && wasApplied(insert))
            inserted->append(row);
        insert.finish();
    }
    return true;
}

bool QAttachmentStore::markQueuedDelete(const QString &id, qint64 timestamp, QString *errorString)
{
    touch(id);
    QSqlQuery query(database());
    return exec(
        query,
        QStringLiteral("UPDATE %1 SET state = ?, has_synced = 0, timestamp = ? WHERE id = ?")
            .arg(t()),
        {QAttachmentState::toInt(State::QueuedDelete), timestamp, id}, errorString);
}

bool QAttachmentStore::archiveWithoutFile(const QList<QAttachment> &rows, qint64 timestamp,
                                          QString *errorString)
{
    QSqlQuery update(database());
    update.prepare(QStringLiteral("UPDATE %1 SET state = ?, local_uri = NULL, has_synced = 0, "
                                  "timestamp = ? WHERE id = ?")
                       .arg(t()));
    for (const QAttachment &row : rows) {
        touch(row.id());
        update.addBindValue(QAttachmentState::toInt(State::Archived));
        update.addBindValue(timestamp);
        update.addBindValue(row.id());
        if (!update.exec()) {
            m_lastBusy = isBusyError(update.lastError());
            if (errorString)
                *errorString = update.lastError().text();
            return false;
        }
    }
    return true;
}

bool QAttachmentStore::applyChanges(const QList<Change> &changes, QString *errorString,
                                    QList<Change> *applied)
{
    if (changes.isEmpty())
        return true;
    QSqlQuery update(database());
    update.setForwardOnly(true);
    // Through a view, only a returned row tells that the change matched.
    update.prepare(
        QStringLiteral("UPDATE %1 SET state = ?, local_uri = ?, has_synced = ?, "
                       "timestamp = ? WHERE id = ? AND state = ?%2")
            .arg(t(), m_isView && applied ? QStringLiteral(" RETURNING id") : QString()));
    for (const Change &change : changes) {
        touch(change.row.id());
        update.addBindValue(QAttachmentState::toInt(change.row.state()));
        update.addBindValue(nullIfEmpty(change.row.localUri()));
        update.addBindValue(change.row.hasSynced() ? 1 : 0);
        update.addBindValue(change.row.timestamp());
        update.addBindValue(change.row.id());
        update.addBindValue(QAttachmentState::toInt(change.expected));
        if (!update.exec()) {
            m_lastBusy = isBusyError(update.lastError());
            if (errorString)
                *errorString = update.lastError().text();
            return false;
        }
        if (applied && wasApplied(update))
            applied->append(change);
        update.finish();
    }
    return true;
}

bool QAttachmentStore::deleteArchived(const QList<QAttachment> &rows, QString *errorString,
                                      QList<QAttachment> *deleted)
{
    QSqlQuery remove(database());
    remove.setForwardOnly(true);
    remove.prepare(
        QStringLiteral("DELETE FROM %1 WHERE id = ? AND state = ?%2")
            .arg(t(), m_isView && deleted ? QStringLiteral(" RETURNING id") : QString()));
    for (const QAttachment &row : rows) {
        touch(row.id());
        remove.addBindValue(row.id());
        remove.addBindValue(QAttachmentState::toInt(State::Archived));
        if (!remove.exec()) {
            m_lastBusy = isBusyError(remove.lastError());
            if (errorString)
                *errorString = remove.lastError().text();
            return false;
        }
        if (deleted && wasApplied(remove))
            deleted->append(row);
        remove.finish();
    }
    return true;
}

bool QAttachmentStore::deleteAll(QString *errorString)
{
    if (m_tracking)
        m_touchedAll = true;
    QSqlQuery query(database());
    return exec(query, QStringLiteral("DELETE FROM %1").arg(t()), {}, errorString);
}

bool QAttachmentStore::deleteRows(const QList<QAttachment> &rows, QString *errorString)
{
    if (rows.isEmpty())
        return true;
    QSqlQuery remove(database());
    remove.setForwardOnly(true);
    remove.prepare(QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(t()));
    for (const QAttachment &row : rows) {
        touch(row.id());
        remove.addBindValue(row.id());
        if (!remove.exec()) {
            m_lastBusy = isBusyError(remove.lastError());
            if (errorString)
                *errorString = remove.lastError().text();
            return false;
        }
        remove.finish();
    }
    return true;
}

QAttachmentStore::Result QAttachmentStore::recordUploaded(const QString &id, qint64 timestamp,
                                                          State expected, QString *errorString)
{
    touch(id);
    return execConditional(
        QStringLiteral("UPDATE %1 SET state = ?, has_synced = 1, timestamp = ? "
                       "WHERE id = ? AND state = ?")
            .arg(t()),
        {QAttachmentState::toInt(State::Synced), timestamp, id, QAttachmentState::toInt(expected)},
        errorString);
}

QAttachmentStore::Result QAttachmentStore::recordDownloaded(const QString &id,
                                                            const QString &localUri, qint64 size,
                                                            qint64 timestamp, State expected,
                                                            QString *errorString)
{
    touch(id);
    return execConditional(QStringLiteral("UPDATE %1 SET state = ?, has_synced = 1, local_uri = ?, "
                                          "size = ?, timestamp = ? WHERE id = ? AND state = ?")
                               .arg(t()),
                           {QAttachmentState::toInt(State::Synced), localUri, size, timestamp, id,
                            QAttachmentState::toInt(expected)},
                           errorString);
}

QAttachmentStore::Result QAttachmentStore::recordDeleted(const QString &id, State expected,
                                                         QString *errorString)
{
    touch(id);
    return execConditional(QStringLiteral("DELETE FROM %1 WHERE id = ? AND state = ?").arg(t()),
                           {id, QAttachmentState::toInt(expected)}, errorString);
}

QAttachmentStore::Result QAttachmentStore::recordGivenUp(const QString &id, qint64 timestamp,
                                                         State expected, QString *errorString)
{
    touch(id);
    return execConditional(
        QStringLiteral("UPDATE %1 SET state = ?, timestamp = ? WHERE id = ? AND state = ?")
            .arg(t()),
        {QAttachmentState::toInt(State::Archived), timestamp, id,
         QAttachmentState::toInt(expected)},
        errorString);
}

bool QAttachmentStore::pendingPage(PendingCursor *cursor, int limit, QList<QAttachment> *rows,
                                   QString *errorString) const
{
    // One statement: for each queued state, the next rows of that state in
    // index order (two ranges: the rest of the cursor's timestamp, then the
    // later ones), merged into one ordered page.
    const QString key = order();
    const int n = qMax(1, limit);
    const State states[] = {State::QueuedDownload, State::QueuedUpload, State::QueuedDelete};
    const QString select = QStringLiteral("SELECT * FROM (SELECT %1 AS psa_key, " PSA_ROW_COLUMNS
                                          ", timestamp IS NULL AS psa_null FROM %2 WHERE state = ? "
                                          "AND %3 ORDER BY %4 LIMIT ?)")
                               .arg(key, t());
    QStringList parts;
    QVariantList params;
    for (const State state : states) {
        const int value = QAttachmentState::toInt(state);
        if (!cursor->started) {
            parts << select.arg(QStringLiteral("1"), QStringLiteral("timestamp, %1").arg(key));
            params << value << n;
        } else if (cursor->nullTimestamp) {
            parts << select.arg(QStringLiteral("timestamp IS NULL AND %1 > ?").arg(key), key);
            params << value << cursor->key << n;
            parts << select.arg(QStringLiteral("timestamp IS NOT NULL"),
                                QStringLiteral("timestamp, %1").arg(key));
            params << value << n;
        } else {
            parts << select.arg(QStringLiteral("timestamp = ? AND %1 > ?").arg(key), key);
            params << value << cursor->timestamp << cursor->key << n;
            parts << select.arg(QStringLiteral("timestamp > ?"),
                                QStringLiteral("timestamp, %1").arg(key));
            params << value << cursor->timestamp << n;
        }
    }
    const QString sql = parts.join(QStringLiteral(" UNION ALL "))
        + QStringLiteral(" ORDER BY timestamp, psa_key LIMIT ?");
    params << n;

    QSqlQuery query(database());
    query.setForwardOnly(true);
    if (!exec(query, sql, params, errorString))
        return false;
    const RowReader reader(query.record());
    const int keyColumn = query.record().indexOf(QStringLiteral("psa_key"));
    const int nullColumn = query.record().indexOf(QStringLiteral("psa_null"));
    QVariant lastKey;
    bool lastNull = false;
    qint64 lastTimestamp = 0;
    bool any = false;
    while (query.next()) {
        QAttachment row = reader.read(query);
        lastKey = query.value(keyColumn);
        lastNull = query.value(nullColumn).toInt() != 0;
        lastTimestamp = row.timestamp();
        rows->append(std::move(row));
        any = true;
    }
    if (query.lastError().isValid()) {
        m_lastBusy = isBusyError(query.lastError());
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text());
        return false;
    }
    if (any) {
        cursor->started = true;
        cursor->key = lastKey;
        cursor->nullTimestamp = lastNull;
        cursor->timestamp = lastTimestamp;
    }
    return true;
}
