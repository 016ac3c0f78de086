// Watched queries of QPowerSyncDatabase: re-run when a sync or a local write
// touches their tables, and the attachment queue's watched set fed from one.
#include "qpowersyncdatabase.h"

#include "qattachmentqueue.h"
#include "qpowersyncdatabase_p.h"
#include "qpowersyncwatchedquery.h"
#include "qwatchedattachmentitem.h"

#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqldriver.h>

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
