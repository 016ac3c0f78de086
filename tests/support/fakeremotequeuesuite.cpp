#include "fakeremotequeuesuite.h"

#include "testsupport.h"

#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

bool FakeRemoteQueueSuite::openFixture()
{
    m_dir = new QTemporaryDir;
    if (!m_dir->isValid())
        return false;
    m_connection = TestSupport::openDatabase(m_dir->path());
    m_remote = new FakeRemoteStorage;
    return true;
}

void FakeRemoteQueueSuite::closeFixture()
{
    delete m_queue;
    m_queue = nullptr;
    delete m_remote;
    m_remote = nullptr;
    if (!m_connection.isEmpty())
        TestSupport::closeDatabase(m_connection);
    m_connection.clear();
    delete m_dir;
    m_dir = nullptr;
}

void FakeRemoteQueueSuite::setUpQueue(QAttachmentQueue *queue, const QueueSetup &setup)
{
    delete m_queue;
    m_queue = queue;
    m_queue->setConnectionName(m_connection);
    if (setup.localStorage)
        m_queue->setLocalStorage(setup.localStorage);
    else
        m_queue->setLocalDirectory(setup.localDirectory.isEmpty() ? filesDir()
                                                                  : setup.localDirectory);
    m_queue->setRemoteStorage(m_remote);
    m_queue->setSyncInterval(0);
    if (setup.quickRetries) {
        m_queue->setRetryDelay(20);
        m_queue->setMaxRetryDelay(200);
    }
    if (!setup.online)
        m_queue->setOnline(false);
}

int FakeRemoteQueueSuite::rowCount(const QString &sql) const
{
    QSqlQuery query(db());
    if (!query.exec(sql) || !query.next())
        return -1;
    return query.value(0).toInt();
}

void FakeRemoteQueueSuite::exec(const QString &sql, const QVariantList &params)
{
    QSqlQuery query(db());
    query.prepare(sql);
    for (const QVariant &value : params)
        query.addBindValue(value);
    if (!query.exec())
        qFatal("%s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
}

bool FakeRemoteQueueSuite::tryExec(const QString &sql)
{
    QSqlQuery query(db());
    if (!query.exec(sql)) {
        qWarning("%s: %s", qPrintable(sql), qPrintable(query.lastError().text()));
        return false;
    }
    return true;
}
