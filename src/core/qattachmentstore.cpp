#include "qattachmentstore_p.h"

#include <QtCore/qset.h>
#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>
#include <QtSql/qsqlresult.h>

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

// A failed statement of the table's set-up; a lock held elsewhere is named
// as such, since trying again later helps.
bool failQuery(QString *errorString, const QSqlError &error, const QString &sql = {})
{
    QString message
        = sql.isEmpty() ? error.text() : QStringLiteral("\"%1\" failed: %2").arg(sql, error.text());
    if (QAttachmentStore::isBusyError(error))
        message
            = QStringLiteral("the database is busy (another connection holds a lock): ") + message;
    return failWith(errorString, message);
}

bool runDdl(QSqlDatabase &db, const QString &sql, QString *errorString)
{
    QSqlQuery query(db);
    if (!query.exec(sql))
        return failQuery(errorString, query.lastError(), sql);
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

namespace {

// A kept statement's result, read: reset, so that it holds no read open.
struct Finisher
{
    std::shared_ptr<QSqlQuery> query;
    ~Finisher()
    {
        if (query)
            query->finish();
    }
};

// The connection's busy timeout; -1 when it cannot be read.
template<typename Run>
int readBusyTimeout(const Run &run)
{
    const Finisher pragma {run(QStringLiteral("PRAGMA busy_timeout"))};
    return pragma.query && pragma.query->next() ? pragma.query->value(0).toInt() : -1;
}

} // namespace

QAttachmentStore::WriteTransaction::WriteTransaction(const QAttachmentStore &store)
    : m_store(store)
    , m_database(store.database())
{
    // Inside a transaction the app opened on this connection, our writes join
    // it; otherwise they get one of their own. It takes the write lock at
    // once (IMMEDIATE), and it and its commit wait for another connection's
    // lock for no more than BusyTimeoutMs: a lock held elsewhere ends in
    // "busy" here, not in a statement blocked for the connection's whole
    // busy timeout. (With a rollback journal, a commit waits for every
    // reader of the file.)
    const auto run
        = [this](const QString &sql) { return m_store.run(m_database, sql, {}, nullptr, false); };
    {
        const int appTimeout = readBusyTimeout(run);
        const bool shortened = appTimeout > BusyTimeoutMs
            && Finisher {run(QStringLiteral("PRAGMA busy_timeout = %1").arg(BusyTimeoutMs))}.query;
        if (shortened)
            m_restore = appTimeout;
        Finisher begin {run(QStringLiteral("BEGIN IMMEDIATE"))};
        m_own = begin.query != nullptr;
        const bool busy = !m_own && m_store.lastFailureWasBusy();
        const QSqlError error = m_store.m_lastError;
        if (m_own) {
            m_open = true;
            return;
        }
        restoreBusyTimeout();
        if (busy) {
            m_busy = true;
            m_errorString = QStringLiteral("the database is busy: another connection holds its "
                                           "write lock (%1)")
                                .arg(error.databaseText());
            return;
        }
    }
    m_open = Finisher {m_store.run(m_database, QStringLiteral("SELECT 1"), {}, nullptr)}.query
        != nullptr;
    if (!m_open)
        m_errorString
            = QStringLiteral("cannot begin a transaction: %1").arg(m_store.m_lastError.text());
}

QAttachmentStore::WriteTransaction::~WriteTransaction()
{
    rollback();
    restoreBusyTimeout();
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
    if (Finisher {m_store.run(m_database, QStringLiteral("COMMIT"), {}, nullptr, false)}.query) {
        restoreBusyTimeout();
        if (m_store.m_onCommit)
            m_store.m_onCommit();
        return true;
    }
    const bool busy = m_store.lastFailureWasBusy();
    m_errorString = busy ? QStringLiteral("the database is busy: another connection holds a lock "
                                          "on it, so the commit could not finish (%1)")
                               .arg(m_store.m_lastError.databaseText())
                         : QStringLiteral("commit failed: %1").arg(m_store.m_lastError.text());
    if (errorString)
        *errorString = m_errorString;
    const QSqlError commitError = m_store.m_lastError;
    Finisher {m_store.run(m_database, QStringLiteral("ROLLBACK"), {}, nullptr, false)};
    // The caller asks whether the commit met a lock, not the rollback.
    m_store.m_lastError = commitError;
    m_store.m_lastBusy = busy;
    restoreBusyTimeout();
    return false;
}

void QAttachmentStore::WriteTransaction::rollback()
{
    if (!m_open || m_done)
        return;
    m_done = true;
    if (m_own)
        Finisher {m_store.run(m_database, QStringLiteral("ROLLBACK"), {}, nullptr, false)};
    restoreBusyTimeout();
}

void QAttachmentStore::WriteTransaction::restoreBusyTimeout()
{
    if (m_restore < 0)
        return;
    Finisher {m_store.run(m_database, QStringLiteral("PRAGMA busy_timeout = %1").arg(m_restore), {},
                          nullptr, false)};
    m_restore = -1;
}

// --- the busy limit ----------------------------------------------------------------

QAttachmentStore::BusyLimit::BusyLimit(const QAttachmentStore &store, int msecs)
    : m_store(store)
    , m_database(store.database())
{
    const auto run
        = [this](const QString &sql) { return m_store.run(m_database, sql, {}, nullptr, false); };
    const int current = readBusyTimeout(run);
    if (current > msecs
        && Finisher {run(QStringLiteral("PRAGMA busy_timeout = %1").arg(qMax(0, msecs)))}.query)
        m_restore = current;
}

QAttachmentStore::ReadLimit::ReadLimit(const QAttachmentStore &store, int msecs)
{
    if (store.m_readsMayWait)
        m_limit.emplace(store, msecs);
}

QAttachmentStore::BusyLimit::~BusyLimit()
{
    if (m_restore < 0)
        return;
    Finisher {m_store.run(m_database, QStringLiteral("PRAGMA busy_timeout = %1").arg(m_restore), {},
                          nullptr, false)};
}

// --- one statement ------------------------------------------------------------------

bool QAttachmentStore::writeOneStatement(const std::function<bool(QString *)> &write,
                                         QString *errorString)
{
    bool ok = false;
    {
        const BusyLimit limit(*this, BusyTimeoutMs);
        m_lastBusy = false;
        ok = write(errorString);
    }
    if (ok) {
        // Inside a transaction of the app's, the write commits with it; the
        // observer's checkpoint then finds nothing more to copy.
        if (m_onCommit)
            m_onCommit();
        return true;
    }
    if (m_lastBusy)
        failWith(errorString,
                 QStringLiteral("the database is busy: another connection holds a lock on it (%1)")
                     .arg(m_lastError.databaseText()));
    return false;
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
    if (target != m_target || isView != m_isView)
        dropStatements();
    m_target = target;
    m_isView = isView;
    // In WAL mode a read never waits for another connection; with a rollback
    // journal it waits for a writer's exclusive lock (a commit, or a write
    // whose cache spilled). A mode that cannot be read counts as waiting.
    QSqlQuery mode(database());
    m_readsMayWait
        = !(mode.exec(QStringLiteral("PRAGMA journal_mode")) && mode.next()
            && mode.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0);
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
        failQuery(errorString, query.lastError());
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
        return failQuery(errorString, info.lastError());
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
        return failQuery(errorString, info.lastError());
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

namespace {

// Whether a statement kept from an earlier call can run: its connection is
// open and it was not finalized meanwhile (closing a connection finalizes
// every statement prepared on it).
bool canRun(const QSqlQuery &query)
{
    const QSqlResult *result = query.result();
    if (!result || !query.driver() || !query.driver()->isOpen())
        return false;
    const QVariant handle = result->handle();
    if (handle.metaType().flags() & QMetaType::IsPointer)
        return *static_cast<void *const *>(handle.constData()) != nullptr;
    return true;
}

} // namespace

std::shared_ptr<QSqlQuery> QAttachmentStore::statement(const QSqlDatabase &db, const QString &sql,
                                                       bool *reused, QString *errorString) const
{
    *reused = false;
    const QSqlDriver *driver = db.driver();
    if (m_keptDriver.data() != driver) {
        m_kept.clear();
        m_keptDriver = const_cast<QSqlDriver *>(driver);
    }
    const auto kept = m_kept.find(sql);
    if (kept != m_kept.end()) {
        if (canRun(*kept->query)) {
            kept->lastUse = ++m_useClock;
            *reused = true;
            return kept->query;
        }
        m_kept.erase(kept);
    }
    auto query = std::make_shared<QSqlQuery>(db);
    query->setForwardOnly(true);
    if (!query->prepare(sql)) {
        m_lastError = query->lastError();
        m_lastBusy = isBusyError(m_lastError);
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, m_lastError.text());
        return nullptr;
    }
    if (m_kept.size() >= MaxKeptStatements) {
        auto oldest = m_kept.begin();
        for (auto it = m_kept.begin(); it != m_kept.end(); ++it) {
            if (it->lastUse < oldest->lastUse)
                oldest = it;
        }
        m_kept.erase(oldest);
    }
    m_kept.insert(sql, {query, ++m_useClock});
    return query;
}

std::shared_ptr<QSqlQuery> QAttachmentStore::run(const QSqlDatabase &db, const QString &sql,
                                                 const QVariantList &params, QString *errorString,
                                                 bool retry) const
{
    for (;;) {
        bool reused = false;
        std::shared_ptr<QSqlQuery> query = statement(db, sql, &reused, errorString);
        if (!query)
            return nullptr;
        for (const QVariant &value : params)
            query->addBindValue(value);
        if (query->exec())
            return query;
        m_lastError = query->lastError();
        m_lastBusy = isBusyError(m_lastError);
        query->finish();
        // Whatever failed is prepared anew next time.
        m_kept.remove(sql);
        if (reused && retry && !m_lastBusy) {
            retry = false;
            continue;
        }
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, m_lastError.text());
        return nullptr;
    }
}

