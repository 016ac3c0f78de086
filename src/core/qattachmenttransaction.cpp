#include "qattachmenttransaction.h"

#include <QtSql/qsqlerror.h>

QAttachmentTransaction::QAttachmentTransaction(const QSqlDatabase &database)
    : m_database(database)
{ }

QSqlQuery QAttachmentTransaction::execute(const QString &sql, const QVariantList &parameters)
{
    QSqlQuery query(m_database);
    if (hasError())
        return query; // the transaction is already lost; run nothing more
    if (!query.prepare(sql)) {
        setError(QStringLiteral("cannot prepare \"%1\": %2").arg(sql, query.lastError().text()));
        return query;
    }
    for (const QVariant &value : parameters)
        query.addBindValue(value);
    if (!query.exec())
        setError(QStringLiteral("\"%1\" failed: %2").arg(sql, query.lastError().text()));
    return query;
}

void QAttachmentTransaction::setError(const QString &errorString)
{
    if (m_errorString.isEmpty())
        m_errorString = errorString.isEmpty() ? QStringLiteral("update hook failed") : errorString;
}
