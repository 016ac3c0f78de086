#ifndef QATTACHMENTQUEUETABLE_H
#define QATTACHMENTQUEUETABLE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

class QSqlDatabase;
class QAttachmentQueueTableData;
class QPowerSyncTable;

// The definition of the local-only table that holds the queue's state.
//
// create() is idempotent: it creates the table, view and indexes when they are
// missing and adds columns that an older table lacks, keeping every row.
//
// On a PowerSync database the table is declared in the app's schema instead
// (toPowerSyncTable()): the core makes it a view, which the queue uses as it
// is, creating, altering and indexing nothing.
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
    // `errorString` when the definition is invalid or SQLite refuses. Where a
    // view stands in the table's place (or, with no table, in viewName()'s),
    // only checks that it has every column.
    bool create(const QSqlDatabase &database, QString *errorString = nullptr) const;

    // The table as a local-only table of a PowerSync schema, to add to the
    // app's QPowerSyncSchema: name(), viewName() (the view the app and the
    // queue use; name() when empty), the standard columns as PowerSync's
    // other SDKs declare them (id implicit), the additional columns, an index
    // "state_timestamp" on (state, timestamp) that the queue's lookups use,
    // and indexes(). Column types must be TEXT, INTEGER or REAL (any case).
    // On failure returns a table without a name and sets `errorString`.
    QPowerSyncTable toPowerSyncTable(QString *errorString = nullptr) const;
    // The name of the index toPowerSyncTable() adds.
    static constexpr const char *StateIndexName = "state_timestamp";

    // Whether `name` is a plain SQL identifier: a letter or underscore, then
    // letters, digits or underscores, at most 128 characters.
    static bool isValidIdentifier(const QString &name);

private:
    QSharedDataPointer<QAttachmentQueueTableData> d;
};

Q_DECLARE_SHARED(QAttachmentQueueTable)

#endif // QATTACHMENTQUEUETABLE_H
