#include "qpowersynctable.h"
#include "qpowersyncnames_p.h"

#include <QtCore/qset.h>

#include <optional>

class QPowerSyncTablePrivate : public QSharedData
{
public:
    QString name;
    QString viewName; // empty: the table's name
    QList<QPowerSyncColumn> columns;
    QList<QPowerSyncIndex> indexes;
    bool localOnly = false;
    bool insertOnly = false;
    bool includeMetadata = false;
    bool ignoreEmptyUpdates = false;
    bool trackPreviousValues = false;
    std::optional<QStringList> previousValuesFilter;
    bool previousValuesOnlyWhenChanged = false;
};

QPowerSyncTable::QPowerSyncTable()
    : d(new QPowerSyncTablePrivate)
{ }

QPowerSyncTable::QPowerSyncTable(const QString &name, const QList<QPowerSyncColumn> &columns,
                                 const QList<QPowerSyncIndex> &indexes)
    : d(new QPowerSyncTablePrivate)
{
    d->name = name;
    d->columns = columns;
    d->indexes = indexes;
}

QPowerSyncTable::QPowerSyncTable(const QPowerSyncTable &other) = default;
QPowerSyncTable &QPowerSyncTable::operator=(const QPowerSyncTable &other) = default;
QPowerSyncTable::~QPowerSyncTable() = default;

QPowerSyncTable QPowerSyncTable::localOnlyTable(const QString &name,
                                                const QList<QPowerSyncColumn> &columns,
                                                const QList<QPowerSyncIndex> &indexes,
                                                const QString &viewName)
{
    QPowerSyncTable table(name, columns, indexes);
    table.setLocalOnly(true);
    table.setViewName(viewName);
    return table;
}

QPowerSyncTable QPowerSyncTable::insertOnlyTable(const QString &name,
                                                 const QList<QPowerSyncColumn> &columns,
                                                 const QString &viewName)
{
    QPowerSyncTable table(name, columns);
    table.setInsertOnly(true);
    table.setViewName(viewName);
    return table;
}

QString QPowerSyncTable::name() const
{
    return d->name;
}

void QPowerSyncTable::setName(const QString &name)
{
    d->name = name;
    if (d->viewName == name)
        d->viewName.clear();
}

QString QPowerSyncTable::viewName() const
{
    return d->viewName.isEmpty() ? d->name : d->viewName;
}

void QPowerSyncTable::setViewName(const QString &viewName)
{
    d->viewName = viewName == d->name ? QString() : viewName;
}

bool QPowerSyncTable::hasViewName() const
{
    return !d->viewName.isEmpty();
}

QString QPowerSyncTable::internalName() const
{
    return (d->localOnly ? QStringLiteral("ps_data_local__") : QStringLiteral("ps_data__"))
        + d->name;
}

QList<QPowerSyncColumn> QPowerSyncTable::columns() const
{
    return d->columns;
}

void QPowerSyncTable::setColumns(const QList<QPowerSyncColumn> &columns)
{
    d->columns = columns;
}

void QPowerSyncTable::addColumn(const QPowerSyncColumn &column)
{
    d->columns.append(column);
}

QPowerSyncColumn QPowerSyncTable::column(const QString &name) const
{
    for (const QPowerSyncColumn &column : d->columns) {
        if (column.name() == name)
            return column;
    }
    return QPowerSyncColumn();
}

QList<QPowerSyncIndex> QPowerSyncTable::indexes() const
{
    return d->indexes;
}

void QPowerSyncTable::setIndexes(const QList<QPowerSyncIndex> &indexes)
{
    d->indexes = indexes;
}

void QPowerSyncTable::addIndex(const QPowerSyncIndex &index)
{
    d->indexes.append(index);
}

bool QPowerSyncTable::isLocalOnly() const
{
    return d->localOnly;
}

void QPowerSyncTable::setLocalOnly(bool localOnly)
{
    d->localOnly = localOnly;
}

bool QPowerSyncTable::isInsertOnly() const
{
    return d->insertOnly;
}

void QPowerSyncTable::setInsertOnly(bool insertOnly)
{
    d->insertOnly = insertOnly;
}

bool QPowerSyncTable::includesMetadata() const
{
    return d->includeMetadata;
}

void QPowerSyncTable::setIncludeMetadata(bool include)
{
    d->includeMetadata = include;
}

bool QPowerSyncTable::ignoresEmptyUpdates() const
{
    return d->ignoreEmptyUpdates;
}

void QPowerSyncTable::setIgnoreEmptyUpdates(bool ignore)
{
    d->ignoreEmptyUpdates = ignore;
}

bool QPowerSyncTable::tracksPreviousValues() const
{
    return d->trackPreviousValues;
}

void QPowerSyncTable::setTrackPreviousValues(bool track)
{
    d->trackPreviousValues = track;
    if (!track) {
        d->previousValuesFilter.reset();
        d->previousValuesOnlyWhenChanged = false;
    }
}