bool QAttachmentStore::readRows(const QString &sql, const QVariantList &params,
                                QList<QAttachment> *rows, QString *errorString,
                                QVariant *lastKey) const
{
    const Finisher done {run(database(), sql, params, errorString)};
    if (!done.query)
        return false;
    QSqlQuery &query = *done.query;
    const QSqlRecord record = query.record();
    const RowReader reader(record);
    const int keyColumn = lastKey ? record.indexOf(QStringLiteral("psa_key")) : -1;
    while (query.next()) {
        rows->append(reader.read(query));
        if (keyColumn >= 0)
            *lastKey = query.value(keyColumn);
    }
    // A read that stopped half-way (a lock taken while it stepped) is an error too.
    if (query.lastError().isValid()) {
        m_lastError = query.lastError();
        m_lastBusy = isBusyError(m_lastError);
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, m_lastError.text());
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
    // SQLite makes every change of a statement with RETURNING in its first
    // step, when exec() runs: reading the row back changes nothing more.
    const Finisher done {run(database(), m_isView ? sql + QStringLiteral(" RETURNING id") : sql,
                             params, errorString)};
    if (!done.query)
        return Result::Failed;
    return wasApplied(*done.query) ? Result::Applied : Result::Skipped;
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
    const Finisher done {
        run(database(),
            QStringLiteral("SELECT state, COUNT(*) AS n FROM %1 WHERE state IN (?, ?, ?) GROUP BY "
                           "state")
                .arg(t()),
            {QAttachmentState::toInt(State::QueuedDownload),
             QAttachmentState::toInt(State::QueuedUpload),
             QAttachmentState::toInt(State::QueuedDelete)},
            errorString)};
    if (!done.query)
        return false;
    QSqlQuery &query = *done.query;
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
    return Finisher {run(database(),
                         QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS
                                        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                             .arg(t()),
                         {row.id(), row.filename(), nullIfEmpty(row.localUri()), row.timestamp(),
                          row.size() < 0 ? QVariant() : QVariant(row.size()),
                          nullIfNull(row.mediaType()), QAttachmentState::toInt(row.state()),
                          row.hasSynced() ? 1 : 0, nullIfNull(row.metaData())},
                         errorString)}
               .query
        != nullptr;
}

