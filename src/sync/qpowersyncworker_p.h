#ifndef QPOWERSYNCWORKER_P_H
#define QPOWERSYNCWORKER_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qvariant.h>

#include <atomic>
#include <functional>

class QSqlDatabase;
class QThread;

// A thread with its own connection to the database file, on which the sync
// client runs everything that writes sync state (powersync_control, removing
// uploaded writes): applying a large checkpoint takes hundreds of
// milliseconds, which must not happen on the thread that runs the app's
// event loop. Jobs run one at a time, in the order they were submitted; their
// results come back, in the same order, on the thread that owns the worker.
//
// The connection has the core's own change tracker installed (it has no Qt
// notification hook): after each job, the tables that committed writes
// touched are reported with the result.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QPowerSyncWorker : public QObject
{
    Q_OBJECT

public:
    struct Result
    {
        QVariant value;
        QString errorString;
        QStringList changedTables; // as the core reports them (ps_data__t, ...)
    };
    using Job = std::function<QVariant(QSqlDatabase &db, QString *errorString)>;
    using Done = std::function<void(const Result &result)>;

    explicit QPowerSyncWorker(const QString &databasePath, QObject *parent = nullptr);
    // Skips jobs not started yet, waits for the running one, closes the connection.
    ~QPowerSyncWorker() override;

    // Runs job on the worker thread, then done (if set) on this object's thread.
    void submit(Job job, Done done = {});
    int pendingJobs() const { return m_pending; }

    // BEGIN IMMEDIATE / COMMIT / ROLLBACK on the worker's connection.
    static bool begin(QSqlDatabase &db, QString *errorString);
    static bool commit(QSqlDatabase &db, QString *errorString);
    static void rollback(QSqlDatabase &db);
    // One statement in a transaction: SELECT powersync_control(op, payload).
    static QVariant control(QSqlDatabase &db, const QString &op, const QVariant &payload,
                            QString *errorString);

Q_SIGNALS:
    // Tables that a job's committed writes touched (never empty).
    void tablesChanged(const QStringList &tables);

private:
    QThread *m_thread = nullptr;
    QObject *m_context = nullptr;
    QString m_connectionName;
    QString m_path;
    int m_pending = 0;
    std::atomic<bool> m_stopping {false};
    bool m_opened = false; // worker thread only
    QString m_openError; // worker thread only
};

#endif // QPOWERSYNCWORKER_P_H