bool QPowerSyncTable::hasPreviousValuesColumnFilter() const
{
    return d->previousValuesFilter.has_value();
}

QStringList QPowerSyncTable::previousValuesColumnFilter() const
{
    return d->previousValuesFilter.value_or(QStringList());
}

void QPowerSyncTable::setPreviousValuesColumnFilter(const QStringList &columns)
{
    d->trackPreviousValues = true;
    d->previousValuesFilter = columns;
}

void QPowerSyncTable::clearPreviousValuesColumnFilter()
{
    d->previousValuesFilter.reset();
}

bool QPowerSyncTable::previousValuesOnlyWhenChanged() const
{
    return d->previousValuesOnlyWhenChanged;
}

void QPowerSyncTable::setPreviousValuesOnlyWhenChanged(bool onlyWhenChanged)
{
    if (onlyWhenChanged)
        d->trackPreviousValues = true;
    d->previousValuesOnlyWhenChanged = onlyWhenChanged;
}

static bool fail(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

bool QPowerSyncTable::validate(QString *errorString) const
{
    if (!QPowerSyncNames::isValid(d->name))
        return fail(errorString, QStringLiteral("invalid table name \"%1\"").arg(d->name));
    if (hasViewName() && !QPowerSyncNames::isValid(d->viewName))
        return fail(errorString,
                    QStringLiteral("table %1: invalid view name \"%2\"").arg(d->name, d->viewName));
    if (d->columns.size() > MaximumColumns)
        return fail(errorString,
                    QStringLiteral("table %1 has %2 columns, more than %3")
                        .arg(d->name)
                        .arg(d->columns.size())
                        .arg(MaximumColumns));
    if (d->localOnly && d->insertOnly)
        return fail(errorString,
                    QStringLiteral("table %1 cannot be local-only and insert-only").arg(d->name));
    if (d->localOnly && d->includeMetadata)
        return fail(errorString,
                    QStringLiteral("local-only table %1 cannot include metadata").arg(d->name));
    if (d->localOnly && d->trackPreviousValues)
        return fail(
            errorString,
            QStringLiteral("local-only table %1 cannot track previous values").arg(d->name));

    QSet<QString> columnNames {QStringLiteral("id")};
    for (const QPowerSyncColumn &column : d->columns) {
        if (column.name() == QLatin1String("id"))
            return fail(errorString,
                        QStringLiteral("table %1: the id column is implicit and "
                                       "cannot be declared")
                            .arg(d->name));
        if (!QPowerSyncNames::isValid(column.name()))
            return fail(
                errorString,
                QStringLiteral("table %1: invalid column name \"%2\"").arg(d->name, column.name()));
        if (columnNames.contains(column.name()))
            return fail(
                errorString,
                QStringLiteral("table %1: duplicate column %2").arg(d->name, column.name()));
        columnNames.insert(column.name());
    }
    if (d->previousValuesFilter) {
        for (const QString &name : *d->previousValuesFilter) {
            if (!columnNames.contains(name))
                return fail(errorString,
                            QStringLiteral("table %1: previous values of unknown column %2")
                                .arg(d->name, name));
        }
    }

    QSet<QString> indexNames;
    for (const QPowerSyncIndex &index : d->indexes) {
        if (!QPowerSyncNames::isValid(index.name()))
            return fail(
                errorString,
                QStringLiteral("table %1: invalid index name \"%2\"").arg(d->name, index.name()));
        if (indexNames.contains(index.name()))
            return fail(errorString,
                        QStringLiteral("table %1: duplicate index %2").arg(d->name, index.name()));
        if (index.columns().isEmpty())
            return fail(
                errorString,
                QStringLiteral("table %1: index %2 has no column").arg(d->name, index.name()));
        for (const QPowerSyncIndexedColumn &column : index.columns()) {
            if (!columnNames.contains(column.name()))
                return fail(errorString,
                            QStringLiteral("table %1: index %2 on unknown column %3")
                                .arg(d->name, index.name(), column.name()));
        }
        indexNames.insert(index.name());
    }
    return true;
}

bool QPowerSyncTable::operator==(const QPowerSyncTable &other) const
{
    if (d == other.d)
        return true;
    const QPowerSyncTablePrivate &a = *d;
    const QPowerSyncTablePrivate &b = *other.d;
    return a.name == b.name && a.viewName == b.viewName && a.columns == b.columns
        && a.indexes == b.indexes && a.localOnly == b.localOnly && a.insertOnly == b.insertOnly
        && a.includeMetadata == b.includeMetadata && a.ignoreEmptyUpdates == b.ignoreEmptyUpdates
        && a.trackPreviousValues == b.trackPreviousValues
        && a.previousValuesFilter == b.previousValuesFilter
        && a.previousValuesOnlyWhenChanged == b.previousValuesOnlyWhenChanged;
}