bool QAttachmentStore::insertWatched(const QList<QAttachment> &rows, QString *errorString,
                                     QList<QAttachment> *inserted)
{
    if (rows.isEmpty())
        return true;
    const QSqlDatabase db = database();
    // Planned from rows read a while ago: a row that appeared since (saved by
    // the app under a watched id) is kept, never overwritten nor a failure.
    const QString sql
        = QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS
                         ") SELECT ?, ?, NULL, ?, NULL, ?, ?, 0, ? WHERE NOT EXISTS "
                         "(SELECT 1 FROM %1 WHERE id = ?)%2")
              .arg(t(), m_isView && inserted ? QStringLiteral(" RETURNING id") : QString());
    const auto insertOne = [&](const QAttachment &row) {
        const Finisher done {
            run(db, sql,
                {row.id(), row.filename(), row.timestamp(), nullIfEmpty(row.mediaType()),
                 QAttachmentState::toInt(row.state()), nullIfNull(row.metaData()), row.id()},
                nullptr)};
        if (!done.query)
            return failWith(errorString, m_lastError.text());
        touch(row.id());
        if (inserted && wasApplied(*done.query))
            inserted->append(row);
        return true;
    };
    qsizetype next = 0;
    // A table (not a view, whose trigger counts no rows) takes full batches
    // of rows none of which it holds in one statement each.
    while (!m_isView && rows.size() - next >= InsertBatch) {
        const QList<QAttachment> batch = rows.mid(next, InsertBatch);
        next += InsertBatch;
        QSet<QString> ids;
        for (const QAttachment &row : batch)
            ids.insert(row.id());
        int held = 0;
        if (ids.size() == batch.size() && !countIds(db, batch, &held, errorString))
            return false;
        if (held > 0 || ids.size() != batch.size()) {
            for (const QAttachment &row : batch) {
                if (!insertOne(row))
                    return false;
            }
            continue;
        }
        if (!insertBatch(db, batch, errorString))
            return false;
        for (const QAttachment &row : batch)
            touch(row.id());
        if (inserted)
            inserted->append(batch);
    }
    for (; next < rows.size(); ++next) {
        if (!insertOne(rows.at(next)))
            return false;
    }
    return true;
}

