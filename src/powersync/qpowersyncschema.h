#ifndef QPOWERSYNCSCHEMA_H
#define QPOWERSYNCSCHEMA_H

#include "qpowersynctable.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qlist.h>

class QPowerSyncSchemaPrivate;

// The tables of a PowerSync database. QPowerSyncCore::applySchema() hands
// toJson() to the core, which creates (or replaces) a view per table: no
// migrations are needed when the schema changes.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncSchema
{
    Q_GADGET
    Q_PROPERTY(QList<QPowerSyncTable> tables READ tables WRITE setTables FINAL)

public:
    QPowerSyncSchema();
    explicit QPowerSyncSchema(const QList<QPowerSyncTable> &tables);
    QPowerSyncSchema(const QPowerSyncSchema &other);
    QPowerSyncSchema &operator=(const QPowerSyncSchema &other);
    ~QPowerSyncSchema();

    QList<QPowerSyncTable> tables() const;
    void setTables(const QList<QPowerSyncTable> &tables);
    void addTable(const QPowerSyncTable &table);
    // The table of that name; an unnamed table if there is none.
    QPowerSyncTable table(const QString &name) const;

    // Every table valid (QPowerSyncTable::validate()), and no two tables with
    // the same name or view name.
    bool validate(QString *errorString = nullptr) const;

    // The schema as the core reads it, byte for byte what PowerSync's Dart SDK
    // sends for the same schema (compact UTF-8 JSON, its key order).
    QByteArray toJson() const;
    // Reads what toJson() writes. Raw tables are not supported: a schema with
    // any is refused. On failure returns an empty schema and sets *errorString.
    static QPowerSyncSchema fromJson(const QByteArray &json, QString *errorString = nullptr);

    bool operator==(const QPowerSyncSchema &other) const;
    bool operator!=(const QPowerSyncSchema &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPowerSyncSchemaPrivate> d;
};

Q_DECLARE_METATYPE(QPowerSyncSchema)

#endif // QPOWERSYNCSCHEMA_H
