#include "qpowersyncindexedcolumn.h"

class QPowerSyncIndexedColumnPrivate : public QSharedData
{
public:
    QString name;
    bool ascending = true;
};

QPowerSyncIndexedColumn::QPowerSyncIndexedColumn()
    : d(new QPowerSyncIndexedColumnPrivate)
{ }

QPowerSyncIndexedColumn::QPowerSyncIndexedColumn(const QString &name, bool ascending)
    : d(new QPowerSyncIndexedColumnPrivate)
{
    d->name = name;
    d->ascending = ascending;
}

QPowerSyncIndexedColumn::QPowerSyncIndexedColumn(const QPowerSyncIndexedColumn &other) = default;
QPowerSyncIndexedColumn &QPowerSyncIndexedColumn::operator=(const QPowerSyncIndexedColumn &other)
    = default;
QPowerSyncIndexedColumn::~QPowerSyncIndexedColumn() = default;

QString QPowerSyncIndexedColumn::name() const
{
    return d->name;
}

void QPowerSyncIndexedColumn::setName(const QString &name)
{
    d->name = name;
}

bool QPowerSyncIndexedColumn::isAscending() const
{
    return d->ascending;
}

void QPowerSyncIndexedColumn::setAscending(bool ascending)
{
    d->ascending = ascending;
}

bool QPowerSyncIndexedColumn::operator==(const QPowerSyncIndexedColumn &other) const
{
    return d == other.d || (d->name == other.d->name && d->ascending == other.d->ascending);
}