bool QAttachmentStore::countIds(const QSqlDatabase &db, const QList<QAttachment> &rows, int *held,
                                QString *errorString) const
{
    QString marks = QStringLiteral("?");
    QVariantList ids {rows.constFirst().id()};
    for (qsizetype i = 1; i < rows.size(); ++i) {
        marks += QStringLiteral(", ?");
        ids.append(rows.at(i).id());
    }
    const Finisher done {
        run(db, QStringLiteral("SELECT COUNT(*) FROM %1 WHERE id IN (%2)").arg(t(), marks), ids,
            errorString)};
    if (!done.query)
        return false;
    if (!done.query->next())
        return failWith(errorString, QStringLiteral("counting rows returned nothing"));
    *held = done.query->value(0).toInt();
    return true;
}

bool QAttachmentStore::insertBatch(const QSqlDatabase &db, const QList<QAttachment> &rows,
                                   QString *errorString)
{
    // Inside the write transaction no other connection adds a row between
    // the count and this statement; outside one, a row added meanwhile
    // fails the whole statement (SQLite undoes all of it), never overwritten.
    QString values;
    QVariantList params;
    params.reserve(rows.size() * 6);
    for (const QAttachment &row : rows) {
        values += values.isEmpty() ? QStringLiteral("(?, ?, NULL, ?, NULL, ?, ?, 0, ?)")
                                   : QStringLiteral(", (?, ?, NULL, ?, NULL, ?, ?, 0, ?)");
        params << row.id() << row.filename() << row.timestamp() << nullIfEmpty(row.mediaType())
               << QAttachmentState::toInt(row.state()) << nullIfNull(row.metaData());
    }
    const Finisher done {
        run(db, QStringLiteral("INSERT INTO %1 (" PSA_ROW_COLUMNS ") VALUES %2").arg(t(), values),
            params, errorString)};
    if (!done.query)
        return false;
    if (done.query->numRowsAffected() != rows.size())
        return failWith(errorString,
                        QStringLiteral("%1 rows written of %2")
                            .arg(done.query->numRowsAffected())
                            .arg(rows.size()));
    return true;
}

