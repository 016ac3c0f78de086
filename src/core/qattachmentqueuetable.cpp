#include "qattachmentqueuetable.h"

#include "qattachmentstore_p.h"
#include "qpowersynctable.h"

#include <QtCore/qregularexpression.h>
#include <QtCore/qset.h>
#include <QtSql/qsqldatabase.h>

class QAttachmentQueueTableData : public QSharedData
{
public:
    QString name;
    QList<QAttachmentQueueTable::Column> additionalColumns;
    QList<QAttachmentQueueTable::Index> indexes;
    QString viewName;
};

QAttachmentQueueTable::QAttachmentQueueTable(const QString &name)
    : d(new QAttachmentQueueTableData)
{
    d->name = name;
}

QAttachmentQueueTable::QAttachmentQueueTable(const QAttachmentQueueTable &other) noexcept = default;
QAttachmentQueueTable::QAttachmentQueueTable(QAttachmentQueueTable &&other) noexcept = default;
QAttachmentQueueTable &
QAttachmentQueueTable::operator=(const QAttachmentQueueTable &other) noexcept = default;
QAttachmentQueueTable &
QAttachmentQueueTable::operator=(QAttachmentQueueTable &&other) noexcept = default;
QAttachmentQueueTable::~QAttachmentQueueTable() = default;

QString QAttachmentQueueTable::name() const
{
    return d->name;
}

void QAttachmentQueueTable::setName(const QString &name)
{
    d->name = name;
}

QList<QAttachmentQueueTable::Column> QAttachmentQueueTable::additionalColumns() const
{
    return d->additionalColumns;
}

void QAttachmentQueueTable::setAdditionalColumns(const QList<Column> &columns)
{
    d->additionalColumns = columns;
}

QList<QAttachmentQueueTable::Index> QAttachmentQueueTable::indexes() const
{
    return d->indexes;
}

void QAttachmentQueueTable::setIndexes(const QList<Index> &indexes)
{
    d->indexes = indexes;
}

QString QAttachmentQueueTable::viewName() const
{
    return d->viewName;
}

void QAttachmentQueueTable::setViewName(const QString &name)
{
    d->viewName = name;
}

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
    if (!isValidIdentifier(d->name))
        return QStringLiteral("invalid table name \"%1\": use letters, digits and underscores")
            .arg(d->name);
    if (!d->viewName.isEmpty() && !isValidIdentifier(d->viewName))
        return QStringLiteral("invalid view name \"%1\"").arg(d->viewName);
    if (!d->viewName.isEmpty() && d->viewName.compare(d->name, Qt::CaseInsensitive) == 0)
        return QStringLiteral("the view cannot have the table's name \"%1\"").arg(d->name);
    QSet<QString> columns;
    for (const Column &column : standardColumns())
        columns.insert(column.name.toLower());
    static const QRegularExpression typePattern(QStringLiteral("^[A-Za-z]+( [A-Za-z]+)*$"));
    for (const Column &column : d->additionalColumns) {
        if (!isValidIdentifier(column.name))
            return QStringLiteral("invalid column name \"%1\"").arg(column.name);
        if (columns.contains(column.name.toLower()))
            return QStringLiteral("column \"%1\" is defined twice").arg(column.name);
        if (!typePattern.match(column.type).hasMatch())
            return QStringLiteral("invalid type \"%1\" for column \"%2\"")
                .arg(column.type, column.name);
        columns.insert(column.name.toLower());
    }
    for (const Index &index : d->indexes) {
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
    // Every statement on the queue table, its definition included, is the store's.
    return QAttachmentStore::createTable(*this, database, errorString);
}

QPowerSyncTable QAttachmentQueueTable::toPowerSyncTable(QString *errorString) const
{
    const auto fail = [errorString](const QString &message) {
        if (errorString)
            *errorString = message;
        return QPowerSyncTable();
    };
    const QString invalid = validate();
    if (!invalid.isEmpty())
        return fail(invalid);

    QList<QPowerSyncColumn> columns;
    QList<Column> all = standardColumns();
    all += d->additionalColumns;
    for (const Column &column : std::as_const(all)) {
        if (column.name == QLatin1String("id"))
            continue; // implicit in every PowerSync table
        const QString type = column.type.toUpper();
        if (type == QLatin1String("TEXT"))
            columns << QPowerSyncColumn::text(column.name);
        else if (type == QLatin1String("INTEGER"))
            columns << QPowerSyncColumn::integer(column.name);
        else if (type == QLatin1String("REAL"))
            columns << QPowerSyncColumn::real(column.name);
        else
            return fail(QStringLiteral("column \"%1\" has type \"%2\": a PowerSync table takes "
                                       "TEXT, INTEGER or REAL")
                            .arg(column.name, column.type));
    }

    QList<QPowerSyncIndex> indexes;
    const QString stateIndex = QString::fromLatin1(StateIndexName);
    bool ownStateIndex = false;
    for (const Index &index : d->indexes) {
        ownStateIndex = ownStateIndex || index.name.compare(stateIndex, Qt::CaseInsensitive) == 0;
        indexes << QPowerSyncIndex::ascending(index.name, index.columns);
    }
    if (!ownStateIndex)
        indexes.prepend(QPowerSyncIndex::ascending(
            stateIndex, {QStringLiteral("state"), QStringLiteral("timestamp")}));

    QPowerSyncTable table = QPowerSyncTable::localOnlyTable(d->name, columns, indexes, d->viewName);
    QString problem;
    if (!table.validate(&problem))
        return fail(problem);
    return table;
}
