#ifndef QATTACHMENTQUEUETABLE_H
#define QATTACHMENTQUEUETABLE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

class QSqlDatabase;
class QAttachmentQueueTableData;

// The definition of the local-only table that holds the queue's state.
//
// create() is idempotent: it creates the table, view and indexes when they are
// missing and adds columns that an older table lacks, keeping every row.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentQueueTable
{
public:
    struct Column
    {
        QString name;
        QString type; // an SQLite type such as TEXT or INTEGER
    };
    struct Index
    {
        QString name;
        QStringList columns;
    };

    static constexpr const char *DefaultName = "attachments_queue";

    explicit QAttachmentQueueTable(const QString &name = QString::fromLatin1(DefaultName));
    QAttachmentQueueTable(const QAttachmentQueueTable &other) noexcept;
    QAttachmentQueueTable(QAttachmentQueueTable &&other) noexcept;
    QAttachmentQueueTable &operator=(const QAttachmentQueueTable &other) noexcept;
    QAttachmentQueueTable &operator=(QAttachmentQueueTable &&other) noexcept;
    ~QAttachmentQueueTable();
    void swap(QAttachmentQueueTable &other) noexcept { d.swap(other.d); }

    QString name() const;
    void setName(const QString &name);
    QList<Column> additionalColumns() const;
    void setAdditionalColumns(const QList<Column> &columns);
    QList<Index> indexes() const;
    void setIndexes(const QList<Index> &indexes);
    // A view over the table, created with it; empty for none.
    QString viewName() const;
    void setViewName(const QString &name);

    // The standard columns, in table order, with their types.
    static QList<Column> standardColumns();

    // Checks every name (table, view, columns, indexes) is a plain SQL identifier
    // and no column is defined twice. Returns an empty string when valid.
    QString validate() const;

    // Creates or upgrades the table in `database`. Returns false and sets
    // `errorString` when the definition is invalid or SQLite refuses.
    bool create(const QSqlDatabase &database, QString *errorString = nullptr) const;

    // Whether `name` is a plain SQL identifier: a letter or underscore, then
    // letters, digits or underscores, at most 128 characters.
    static bool isValidIdentifier(const QString &name);

private:
    QSharedDataPointer<QAttachmentQueueTableData> d;
};

Q_DECLARE_SHARED(QAttachmentQueueTable)

#endif // QATTACHMENTQUEUETABLE_H
