#ifndef QPOWERSYNCINDEX_H
#define QPOWERSYNCINDEX_H

#include "qpowersyncindexedcolumn.h"

#include <QtCore/qlist.h>
#include <QtCore/qstringlist.h>

class QPowerSyncIndexPrivate;

// An index of a PowerSync table. The core creates it as an expression index
// on the table holding the rows (ps_data__<table>__<index>).
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncIndex
{
    Q_GADGET
    Q_PROPERTY(QString name READ name WRITE setName FINAL)
    Q_PROPERTY(QList<QPowerSyncIndexedColumn> columns READ columns WRITE setColumns FINAL)

public:
    QPowerSyncIndex();
    QPowerSyncIndex(const QString &name, const QList<QPowerSyncIndexedColumn> &columns);
    QPowerSyncIndex(const QPowerSyncIndex &other);
    QPowerSyncIndex &operator=(const QPowerSyncIndex &other);
    ~QPowerSyncIndex();

    // An index on the given columns, all ascending.
    static QPowerSyncIndex ascending(const QString &name, const QStringList &columns);

    QString name() const;
    void setName(const QString &name);
    QList<QPowerSyncIndexedColumn> columns() const;
    void setColumns(const QList<QPowerSyncIndexedColumn> &columns);

    bool operator==(const QPowerSyncIndex &other) const;
    bool operator!=(const QPowerSyncIndex &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPowerSyncIndexPrivate> d;
};

Q_DECLARE_METATYPE(QPowerSyncIndex)

#endif // QPOWERSYNCINDEX_H