bool QAttachmentStore::markQueuedDelete(const QString &id, qint64 timestamp, QString *errorString)
{
    touch(id);
    return Finisher {run(database(),
                         QStringLiteral("UPDATE %1 SET state = ?, has_synced = 0, timestamp = ? "
                                        "WHERE id = ?")
                             .arg(t()),
                         {QAttachmentState::toInt(State::QueuedDelete), timestamp, id},
                         errorString)}
               .query
        != nullptr;
}

bool QAttachmentStore::archiveWithoutFile(const QList<QAttachment> &rows, qint64 timestamp,
                                          QString *errorString)
{
    const QSqlDatabase db = database();
    const QString sql = QStringLiteral("UPDATE %1 SET state = ?, local_uri = NULL, has_synced = 0, "
                                       "timestamp = ? WHERE id = ?")
                            .arg(t());
    for (const QAttachment &row : rows) {
        touch(row.id());
        if (!Finisher {run(db, sql, {QAttachmentState::toInt(State::Archived), timestamp, row.id()},
                           nullptr)}
                 .query)
            return failWith(errorString, m_lastError.text());
    }
    return true;
}

bool QAttachmentStore::applyChanges(const QList<Change> &changes, QString *errorString,
                                    QList<Change> *applied)
{
    if (changes.isEmpty())
        return true;
    const QSqlDatabase db = database();
    // Through a view, only a returned row tells that the change matched.
    const QString sql
        = QStringLiteral("UPDATE %1 SET state = ?, local_uri = ?, has_synced = ?, "
                         "timestamp = ? WHERE id = ? AND state = ?%2")
              .arg(t(), m_isView && applied ? QStringLiteral(" RETURNING id") : QString());
    for (const Change &change : changes) {
        touch(change.row.id());
        const Finisher done {
            run(db, sql,
                {QAttachmentState::toInt(change.row.state()), nullIfEmpty(change.row.localUri()),
                 change.row.hasSynced() ? 1 : 0, change.row.timestamp(), change.row.id(),
                 QAttachmentState::toInt(change.expected)},
                nullptr)};
        if (!done.query)
            return failWith(errorString, m_lastError.text());
        if (applied && wasApplied(*done.query))
            applied->append(change);
    }
    return true;
}

bool QAttachmentStore::deleteArchived(const QList<QAttachment> &rows, QString *errorString,
                                      QList<QAttachment> *deleted)
{
    const QSqlDatabase db = database();
    const QString sql
        = QStringLiteral("DELETE FROM %1 WHERE id = ? AND state = ?%2")
              .arg(t(), m_isView && deleted ? QStringLiteral(" RETURNING id") : QString());
    for (const QAttachment &row : rows) {
        touch(row.id());
        const Finisher done {
            run(db, sql, {row.id(), QAttachmentState::toInt(State::Archived)}, nullptr)};
        if (!done.query)
            return failWith(errorString, m_lastError.text());
        if (deleted && wasApplied(*done.query))
            deleted->append(row);
    }
    return true;
}

bool QAttachmentStore::deleteAll(QString *errorString)
{
    if (m_tracking)
        m_touchedAll = true;
    return Finisher {run(database(), QStringLiteral("DELETE FROM %1").arg(t()), {}, errorString)}
               .query
        != nullptr;
}

bool QAttachmentStore::deleteRows(const QList<QAttachment> &rows, QString *errorString)
{
    if (rows.isEmpty())
        return true;
    const QSqlDatabase db = database();
    const QString sql = QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(t());
    for (const QAttachment &row : rows) {
        touch(row.id());
        if (!Finisher {run(db, sql, {row.id()}, nullptr)}.query)
            return failWith(errorString, m_lastError.text());
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

    const Finisher done {run(database(), sql, params, errorString)};
    if (!done.query)
        return false;
    QSqlQuery &query = *done.query;
    const QSqlRecord record = query.record();
    const RowReader reader(record);
    const int keyColumn = record.indexOf(QStringLiteral("psa_key"));
    const int nullColumn = record.indexOf(QStringLiteral("psa_null"));
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
        m_lastError = query.lastError();
        m_lastBusy = isBusyError(m_lastError);
        if (errorString)
            *errorString = QStringLiteral("\"%1\" failed: %2").arg(sql, m_lastError.text());
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
