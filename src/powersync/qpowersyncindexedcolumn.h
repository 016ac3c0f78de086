#ifndef QPOWERSYNCINDEXEDCOLUMN_H
#define QPOWERSYNCINDEXEDCOLUMN_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

class QPowerSyncIndexedColumnPrivate;

// A column of a QPowerSyncIndex, with its sort order.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncIndexedColumn
{
    Q_GADGET
    Q_PROPERTY(QString name READ name WRITE setName FINAL)
    Q_PROPERTY(bool ascending READ isAscending WRITE setAscending FINAL)

public:
    QPowerSyncIndexedColumn();
    explicit QPowerSyncIndexedColumn(const QString &name, bool ascending = true);
    QPowerSyncIndexedColumn(const QPowerSyncIndexedColumn &other);
    QPowerSyncIndexedColumn &operator=(const QPowerSyncIndexedColumn &other);
    ~QPowerSyncIndexedColumn();

    static QPowerSyncIndexedColumn descending(const QString &name)
    {
        return QPowerSyncIndexedColumn(name, false);
    }

    QString name() const;
    void setName(const QString &name);
    bool isAscending() const;
    void setAscending(bool ascending);

    bool operator==(const QPowerSyncIndexedColumn &other) const;
    bool operator!=(const QPowerSyncIndexedColumn &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPowerSyncIndexedColumnPrivate> d;
};

Q_DECLARE_METATYPE(QPowerSyncIndexedColumn)

#endif // QPOWERSYNCINDEXEDCOLUMN_H
