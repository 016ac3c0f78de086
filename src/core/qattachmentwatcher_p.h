#ifndef QATTACHMENTWATCHER_P_H
#define QATTACHMENTWATCHER_P_H

#include "qwatchedattachmentitem.h"

#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqldatabase.h>

#include <functional>
#include <optional>

// Reads the watched set from the app's data: runs the watch query and
// follows writes to the watched tables through the connection's driver
// notifications. Touches only the app's tables, never the queue table.
//
// A watched view (a PowerSync table is one) is followed through the tables it
// reads: SQLite's update hook names those, never the view. The watcher uses
// Qt's hook alone and installs no change tracker of its own. Commits of other
// connections and processes reach no hook of this one: PRAGMA data_version,
// polled, says when one happened.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentWatcher
{
public:
    // `changed(table)` is called for every notification of a subscribed table,
    // `external()` when another connection committed a change to the database.
    QAttachmentWatcher(QObject *context, std::function<void(const QString &)> changed,
                       std::function<void()> external = {});
    ~QAttachmentWatcher();

    // The items the query returns; no value (and errorString) when it fails,
    // stops half-way or returns no `id` column; `busy` (when given) says
    // whether another connection's lock failed it. Rows with a NULL id are
    // skipped.
    static std::optional<QList<QWatchedAttachmentItem>>
    run(const QSqlDatabase &database, const QString &sql, QString *errorString, bool *invalidQuery,
        bool *busy = nullptr);

    // Subscribes to the tables, each view through the tables it reads.
    void subscribe(const QSqlDatabase &database, const QStringList &tables);
    void unsubscribe(const QSqlDatabase &database);
    bool isSubscribed(const QString &table) const;
    QStringList subscribed() const { return m_subscribed; }
    // The tables whose writes change what `name` returns: `name` itself for a
    // table (or an unknown name), the tables of the main database a view
    // reads (found by the plan SQLite makes for it) for a view.
    static QStringList sourceTables(const QSqlDatabase &database, const QString &name);

    // Checks every `msecs` whether another connection committed to the
    // database of connection `connectionName`; 0 stops checking.
    void startPolling(const QString &connectionName, int msecs);
    void stopPolling();
    bool isPolling() const { return m_pollTimer.isActive(); }

private:
    // One check: PRAGMA data_version, without waiting for another
    // connection's lock (a busy database is checked on the next tick).
    void poll();
    // The connection's data_version; -1 when it cannot be read now.
    static qint64 dataVersion(const QSqlDatabase &database);

    // SQLite empties a table on `DELETE FROM t` without WHERE without telling
    // its update hook; a TEMP delete trigger (this connection's alone) turns
    // that shortcut off.
    static void guard(const QSqlDatabase &database, const QString &table);

    QObject *m_context;
    std::function<void(const QString &)> m_changed;
    std::function<void()> m_external;
    QStringList m_subscribed;
    QMetaObject::Connection m_driverConnection;
    QTimer m_pollTimer;
    QString m_pollConnection;
    qint64 m_dataVersion = -1;
};

#endif // QATTACHMENTWATCHER_P_H
