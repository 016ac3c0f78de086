#ifndef TEMPORARYDATABASE_H
#define TEMPORARYDATABASE_H

#include <QtCore/qstring.h>
#include <QtCore/qtemporarydir.h>

class QAttachmentQueue;
class QAttachmentRemoteStorage;

// A temporary directory holding a fresh SQLite database on a connection of
// its own; the connection is closed and the directory removed with the object
// (declare queues on it after it, so that they go first).
class TemporaryDatabase
{
public:
    TemporaryDatabase();
    ~TemporaryDatabase();
    TemporaryDatabase(const TemporaryDatabase &) = delete;
    TemporaryDatabase &operator=(const TemporaryDatabase &) = delete;

    // False when the directory could not be made (no database then).
    bool isValid() const { return !m_connection.isEmpty(); }
    QString path() const { return m_dir.path(); }
    QString connectionName() const { return m_connection; }
    // Where setUpQueue() keeps a queue's files: path()/files.
    QString filesPath() const;

    // Sets `queue` up on this database, its files under filesPath(), with
    // `remote`, syncing on demand only (sync interval 0).
    void setUpQueue(QAttachmentQueue &queue, QAttachmentRemoteStorage *remote) const;

private:
    QTemporaryDir m_dir;
    QString m_connection;
};

#endif // TEMPORARYDATABASE_H
