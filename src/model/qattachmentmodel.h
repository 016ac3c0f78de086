#ifndef QATTACHMENTMODEL_H
#define QATTACHMENTMODEL_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmenttransfer.h"

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>

#include <memory>

class QAttachmentQueue;
class QAttachmentModelPrivate;
Q_MOC_INCLUDE("qattachmentqueue.h")

// A list model of the rows of an attachment queue, in insertion order, for
// views in Qt Quick and Qt Widgets.
//
// The model follows the queue's signals and updates only the rows concerned:
// a changed attachment emits one dataChanged() for its row, a new one
// rowsInserted(), a removed one rowsRemoved(); it never resets on a single
// change, so long lists stay smooth. reload() re-reads the whole table.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentModel : public QAbstractListModel
{
    Q_OBJECT
    Q_PROPERTY(QAttachmentQueue *queue READ queue WRITE setQueue NOTIFY queueChanged)
    Q_PROPERTY(
        QList<int> stateFilter READ stateFilter WRITE setStateFilter NOTIFY stateFilterChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    enum Role {
        AttachmentIdRole = Qt::UserRole + 1,
        FilenameRole,
        LocalUrlRole,
        StateRole,
        StateNameRole,
        SizeRole,
        MediaTypeRole,
        HasSyncedRole,
        MetaDataRole,
        TimestampRole,
        ProgressRole, // 0..1 of the running transfer; 1.0 for a synced row
        TransferringRole,
        ErrorRole, // the last failure's text, empty when none
        NextRetryRole, // when a failed transfer is tried again; invalid when none waits
        FailingRole, // whether the last attempt failed (ErrorRole is not empty)
    };
    Q_ENUM(Role)

    enum Column {
        IdColumn,
        FilenameColumn,
        StateColumn,
        SizeColumn,
        MediaTypeColumn,
        ProgressColumn,
        ErrorColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    explicit QAttachmentModel(QObject *parent = nullptr);
    ~QAttachmentModel() override;

    // Not owned. Setting a queue reads its table at once. The queue must live
    // in the model's thread (a queue of another thread is refused, with a
    // warning): the model reads the queue's table directly.
    QAttachmentQueue *queue() const;
    void setQueue(QAttachmentQueue *queue);

    // The states (QAttachmentState::State values) whose rows are shown; empty
    // shows every row.
    QList<int> stateFilter() const;
    void setStateFilter(const QList<int> &states);

    int count() const;

    // Columns are for table views; list views and QML use roles on column 0.
    void setColumnsEnabled(bool enabled);
    bool columnsEnabled() const;

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // The row of attachment `id`, -1 when it is not shown.
    Q_INVOKABLE int rowOf(const QString &id) const;
    QAttachment attachmentAt(int row) const;
    // Every role of `row` by role name, for scripts; empty for a bad row.
    Q_INVOKABLE QVariantMap get(int row) const;

public Q_SLOTS:
    void reload();

Q_SIGNALS:
    void queueChanged();
    void stateFilterChanged();
    void countChanged();

private:
    Q_DECLARE_PRIVATE(QAttachmentModel)
    std::unique_ptr<QAttachmentModelPrivate> d_ptr;
};

#endif // QATTACHMENTMODEL_H
