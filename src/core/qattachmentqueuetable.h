#ifndef QATTACHMENTQUEUETABLE_H
#define QATTACHMENTQUEUETABLE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>

class QSqlDatabase;

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

    QString name() const { return m_name; }
    void setName(const QString &name) { m_name = name; }
    QList<Column> additionalColumns() const { return m_additionalColumns; }
    void setAdditionalColumns(const QList<Column> &columns) { m_additionalColumns = columns; }
    QList<Index> indexes() const { return m_indexes; }
    void setIndexes(const QList<Index> &indexes) { m_indexes = indexes; }
    // A view over the table, created with it; empty for none.
    QString viewName() const { return m_viewName; }
    void setViewName(const QString &name) { m_viewName = name; }

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
    QString m_name;
    QList<Column> m_additionalColumns;
    QList<Index> m_indexes;
    QString m_viewName;
};

#endif // QATTACHMENTQUEUETABLE_H
