#ifndef QATTACHMENTWATCHER_P_H
#define QATTACHMENTWATCHER_P_H

#include "qwatchedattachmentitem.h"

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtSql/qsqldatabase.h>

#include <functional>
#include <optional>

// Reads the watched set from the app's data: runs the watch query and
// follows writes to the watched tables through the connection's driver
// notifications. Touches only the app's tables, never the queue table.
class QAttachmentWatcher
{
public:
    // `changed(table)` is called for every notification of a subscribed table.
    QAttachmentWatcher(QObject *context, std::function<void(const QString &)> changed);
    ~QAttachmentWatcher();

    // The items the query returns; no value (and errorString) when it fails or
    // returns no `id` column. Rows with a NULL id are skipped.
    static std::optional<QList<QWatchedAttachmentItem>>
    run(const QSqlDatabase &database, const QString &sql, QString *errorString, bool *invalidQuery);

    void subscribe(const QSqlDatabase &database, const QStringList &tables);
    void unsubscribe(const QSqlDatabase &database);
    bool isSubscribed(const QString &table) const;

private:
    // SQLite empties a table on `DELETE FROM t` without WHERE without telling
    // its update hook; a TEMP delete trigger (this connection's alone) turns
    // that shortcut off.
    static void guard(const QSqlDatabase &database, const QString &table);

    QObject *m_context;
    std::function<void(const QString &)> m_changed;
    QStringList m_subscribed;
    QMetaObject::Connection m_driverConnection;
};

#endif // QATTACHMENTWATCHER_P_H
