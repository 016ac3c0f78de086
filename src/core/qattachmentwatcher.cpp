#include "qattachmentwatcher_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentqueuetable.h"
#include "qattachmentstore_p.h"

#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

QAttachmentWatcher::QAttachmentWatcher(QObject *context,
                                       std::function<void(const QString &)> changed,
                                       std::function<void()> external)
    : m_context(context)
    , m_changed(std::move(changed))
    , m_external(std::move(external))
{
    QObject::connect(&m_pollTimer, &QTimer::timeout, context, [this] { poll(); });
}

QAttachmentWatcher::~QAttachmentWatcher()
{
    QObject::disconnect(m_driverConnection);
}

QStringList QAttachmentWatcher::sourceTables(const QSqlDatabase &database, const QString &name)
{
    if (!QAttachmentQueueTable::isValidIdentifier(name))
        return {name};
    QSqlQuery query(database);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT type FROM main.sqlite_master WHERE name = ? COLLATE "
                                 "NOCASE AND type IN ('table', 'view')"));
    query.addBindValue(name);
    if (!query.exec() || !query.next() || query.value(0).toString() != QLatin1String("view"))
        return {name};
    query.finish();

    // The plan of a query on the view opens every table (or an index of it)
    // the view reads: OpenRead's p2 is the root page, p3 the database (0: main).
    QStringList roots;
    if (query.exec(QStringLiteral("EXPLAIN SELECT * FROM main.\"%1\"").arg(name))) {
        const QSqlRecord record = query.record();
        const int opcode = record.indexOf(QStringLiteral("opcode"));
        const int p2 = record.indexOf(QStringLiteral("p2"));
        const int p3 = record.indexOf(QStringLiteral("p3"));
        while (query.next()) {
            if (query.value(opcode).toString() == QLatin1String("OpenRead")
                && query.value(p3).toInt() == 0)
                roots << QString::number(query.value(p2).toLongLong());
        }
    }
    query.finish();
    QStringList tables;
    if (!roots.isEmpty()
        && query.exec(QStringLiteral("SELECT DISTINCT tbl_name FROM main.sqlite_master WHERE "
                                     "type IN ('table', 'index') AND rootpage IN (%1) ORDER BY 1")
                          .arg(roots.join(QLatin1Char(','))))) {
        while (query.next())
            tables << query.value(0).toString();
    }
    if (tables.isEmpty()) {
        qCWarning(lcQueue) << "cannot tell which tables the view" << name
                           << "reads: watching its name, which SQLite never reports";
        return {name};
    }
    qCDebug(lcQueue) << "watching view" << name << "through" << tables;
    return tables;
}

