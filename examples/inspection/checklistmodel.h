#ifndef CHECKLISTMODEL_H
#define CHECKLISTMODEL_H

#include <QtCore/qabstractitemmodel.h>
#include <QtQml/qqml.h>

// The app's own relational data: the checklist items of one device, in the
// `checklists` table of its database. photo_id references an attachment.
class ChecklistModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString connectionName READ connectionName WRITE setConnectionName NOTIFY
                   connectionNameChanged FINAL)
    Q_PROPERTY(int count READ count NOTIFY countChanged FINAL)
    Q_PROPERTY(int completed READ completed NOTIFY countChanged FINAL)

public:
    enum Role { ItemIdRole = Qt::UserRole + 1, TitleRole, DoneRole, PhotoIdRole };

    explicit ChecklistModel(QObject *parent = nullptr);

    QString connectionName() const { return m_connection; }
    void setConnectionName(const QString &name);
    int count() const { return int(m_items.size()); }
    int completed() const;

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

private:
    struct Item
    {
        int id = 0;
        QString title;
        bool done = false;
        QString photoId;
    };
    QString m_connection;
    QList<Item> m_items;
};

#endif // CHECKLISTMODEL_H
