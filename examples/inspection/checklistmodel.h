#ifndef CHECKLISTMODEL_H
#define CHECKLISTMODEL_H

#include <qattachmentqueue.h>

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qpointer.h>
#include <QtQml/qqml.h>

class QPowerSyncDatabase;
class DemoConnector;

// The app's own relational data: the checklist items of one device, in the
// `checklists` table of its database. photo_id references an attachment.
//
// When the PowerSync core is loaded (main.cpp), `checklists` is a PowerSync
// table synced through QPowerSyncDatabase with the demo's sync service, so
// that every device gets every item, and the attachment queue's watched set
// follows the synced rows. Otherwise it is a plain table, copied by copyTo().
class ChecklistModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString connectionName READ connectionName WRITE setConnectionName NOTIFY
                   connectionNameChanged FINAL)
    Q_PROPERTY(int count READ count NOTIFY countChanged FINAL)
    Q_PROPERTY(int completed READ completed NOTIFY countChanged FINAL)
    // True when the items sync through PowerSync.
    Q_PROPERTY(bool synced READ isSynced NOTIFY connectionNameChanged FINAL)
    // The device's AttachmentQueue: its watched set is fed from the synced rows.
    Q_PROPERTY(QObject *attachmentQueue READ attachmentQueue WRITE setAttachmentQueue NOTIFY
                   attachmentQueueChanged FINAL)

public:
    enum Role { ItemIdRole = Qt::UserRole + 1, TitleRole, DoneRole, PhotoIdRole };

    explicit ChecklistModel(QObject *parent = nullptr);

    QString connectionName() const { return m_connection; }
    void setConnectionName(const QString &name);
    int count() const { return int(m_items.size()); }
    int completed() const;
    bool isSynced() const { return m_db != nullptr; }
    QObject *attachmentQueue() const { return m_queue; }
    void setAttachmentQueue(QObject *queue);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Adds an open item; returns its id (-1 on failure).
    Q_INVOKABLE int addItem(const QString &title);
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE int rowOfTitle(const QString &title) const;
    // Copies every item into another device's database: a stand-in for the
    // relational sync that PowerSync does in a real app.
    Q_INVOKABLE bool copyTo(const QString &otherConnection) const;

public Q_SLOTS:
    // Re-reads the table (after a hook changed it).
    void refresh();

Q_SIGNALS:
    void connectionNameChanged();
    void countChanged();
    void attachmentQueueChanged();

private:
    struct Item
    {
        int id = 0;
        QString title;
        bool done = false;
        QString photoId;
    };
    void feedQueue();

    QString m_connection;
    QList<Item> m_items;
    QPowerSyncDatabase *m_db = nullptr;
    DemoConnector *m_connector = nullptr;
    QPointer<QAttachmentQueue> m_queue;
    bool m_fed = false;
};

#endif // CHECKLISTMODEL_H
