#include "qattachmentqueuetable.h"

#include <QtCore/qregularexpression.h>
#include <QtCore/qset.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

namespace {

bool fail(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

bool run(QSqlDatabase &db, const QString &sql, QString *errorString)
{
    QSqlQuery query(db);
    if (!query.exec(sql))
        return fail(errorString,
                    QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text()));
    return true;
}

} // namespace

QAttachmentQueueTable::QAttachmentQueueTable(const QString &name)
    : m_name(name)
{ }

QList<QAttachmentQueueTable::Column> QAttachmentQueueTable::standardColumns()
{
    return {
        {QStringLiteral("id"), QStringLiteral("TEXT")},
        {QStringLiteral("filename"), QStringLiteral("TEXT")},
        {QStringLiteral("local_uri"), QStringLiteral("TEXT")},
        {QStringLiteral("timestamp"), QStringLiteral("INTEGER")},
        {QStringLiteral("size"), QStringLiteral("INTEGER")},
        {QStringLiteral("media_type"), QStringLiteral("TEXT")},
        {QStringLiteral("state"), QStringLiteral("INTEGER")},
        {QStringLiteral("has_synced"), QStringLiteral("INTEGER")},
        {QStringLiteral("meta_data"), QStringLiteral("TEXT")},
    };
}

bool QAttachmentQueueTable::isValidIdentifier(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]{0,127}$"));
    return pattern.match(name).hasMatch();
}

QString QAttachmentQueueTable::validate() const
{
    if (!isValidIdentifier(m_name))
        return QStringLiteral("invalid table name \"%1\": use letters, digits and underscores")
            .arg(m_name);
    if (!m_viewName.isEmpty() && !isValidIdentifier(m_viewName))
        return QStringLiteral("invalid view name \"%1\"").arg(m_viewName);
    if (!m_viewName.isEmpty() && m_viewName.compare(m_name, Qt::CaseInsensitive) == 0)
        return QStringLiteral("the view cannot have the table's name \"%1\"").arg(m_name);
    QSet<QString> columns;
    for (const Column &column : standardColumns())
        columns.insert(column.name.toLower());
    static const QRegularExpression typePattern(QStringLiteral("^[A-Za-z]+( [A-Za-z]+)*$"));
    for (const Column &column : m_additionalColumns) {
        if (!isValidIdentifier(column.name))
            return QStringLiteral("invalid column name \"%1\"").arg(column.name);
        if (columns.contains(column.name.toLower()))
            return QStringLiteral("column \"%1\" is defined twice").arg(column.name);
        if (!typePattern.match(column.type).hasMatch())
            return QStringLiteral("invalid type \"%1\" for column \"%2\"")
                .arg(column.type, column.name);
        columns.insert(column.name.toLower());
    }
    for (const Index &index : m_indexes) {
        if (!isValidIdentifier(index.name))
            return QStringLiteral("invalid index name \"%1\"").arg(index.name);
        if (index.columns.isEmpty())
            return QStringLiteral("index \"%1\" has no columns").arg(index.name);
        for (const QString &column : index.columns) {
            if (!columns.contains(column.toLower()))
                return QStringLiteral("index \"%1\" names unknown column \"%2\"")
                    .arg(index.name, column);
        }
    }
    return {};
}

bool QAttachmentQueueTable::create(const QSqlDatabase &database, QString *errorString) const
{
    const QString invalid = validate();
    if (!invalid.isEmpty())
        return fail(errorString, invalid);
    QSqlDatabase db = database;
    if (!db.isOpen())
        return fail(
            errorString,
            QStringLiteral("the database connection \"%1\" is not open").arg(db.connectionName()));

    QList<Column> columns = standardColumns();
    columns += m_additionalColumns;

    QStringList definitions;
    for (const Column &column : std::as_const(columns)) {
        if (column.name == QLatin1String("id"))
            definitions << QStringLiteral("id TEXT PRIMARY KEY NOT NULL");
        else
            definitions << column.name + QLatin1Char(' ') + column.type;
    }
    if (!run(db,
             QStringLiteral("CREATE TABLE IF NOT EXISTS %1 (%2)")
                 .arg(m_name, definitions.join(QStringLiteral(", "))),
             errorString))
        return false;

    // An older table may lack columns added since: add them, keeping every row.
    QSet<QString> existing;
    QSqlQuery info(db);
    if (!info.exec(QStringLiteral("PRAGMA table_info(%1)").arg(m_name)))
        return fail(errorString, info.lastError().text());
    while (info.next())
        existing.insert(info.value(1).toString().toLower());
    for (const Column &column : std::as_const(columns)) {
        if (existing.contains(column.name.toLower()))
            continue;
        if (!run(db,
                 QStringLiteral("ALTER TABLE %1 ADD COLUMN %2 %3")
                     .arg(m_name, column.name, column.type),
                 errorString))
            return false;
    }

    // The queue looks rows up by state (pending work, counts, archive order).
    if (!run(
            db,
            QStringLiteral("CREATE INDEX IF NOT EXISTS %1_state_timestamp ON %1 (state, timestamp)")
                .arg(m_name),
            errorString))
        return false;
    for (const Index &index : m_indexes) {
        if (!run(db,
                 QStringLiteral("CREATE INDEX IF NOT EXISTS %1 ON %2 (%3)")
                     .arg(index.name, m_name, index.columns.join(QStringLiteral(", "))),
                 errorString))
            return false;
    }
    if (!m_viewName.isEmpty()
        && !run(db,
                QStringLiteral("CREATE VIEW IF NOT EXISTS %1 AS SELECT * FROM %2")
                    .arg(m_viewName, m_name),
                errorString))
        return false;
    return true;
}
