#ifndef QATTACHMENTTRANSACTION_H
#define QATTACHMENTTRANSACTION_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlquery.h>

// The transaction in which saveFile() and deleteFile() run the app's update
// hook. Whatever the hook executes commits together with the attachment row,
// or not at all: a failed statement, or a hook returning false, rolls both back.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentTransaction
{
public:
    explicit QAttachmentTransaction(const QSqlDatabase &database);

    // Runs one statement with positional (`?`) parameters. Returns the
    // executed query (for SELECTs) and records the first failure.
    QSqlQuery execute(const QString &sql, const QVariantList &parameters = {});

    QSqlDatabase database() const { return m_database; }
    bool hasError() const { return !m_errorString.isEmpty(); }
    QString errorString() const { return m_errorString; }
    // Marks the transaction failed, so that it rolls back.
    void setError(const QString &errorString);

private:
    QSqlDatabase m_database;
    QString m_errorString;
};

#endif // QATTACHMENTTRANSACTION_H
