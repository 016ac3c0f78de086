#include "folderremotestorage.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qsavefile.h>
#include <QtCore/qtimer.h>

#include <memory>

namespace {

constexpr qint64 Chunk = 64 * 1024;

// Copies `from` into `to` one chunk per event loop turn.
class CopyTransfer : public QAttachmentTransfer
{
public:
    CopyTransfer(Kind kind, QIODevice *from, QIODevice *to, std::function<bool()> commit)
        : QAttachmentTransfer(kind)
        , m_from(from)
        , m_to(to)
        , m_commit(std::move(commit))
    {
        m_timer.setInterval(0);
        connect(&m_timer, &QTimer::timeout, this, &CopyTransfer::step);
        m_timer.start();
    }

protected:
    void abortTransfer() override { m_timer.stop(); }

private:
    void step()
    {
        char buffer[Chunk];
        const qint64 n = m_from->read(buffer, Chunk);
        if (n < 0 || (n > 0 && m_to->write(buffer, n) != n)) {
            m_timer.stop();
            finishWithError(QAttachmentError(QAttachmentError::LocalStorageError,
                                             QStringLiteral("copy failed")));
            return;
        }
        m_done += n;
        setProgress(m_done, m_from->size());
        if (n == 0 || m_from->atEnd()) {
            m_timer.stop();
            if (m_commit())
                finishSuccess();
            else
                finishWithError(QAttachmentError(QAttachmentError::LocalStorageError,
                                                 QStringLiteral("commit failed")));
        }
    }

    QIODevice *m_from;
    QIODevice *m_to;
    std::function<bool()> m_commit;
    QTimer m_timer;
    qint64 m_done = 0;
};

class ImmediateTransfer : public QAttachmentTransfer
{
public:
    ImmediateTransfer(Kind kind, const QAttachmentError &error)
        : QAttachmentTransfer(kind)
    {
        if (error.isError())
            finishWithError(error);
        else
            finishSuccess();
    }
};

} // namespace

FolderRemoteStorage::FolderRemoteStorage(const QString &folder, QObject *parent)
    : QAttachmentRemoteStorage(parent)
    , m_folder(folder)
{
    QDir().mkpath(folder);
}

QAttachmentTransfer *FolderRemoteStorage::upload(const QAttachment &attachment, QIODevice *source)
{
    auto file = std::make_shared<QSaveFile>(m_folder + QLatin1Char('/') + attachment.filename());
    if (!file->open(QIODevice::WriteOnly))
        return new ImmediateTransfer(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::ServerError, file->errorString()));
    auto *transfer = new CopyTransfer(QAttachmentTransfer::Upload, source, file.get(),
                                      [file] { return file->commit(); });
    return transfer;
}

QAttachmentTransfer *FolderRemoteStorage::download(const QAttachment &attachment, QIODevice *sink)
{
    auto file = std::make_shared<QFile>(m_folder + QLatin1Char('/') + attachment.filename());
    if (!file->open(QIODevice::ReadOnly))
        return new ImmediateTransfer(
            QAttachmentTransfer::Download,
            QAttachmentError(QAttachmentError::NotFound,
                             QStringLiteral("no object %1").arg(attachment.filename()), 404));
    sink->seek(0); // no resume: start over
    return new CopyTransfer(QAttachmentTransfer::Download, file.get(), sink,
                            [file] { return true; });
}

QAttachmentTransfer *FolderRemoteStorage::remove(const QAttachment &attachment)
{
    QFile::remove(m_folder + QLatin1Char('/') + attachment.filename());
    return new ImmediateTransfer(QAttachmentTransfer::Delete, {});
}
