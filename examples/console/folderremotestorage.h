#ifndef FOLDERREMOTESTORAGE_H
#define FOLDERREMOTESTORAGE_H

#include <qattachmentremotestorage.h>

// A remote storage that keeps objects in a local folder, copying in chunks on
// the event loop. It shows what a custom remote storage needs: transfers that
// finish asynchronously, report progress and can be aborted.
class FolderRemoteStorage : public QAttachmentRemoteStorage
{
    Q_OBJECT

public:
    explicit FolderRemoteStorage(const QString &folder, QObject *parent = nullptr);

    QString folder() const { return m_folder; }

    QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override;
    QAttachmentTransfer *remove(const QAttachment &attachment) override;

private:
    QString m_folder;
};

#endif // FOLDERREMOTESTORAGE_H
