#include "uploadfile.h"

#include "fileserver.h"

#include <QtCore/qfileinfo.h>
#include <QtCore/qtemporaryfile.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {

// Uploads are handed to the disk as they arrive, so the final fsync is short.
constexpr qint64 SyncInterval = 8 * 1024 * 1024;

void syncDirectory(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    ::fsync(fd);
    ::close(fd);
}

} // namespace

UploadFile::UploadFile(const QString &targetPath)
    : m_targetPath(targetPath)
{ }

UploadFile::~UploadFile() = default;

bool UploadFile::open(QByteArray *errorString)
{
    const QFileInfo info(m_targetPath);
    m_file
        = std::make_unique<QTemporaryFile>(info.absolutePath() + QLatin1Char('/')
                                           + FileServer::UploadPrefix + QStringLiteral("XXXXXX"));
    if (!m_file->open()) {
        *errorString = m_file->errorString().toUtf8();
        m_file.reset();
        return false;
    }
    return true;
}

bool UploadFile::write(const char *data, qsizetype length, QByteArray *errorString)
{
    if (m_file->write(data, length) != length) {
        *errorString = m_file->errorString().toUtf8();
        return false;
    }
    m_written += length;
#ifdef Q_OS_LINUX
    if (m_written - m_synced >= SyncInterval && m_file->flush()) {
        // Starts writing back what arrived, without waiting for it.
        ::sync_file_range(m_file->handle(), m_synced, m_written - m_synced, SYNC_FILE_RANGE_WRITE);
        m_synced = m_written;
    }
#endif
    return true;
}

UploadFile::Result UploadFile::commit()
{
    std::unique_ptr<QTemporaryFile> file = std::move(m_file);
    if (!file->flush() || ::fsync(file->handle()) != 0)
        return {507, QByteArray("cannot write the upload: ") + std::strerror(errno)};
    file->setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup
                         | QFileDevice::ReadOther);
    file->close();
    const QFileInfo info(m_targetPath);
    const bool replaced = info.exists() || info.isSymLink();
    if (std::rename(QFile::encodeName(file->fileName()).constData(),
                    QFile::encodeName(m_targetPath).constData())
        != 0)
        return {500, QByteArray("cannot move the upload into place: ") + std::strerror(errno)};
    file->setAutoRemove(false);
    syncDirectory(info.absolutePath());
    return {replaced ? 204 : 201, {}};
}
