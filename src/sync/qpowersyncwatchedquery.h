#ifndef QPOWERSYNCWATCHEDQUERY_H
#define QPOWERSYNCWATCHEDQUERY_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>

class QPowerSyncDatabase;

// A query re-run whenever a sync or a local write touches one of its tables,
// made by QPowerSyncDatabase::watch(). Changes are noticed through the
// PowerSync core's change tracking on the sync thread and Qt's SQLite
// notifications of the underlying ps_data__<table> tables on the app's
// connection. Results are compared: resultsChanged() only when rows differ.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncWatchedQuery : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString sql READ sql CONSTANT FINAL)
    Q_PROPERTY(QVariantList parameters READ parameters CONSTANT FINAL)
    Q_PROPERTY(QStringList tables READ tables CONSTANT FINAL)
    // Each row as a map from column name to value.
    Q_PROPERTY(QVariantList rows READ rows NOTIFY resultsChanged FINAL)
    Q_PROPERTY(QStringList columns READ columns NOTIFY resultsChanged FINAL)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged FINAL)

public:
    ~QPowerSyncWatchedQuery() override;

    QString sql() const { return m_sql; }
    QVariantList parameters() const { return m_params; }
    QStringList tables() const { return m_tables; }
    QVariantList rows() const { return m_rows; }
    QStringList columns() const { return m_columns; }
    QString errorString() const { return m_error; }

public Q_SLOTS:
    // Runs the query now.
    void refresh();

Q_SIGNALS:
    void resultsChanged(const QVariantList &rows);
    void errorStringChanged();

private:
    friend class QPowerSyncDatabase;
    friend class QPowerSyncDatabasePrivate;
    QPowerSyncWatchedQuery(const QString &connectionName, const QString &sql,
                           const QVariantList &params, const QStringList &tables, QObject *parent);
    bool touches(const QStringList &tables) const;

    QString m_connection;
    QString m_sql;
    QVariantList m_params;
    QStringList m_tables;
    QVariantList m_rows;
    QStringList m_columns;
    QString m_error;
    bool m_ran = false;
};

#endif // QPOWERSYNCWATCHEDQUERY_H
