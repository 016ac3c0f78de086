#include "temporarydatabase.h"

#include "testsupport.h"

#include <qattachmentqueue.h>

TemporaryDatabase::TemporaryDatabase()
{
    if (m_dir.isValid())
        m_connection = TestSupport::openDatabase(m_dir.path());
}

TemporaryDatabase::~TemporaryDatabase()
{
    if (!m_connection.isEmpty())
        TestSupport::closeDatabase(m_connection);
}

QString TemporaryDatabase::filesPath() const
{
    return m_dir.path() + QStringLiteral("/files");
}

void TemporaryDatabase::setUpQueue(QAttachmentQueue &queue, QAttachmentRemoteStorage *remote) const
{
    queue.setConnectionName(m_connection);
    queue.setLocalDirectory(filesPath());
    queue.setRemoteStorage(remote);
    queue.setSyncInterval(0);
}
