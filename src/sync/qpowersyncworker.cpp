#include "qpowersyncworker_p.h"

#include "qpowersyncprotocol_p.h"

#include <QtCore/qatomic.h>
#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qthread.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

namespace {
QAtomicInt workerCounter;

bool exec(QSqlDatabase &db, const QString &sql, QString *errorString)
{
    QSqlQuery query(db);
    if (query.exec(sql))
        return true;
    if (errorString)
        *errorString = query.lastError().text();
    return false;
}
} // namespace

QPowerSyncWorker::QPowerSyncWorker(const QString &databasePath, QObject *parent)
    : QObject(parent)
    , m_connectionName(
          QStringLiteral("powersync-sync-worker-%1").arg(workerCounter.fetchAndAddRelaxed(1)))
    , m_path(databasePath)
{
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("PowerSync sync"));
    m_context = new QObject;
    m_context->moveToThread(m_thread);
    m_thread->start();
}

QPowerSyncWorker::~QPowerSyncWorker()
{
    m_stopping = true;
    const QString name = m_connectionName;
    QMetaObject::invokeMethod(
        m_context,
        [this, name] {
            if (m_opened) {
                {
                    QSqlDatabase db = QSqlDatabase::database(name, false);
                    db.close();
                }
                QSqlDatabase::removeDatabase(name);
            }
            m_context->deleteLater();
            m_thread->quit();
        },
        Qt::QueuedConnection);
    m_thread->wait();
    delete m_thread;
}

void QPowerSyncWorker::submit(Job job, Done done)
{
    ++m_pending;
    QMetaObject::invokeMethod(
        m_context,
        [this, job = std::move(job), done = std::move(done)]() mutable {
            Result result;
            if (m_stopping)
                return;
            if (!m_opened && m_openError.isEmpty()) {
                QSqlDatabase db
                    = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
                db.setDatabaseName(m_path);
                db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=30000"));
                if (!db.open()) {
                    m_openError = db.lastError().text();
                } else {
                    m_opened = true;
                    QString error;
                    exec(db, QStringLiteral("PRAGMA journal_mode=WAL"), &error);
                    QSqlQuery install(db);
                    if (!install.exec(QStringLiteral("SELECT powersync_update_hooks('install')")))
                        qCWarning(lcSync) << "no change tracking:" << install.lastError().text();
                }
            }
            if (!m_opened) {
                result.errorString = QStringLiteral("cannot open %1: %2").arg(m_path, m_openError);
            } else {
                QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
                result.value = job(db, &result.errorString);
                QSqlQuery changes(db);
                if (changes.exec(QStringLiteral("SELECT powersync_update_hooks('get')"))
                    && changes.next()) {
                    const QJsonArray tables
                        = QJsonDocument::fromJson(changes.value(0).toByteArray()).array();
                    for (const QJsonValue &table : tables)
                        result.changedTables.append(table.toString());
                }
            }
            if (m_stopping)
                return;
            QMetaObject::invokeMethod(
                this,
                [this, result = std::move(result), done = std::move(done)] {
                    --m_pending;
                    if (!result.changedTables.isEmpty())
                        emit tablesChanged(result.changedTables);
                    if (done)
                        done(result);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

bool QPowerSyncWorker::begin(QSqlDatabase &db, QString *errorString)
{
    return exec(db, QStringLiteral("BEGIN IMMEDIATE"), errorString);
}

bool QPowerSyncWorker::commit(QSqlDatabase &db, QString *errorString)
{
    return exec(db, QStringLiteral("COMMIT"), errorString);
}

void QPowerSyncWorker::rollback(QSqlDatabase &db)
{
    QString ignored;
    exec(db, QStringLiteral("ROLLBACK"), &ignored);
}

QVariant QPowerSyncWorker::control(QSqlDatabase &db, const QString &op, const QVariant &payload,
                                   QString *errorString)
{
    // IMMEDIATE: the write lock is taken (waiting for it) before reading, so
    // another connection's commit cannot make the upgrade fail with BUSY.
    if (!begin(db, errorString))
        return {};
    QVariant value;
    {
        QSqlQuery query(db);
        query.prepare(QStringLiteral("SELECT powersync_control(?, ?)"));
        query.addBindValue(op);
        query.addBindValue(payload);
        if (!query.exec() || !query.next()) {
            *errorString = query.lastError().text();
            if (errorString->isEmpty())
                *errorString = QStringLiteral("powersync_control returned nothing");
        } else {
            value = query.value(0);
        }
    }
    if (!errorString->isEmpty()) {
        rollback(db);
        return {};
    }
    if (!commit(db, errorString)) {
        rollback(db);
        return {};
    }
    return value;
}
