#include "qattachmentwatcher_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentqueuetable.h"

#include <QtSql/qsqldriver.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

QAttachmentWatcher::QAttachmentWatcher(QObject *context,
                                       std::function<void(const QString &)> changed)
    : m_context(context)
    , m_changed(std::move(changed))
{ }

QAttachmentWatcher::~QAttachmentWatcher()
{
    QObject::disconnect(m_driverConnection);
}

std::optional<QList<QWatchedAttachmentItem>> QAttachmentWatcher::run(const QSqlDatabase &database,
                                                                     const QString &sql,
                                                                     QString *errorString,
                                                                     bool *invalidQuery)
{
    QSqlQuery query(database);
    query.setForwardOnly(true);
    *invalidQuery = false;
    if (!query.exec(sql)) {
        *errorString = QStringLiteral("the watch query failed: %1").arg(query.lastError().text());
        return std::nullopt;
    }
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
    return items;
}

void QAttachmentWatcher::subscribe(const QSqlDatabase &database, const QStringList &tables)
{
    QSqlDriver *driver = database.isOpen() ? database.driver() : nullptr;
    if (!driver || tables.isEmpty())
        return;
    for (const QString &table : tables) {
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
