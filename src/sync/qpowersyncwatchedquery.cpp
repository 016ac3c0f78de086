#include "qpowersyncwatchedquery.h"

#include "qpowersyncprotocol_p.h"

#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

QPowerSyncWatchedQuery::QPowerSyncWatchedQuery(const QString &connectionName, const QString &sql,
                                               const QVariantList &params,
                                               const QStringList &tables, QObject *parent)
    : QObject(parent)
    , m_connection(connectionName)
    , m_sql(sql)
    , m_params(params)
    , m_tables(tables)
{ }

QPowerSyncWatchedQuery::~QPowerSyncWatchedQuery() = default;

bool QPowerSyncWatchedQuery::touches(const QStringList &tables) const
{
    for (const QString &table : tables) {
        if (m_tables.contains(table, Qt::CaseInsensitive))
            return true;
    }
    return false;
}

void QPowerSyncWatchedQuery::refresh()
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    QString error;
    QVariantList rows;
    QStringList columns;
    if (!query.prepare(m_sql)) {
        error = query.lastError().text();
    } else {
        for (const QVariant &param : std::as_const(m_params))
            query.addBindValue(param);
        if (!query.exec()) {
            error = query.lastError().text();
        } else {
            const QSqlRecord record = query.record();
            for (int i = 0; i < record.count(); ++i)
                columns.append(record.fieldName(i));
            while (query.next()) {
                QVariantMap row;
                for (int i = 0; i < columns.size(); ++i)
                    row.insert(columns.at(i), query.value(i));
                rows.append(row);
            }
        }
    }
    if (error != m_error) {
        m_error = error;
        if (!error.isEmpty())
            qCWarning(lcSync) << "watched query failed:" << error;
        emit errorStringChanged();
    }
    if (!error.isEmpty())
        return;
    if (m_ran && rows == m_rows && columns == m_columns)
        return;
    m_ran = true;
    m_rows = rows;
    m_columns = columns;
    emit resultsChanged(m_rows);
}
