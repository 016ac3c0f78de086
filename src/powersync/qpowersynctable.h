#ifndef QPOWERSYNCTABLE_H
#define QPOWERSYNCTABLE_H

#include "qpowersynccolumn.h"
#include "qpowersyncindex.h"

#include <QtCore/qlist.h>
#include <QtCore/qstringlist.h>

class QPowerSyncTablePrivate;

// One table of a PowerSync schema. The core turns it into a view named
// viewName() over a table holding the rows as JSON (internalName()), with
// triggers that record the writes to synced tables in ps_crud for upload.
//
// A synced table (the default) receives the rows the service sends and queues
// local writes for upload. A local-only table never syncs and records nothing
// for upload. An insert-only table records inserts for upload and keeps no rows.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncTable
{
    Q_GADGET
    Q_PROPERTY(QString name READ name WRITE setName FINAL)
    Q_PROPERTY(QString viewName READ viewName WRITE setViewName FINAL)
    Q_PROPERTY(QString internalName READ internalName FINAL)
    Q_PROPERTY(QList<QPowerSyncColumn> columns READ columns WRITE setColumns FINAL)
    Q_PROPERTY(QList<QPowerSyncIndex> indexes READ indexes WRITE setIndexes FINAL)
    Q_PROPERTY(bool localOnly READ isLocalOnly WRITE setLocalOnly FINAL)
    Q_PROPERTY(bool insertOnly READ isInsertOnly WRITE setInsertOnly FINAL)
    Q_PROPERTY(bool includeMetadata READ includesMetadata WRITE setIncludeMetadata FINAL)
    Q_PROPERTY(bool ignoreEmptyUpdates READ ignoresEmptyUpdates WRITE setIgnoreEmptyUpdates FINAL)
    Q_PROPERTY(
        bool trackPreviousValues READ tracksPreviousValues WRITE setTrackPreviousValues FINAL)

public:
    // The most columns the core accepts in one table ("id" not counted).
    static constexpr int MaximumColumns = 1999;

    QPowerSyncTable();
    QPowerSyncTable(const QString &name, const QList<QPowerSyncColumn> &columns,
                    const QList<QPowerSyncIndex> &indexes = {});
    QPowerSyncTable(const QPowerSyncTable &other);
    QPowerSyncTable &operator=(const QPowerSyncTable &other);
    ~QPowerSyncTable();

    static QPowerSyncTable localOnlyTable(const QString &name,
                                          const QList<QPowerSyncColumn> &columns,
                                          const QList<QPowerSyncIndex> &indexes = {},
                                          const QString &viewName = QString());
    static QPowerSyncTable insertOnlyTable(const QString &name,
                                           const QList<QPowerSyncColumn> &columns,
                                           const QString &viewName = QString());

    // The name the synced rows carry (the object type of the sync rules).
    QString name() const;
    void setName(const QString &name);
    // The name of the view apps query; name() unless set. Setting an empty
    // string (or the name itself) removes the override.
    QString viewName() const;
    void setViewName(const QString &viewName);
    bool hasViewName() const;
    // ps_data__<name>, or ps_data_local__<name> for a local-only table.
    QString internalName() const;

    QList<QPowerSyncColumn> columns() const;
    void setColumns(const QList<QPowerSyncColumn> &columns);
    void addColumn(const QPowerSyncColumn &column);
    // The column of that name; an unnamed column if there is none.
    QPowerSyncColumn column(const QString &name) const;
    QList<QPowerSyncIndex> indexes() const;
    void setIndexes(const QList<QPowerSyncIndex> &indexes);
    void addIndex(const QPowerSyncIndex &index);

    bool isLocalOnly() const;
    void setLocalOnly(bool localOnly);
    bool isInsertOnly() const;
    void setInsertOnly(bool insertOnly);
    // Adds a hidden _metadata column whose value travels with each write to ps_crud.
    bool includesMetadata() const;
    void setIncludeMetadata(bool include);
    // An UPDATE that changes nothing records nothing for upload.
    bool ignoresEmptyUpdates() const;
    void setIgnoreEmptyUpdates(bool ignore);

    // Records the previous values of updated rows with each write ("old" in
    // ps_crud): of every column, or of the columns in the filter when one is set.
    bool tracksPreviousValues() const;
    void setTrackPreviousValues(bool track);
    bool hasPreviousValuesColumnFilter() const;
    QStringList previousValuesColumnFilter() const;
    // Sets the filter and turns tracking on.
    void setPreviousValuesColumnFilter(const QStringList &columns);
    void clearPreviousValuesColumnFilter();
    // Records previous values only of the columns an update changed.
    bool previousValuesOnlyWhenChanged() const;
    void setPreviousValuesOnlyWhenChanged(bool onlyWhenChanged);

    // Checks the table as PowerSync's SDKs do: names without quotes, '%', ',',
    // '.', '#', brackets, white space or control characters; no "id" column,
    // no duplicate column or index; indexes on existing columns; at most
    // MaximumColumns columns; local-only tables track neither metadata nor
    // previous values. On failure, *errorString says what is wrong.
    bool validate(QString *errorString = nullptr) const;

    bool operator==(const QPowerSyncTable &other) const;
    bool operator!=(const QPowerSyncTable &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QPowerSyncTablePrivate> d;
};

Q_DECLARE_METATYPE(QPowerSyncTable)

#endif // QPOWERSYNCTABLE_H
