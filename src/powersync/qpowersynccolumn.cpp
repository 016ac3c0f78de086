#include "qpowersynccolumn.h"

class QPowerSyncColumnPrivate : public QSharedData
{
public:
    QString name;
    QPowerSyncColumn::Type type = QPowerSyncColumn::Text;
};

QPowerSyncColumn::QPowerSyncColumn()
    : d(new QPowerSyncColumnPrivate)
{ }

QPowerSyncColumn::QPowerSyncColumn(const QString &name, Type type)
    : d(new QPowerSyncColumnPrivate)
{
    d->name = name;
    d->type = type;
}

QPowerSyncColumn::QPowerSyncColumn(const QPowerSyncColumn &other) = default;
QPowerSyncColumn &QPowerSyncColumn::operator=(const QPowerSyncColumn &other) = default;
QPowerSyncColumn::~QPowerSyncColumn() = default;

QString QPowerSyncColumn::name() const
{
    return d->name;
}

void QPowerSyncColumn::setName(const QString &name)
{
    d->name = name;
}

QPowerSyncColumn::Type QPowerSyncColumn::type() const
{
    return d->type;
}

void QPowerSyncColumn::setType(Type type)
{
    d->type = type;
}

QString QPowerSyncColumn::typeName(Type type)
{
    switch (type) {
    case Integer:
        return QStringLiteral("INTEGER");
    case Real:
        return QStringLiteral("REAL");
    case Text:
        break;
    }
    return QStringLiteral("TEXT");
}

bool QPowerSyncColumn::operator==(const QPowerSyncColumn &other) const
{
    return d == other.d || (d->name == other.d->name && d->type == other.d->type);
}
