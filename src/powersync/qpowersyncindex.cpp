#include "qpowersyncindex.h"

class QPowerSyncIndexPrivate : public QSharedData
{
public:
    QString name;
    QList<QPowerSyncIndexedColumn> columns;
};

QPowerSyncIndex::QPowerSyncIndex()
    : d(new QPowerSyncIndexPrivate)
{ }

QPowerSyncIndex::QPowerSyncIndex(const QString &name, const QList<QPowerSyncIndexedColumn> &columns)
    : d(new QPowerSyncIndexPrivate)
{
    d->name = name;
    d->columns = columns;
}

QPowerSyncIndex::QPowerSyncIndex(const QPowerSyncIndex &other) = default;
QPowerSyncIndex &QPowerSyncIndex::operator=(const QPowerSyncIndex &other) = default;
QPowerSyncIndex::~QPowerSyncIndex() = default;

QPowerSyncIndex QPowerSyncIndex::ascending(const QString &name, const QStringList &columns)
{
    QList<QPowerSyncIndexedColumn> indexed;
    indexed.reserve(columns.size());
    for (const QString &column : columns)
        indexed.append(QPowerSyncIndexedColumn(column));
    return QPowerSyncIndex(name, indexed);
}

QString QPowerSyncIndex::name() const
{
    return d->name;
}

void QPowerSyncIndex::setName(const QString &name)
{
    d->name = name;
}

QList<QPowerSyncIndexedColumn> QPowerSyncIndex::columns() const
{
    return d->columns;
}

void QPowerSyncIndex::setColumns(const QList<QPowerSyncIndexedColumn> &columns)
{
    d->columns = columns;
}

bool QPowerSyncIndex::operator==(const QPowerSyncIndex &other) const
{
    return d == other.d || (d->name == other.d->name && d->columns == other.d->columns);
}
