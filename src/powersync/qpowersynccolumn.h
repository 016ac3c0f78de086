#ifndef QPOWERSYNCCOLUMN_H
#define QPOWERSYNCCOLUMN_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

class QPowerSyncColumnPrivate;

// One column of a PowerSync table: a name and the SQLite type the view casts
// the synced JSON value to. The "id" column is implicit and never declared.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncColumn
{
    Q_GADGET
    Q_PROPERTY(QString name READ name WRITE setName FINAL)
    Q_PROPERTY(Type type READ type WRITE setType FINAL)

public:
    enum Type { Text, Integer, Real };
    Q_ENUM(Type)

    QPowerSyncColumn();
    explicit QPowerSyncColumn(const QString &name, Type type = Text);
    QPowerSyncColumn(const QPowerSyncColumn &other);
    QPowerSyncColumn &operator=(const QPowerSyncColumn &other);
    ~QPowerSyncColumn();

    static QPowerSyncColumn text(const QString &name) { return QPowerSyncColumn(name, Text); }
    static QPowerSyncColumn integer(const QString &name) { return QPowerSyncColumn(name, Integer); }
    static QPowerSyncColumn real(const QString &name) { return QPowerSyncColumn(name, Real); }

    QString name() const;
    void setName(const QString &name);
    Type type() const;
    void setType(Type type);

    // "TEXT", "INTEGER" or "REAL", as the schema JSON spells it.
    static QString typeName(Type type);

    bool operator==(const QPowerSyncColumn &other) const;
    bool operator!=(const QPowerSyncColumn &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPowerSyncColumnPrivate> d;
};

Q_DECLARE_METATYPE(QPowerSyncColumn)

#endif // QPOWERSYNCCOLUMN_H