std::optional<QList<QWatchedAttachmentItem>> QAttachmentWatcher::run(const QSqlDatabase &database,
                                                                     const QString &sql,
                                                                     QString *errorString,
                                                                     bool *invalidQuery, bool *busy)
{
    QSqlQuery query(database);
    query.setForwardOnly(true);
    *invalidQuery = false;
    const auto failed = [&] {
        *errorString = QStringLiteral("the watch query failed: %1").arg(query.lastError().text());
        if (busy)
            *busy = QAttachmentStore::isBusyError(query.lastError());
        return std::nullopt;
    };
    if (!query.exec(sql))
        return failed();
    const QSqlRecord record = query.record();
    const int idColumn = record.indexOf(QStringLiteral("id"));
    if (idColumn < 0) {
        *invalidQuery = true;
        *errorString = QStringLiteral("the watch query returns no \"id\" column");
        return std::nullopt;
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
    // A read that stopped half-way is no watched set: the ids it did not
    // reach would be taken for unreferenced.
    if (query.lastError().isValid())
        return failed();
    return items;
}

void QAttachmentWatcher::subscribe(const QSqlDatabase &database, const QStringList &tables)
{
    QSqlDriver *driver = database.isOpen() ? database.driver() : nullptr;
    if (!driver || tables.isEmpty())
        return;
    QStringList sources;
    for (const QString &name : tables) {
        for (const QString &table : sourceTables(database, name)) {
            if (!sources.contains(table, Qt::CaseInsensitive))
                sources << table;
        }
    }
    for (const QString &table : std::as_const(sources)) {
        if (m_subscribed.contains(table))
            continue;
        guard(database, table);
        // The driver counts subscriptions per name; another subscriber of the
        // same table on this connection keeps its own.
        if (driver->subscribedToNotifications().contains(table)
            || driver->subscribeToNotification(table))
            m_subscribed.append(table);
        else
            qCWarning(lcQueue) << "cannot watch table" << table << "for changes";
    }
    if (!m_driverConnection)
        m_driverConnection = QObject::connect(driver, &QSqlDriver::notification, m_context,
                                              [this](const QString &name) { m_changed(name); });
}

void QAttachmentWatcher::guard(const QSqlDatabase &database, const QString &table)
{
    if (!QAttachmentQueueTable::isValidIdentifier(table))
        return;
    QSqlQuery query(database);
    const QString sql = QStringLiteral("CREATE TEMP TRIGGER IF NOT EXISTS \"psa_notify_delete_%1\" "
                                       "AFTER DELETE ON main.\"%1\" BEGIN SELECT 1; END")
                            .arg(table);
    // A view (or a missing table) takes no such trigger: nothing to guard.
    if (!query.exec(sql))
        qCDebug(lcQueue) << "no delete guard on" << table << query.lastError().text();
}

void QAttachmentWatcher::unsubscribe(const QSqlDatabase &database)
{
    QSqlDriver *driver = database.isValid() ? database.driver() : nullptr;
    QObject::disconnect(m_driverConnection);
    m_driverConnection = {};
    if (driver) {
        for (const QString &table : std::as_const(m_subscribed))
            driver->unsubscribeFromNotification(table);
    }
    m_subscribed.clear();
}

bool QAttachmentWatcher::isSubscribed(const QString &table) const
{
    return m_subscribed.contains(table, Qt::CaseInsensitive);
}

void QAttachmentWatcher::startPolling(const QString &connectionName, int msecs)
{
    if (msecs <= 0) {
        stopPolling();
        return;
    }
    // Polling on: only the interval changes, and what was seen stays known.
    if (m_pollTimer.isActive() && connectionName == m_pollConnection) {
        m_pollTimer.setInterval(msecs);
        return;
    }
    m_pollConnection = connectionName;
    m_dataVersion = dataVersion(QSqlDatabase::database(m_pollConnection, false));
    m_pollTimer.start(msecs);
}

void QAttachmentWatcher::stopPolling()
{
    m_pollTimer.stop();
    m_dataVersion = -1;
}

qint64 QAttachmentWatcher::dataVersion(const QSqlDatabase &database)
{
    if (!database.isOpen())
        return -1;
    QSqlQuery query(database);
    query.setForwardOnly(true);
    // Reading it takes a shared lock, which another process may hold back: the
    // event loop never waits for that here.
    if (!query.exec(QStringLiteral("PRAGMA busy_timeout")) || !query.next())
        return -1;
    const int busyTimeout = query.value(0).toInt();
    query.finish();
    if (!query.exec(QStringLiteral("PRAGMA busy_timeout = 0")))
        return -1;
    qint64 version = -1;
    if (query.exec(QStringLiteral("PRAGMA data_version")) && query.next())
        version = query.value(0).toLongLong();
    query.finish();
    if (!query.exec(QStringLiteral("PRAGMA busy_timeout = %1").arg(busyTimeout)))
        qCWarning(lcQueue) << "cannot restore the busy timeout:" << query.lastError().text();
    return version;
}

void QAttachmentWatcher::poll()
{
    const qint64 version = dataVersion(QSqlDatabase::database(m_pollConnection, false));
    if (version < 0)
        return; // busy or closed: the next tick sees the change
    const bool changed = m_dataVersion >= 0 && version != m_dataVersion;
    m_dataVersion = version;
    if (changed && m_external)
        m_external();
}
