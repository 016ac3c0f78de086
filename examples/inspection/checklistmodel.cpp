#include "checklistmodel.h"

#include "demosync.h"

#include <qattachmentqueue.h>
#include <qpowersynccore.h>
#include <qpowersyncdatabase.h>
#include <qpowersyncschema.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qrandom.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

ChecklistModel::ChecklistModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

void ChecklistModel::setConnectionName(const QString &name)
{
    if (m_connection == name)
        return;
    m_connection = name;
    delete m_db;
    m_db = nullptr;
    if (QPowerSyncCore::isLoaded() && DemoSync::service()) {
        m_db = new QPowerSyncDatabase(this);
        if (!m_db->adopt(m_connection, DemoSync::schema())) {
            qWarning() << "checklists: no PowerSync sync:" << m_db->errorString();
            delete m_db;
            m_db = nullptr;
        }
    }
    if (m_db) {
        m_db->setRetryDelay(250);
        m_db->setMaxRetryDelay(2000);
        connect(m_db, &QPowerSyncDatabase::tablesChanged, this, [this](const QStringList &tables) {
            if (tables.contains(QStringLiteral("checklists")))
                refresh();
        });
        m_connector = new DemoConnector(this);
        m_db->connect(m_connector);
        feedQueue();
    } else {
        QSqlQuery(QSqlDatabase::database(m_connection))
            .exec(QStringLiteral("CREATE TABLE IF NOT EXISTS checklists (id INTEGER PRIMARY KEY, "
                                 "title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, "
                                 "photo_id TEXT, position INTEGER)"));
    }
    refresh();
    emit connectionNameChanged();
}

void ChecklistModel::setAttachmentQueue(QObject *object)
{
    auto *queue = qobject_cast<QAttachmentQueue *>(object);
    if (m_queue == queue)
        return;
    m_queue = queue;
    m_fed = false;
    feedQueue();
    emit attachmentQueueChanged();
}

void ChecklistModel::feedQueue()
{
    if (!m_db || !m_queue || m_fed)
        return;
    m_fed = true;
    m_db->watchAttachments(m_queue,
                           QStringLiteral("SELECT photo_id AS id, 'png' AS file_extension "
                                          "FROM checklists WHERE photo_id IS NOT NULL"),
                           {QStringLiteral("checklists")});
}

int ChecklistModel::completed() const
{
    return int(std::count_if(m_items.cbegin(), m_items.cend(),
                             [](const Item &item) { return item.done; }));
}

void ChecklistModel::refresh()
{
    QList<Item> items;
    QSqlQuery query(QSqlDatabase::database(m_connection));
    if (query.exec(QStringLiteral("SELECT id, title, done, photo_id FROM checklists "
                                  "ORDER BY position, id"))) {
        while (query.next())
            items.append({query.value(0).toInt(), query.value(1).toString(),
                          query.value(2).toBool(), query.value(3).toString()});
    }
    // Few items: a reset keeps the example short. (The attachment model is
    // the one that must stay incremental for long lists.)
    beginResetModel();
    m_items = items;
    endResetModel();
    emit countChanged();
}

int ChecklistModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_items.size());
}

QVariant ChecklistModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const Item &item = m_items.at(index.row());
    switch (role) {
    case ItemIdRole:
        return item.id;
    case Qt::DisplayRole:
    case TitleRole:
        return item.title;
    case DoneRole:
        return item.done;
    case PhotoIdRole:
        return item.photoId;
    default:
        return {};
    }
}

QHash<int, QByteArray> ChecklistModel::roleNames() const
{
    return {
        {ItemIdRole, "itemId"}, {TitleRole, "title"}, {DoneRole, "done"}, {PhotoIdRole, "photoId"}};
}

int ChecklistModel::addItem(const QString &title)
{
    QSqlQuery query(QSqlDatabase::database(m_connection));
    int id = -1;
    if (m_db) {
        // PowerSync ids are text, unique across devices: a random number here.
        id = int(QRandomGenerator::global()->bounded(1, 0x7fffffff));
        query.prepare(QStringLiteral(
            "INSERT INTO checklists (id, title, done, position) VALUES (?, ?, 0, ?)"));
        query.addBindValue(QString::number(id));
    } else {
        query.prepare(QStringLiteral("INSERT INTO checklists (title, position) VALUES (?, ?)"));
    }
    query.addBindValue(title);
    query.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (!query.exec()) {
        qWarning() << "cannot add item:" << query.lastError().text();
        return -1;
    }
    if (!m_db)
        id = query.lastInsertId().toInt();
    refresh();
    return id;
}

QVariantMap ChecklistModel::get(int row) const
{
    if (row < 0 || row >= m_items.size())
        return {};
    const Item &item = m_items.at(row);
    return {{QStringLiteral("itemId"), item.id},
            {QStringLiteral("title"), item.title},
            {QStringLiteral("done"), item.done},
            {QStringLiteral("photoId"), item.photoId}};
}

int ChecklistModel::rowOfTitle(const QString &title) const
{
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items.at(i).title == title)
            return i;
    }
    return -1;
}

bool ChecklistModel::copyTo(const QString &otherConnection) const
{
    // Synced: the other device has the items already (or soon).
    if (m_db) {
        m_db->triggerUpload();
        return true;
    }
    QSqlDatabase target = QSqlDatabase::database(otherConnection);
    QSqlQuery(target).exec(
        QStringLiteral("CREATE TABLE IF NOT EXISTS checklists (id INTEGER PRIMARY KEY, "
                       "title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0, photo_id TEXT, "
                       "position INTEGER)"));
    if (!target.transaction())
        return false;
    QSqlQuery clear(target);
    bool ok = clear.exec(QStringLiteral("DELETE FROM checklists WHERE id IS NOT NULL"));
    for (const Item &item : m_items) {
        QSqlQuery insert(target);
        insert.prepare(QStringLiteral(
            "INSERT INTO checklists (id, title, done, photo_id, position) VALUES (?, ?, ?, ?, ?)"));
        insert.addBindValue(item.id);
        insert.addBindValue(item.title);
        insert.addBindValue(item.done ? 1 : 0);
        insert.addBindValue(item.photoId.isEmpty() ? QVariant() : QVariant(item.photoId));
        insert.addBindValue(item.id);
        ok = ok && insert.exec();
    }
    if (!ok) {
        target.rollback();
        return false;
    }
    return target.commit();
}
