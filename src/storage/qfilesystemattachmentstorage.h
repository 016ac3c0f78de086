#ifndef QFILESYSTEMATTACHMENTSTORAGE_H
#define QFILESYSTEMATTACHMENTSTORAGE_H

#include "qattachmentlocalstorage.h"

class QFileSystemAttachmentStoragePrivate;

// Local storage in a directory of the file system. Partial downloads are kept
// in a hidden `.partial` folder inside the root, so committing is a rename on
// the same file system. Names are checked again here, and no read or write
// follows a symbolic link planted inside the root.
//
// A committed file is on the disk (the file and the directory entry flushed)
// before the commit reports success. commitPartialAsync() does that waiting
// on a small pool of threads the storage owns (at most four commits run at
// once; one flush of the directory covers every rename done meanwhile) and
// reports back in the calling thread. Destroying the storage waits for the
// commits in flight. On Unix, save() writes a new file under a hidden name in
// the partial folder and moves it into place in one step once it is on the
// disk (elsewhere QSaveFile writes it beside its final name).
class POWERSYNC_ATTACHMENTS_EXPORT QFileSystemAttachmentStorage : public QAttachmentLocalStorage
{
public:
    explicit QFileSystemAttachmentStorage(const QString &rootPath);
    ~QFileSystemAttachmentStorage() override;
    QFileSystemAttachmentStorage(const QFileSystemAttachmentStorage &) = delete;
    QFileSystemAttachmentStorage &operator=(const QFileSystemAttachmentStorage &) = delete;

    QString rootPath() const { return m_root; }
    QString filePath(const QString &name) const;

    bool initialize(QString *errorString = nullptr) override;
    using QAttachmentLocalStorage::save;
    qint64 save(const QString &name, QIODevice *source, QString *errorString = nullptr) override;
    qint64 saveFromPath(const QString &name, const QString &sourcePath,
                        QString *errorString = nullptr) override;
    std::unique_ptr<QIODevice> openForReading(const QString &name,
                                              QString *errorString = nullptr) override;
    bool remove(const QString &name, QString *errorString = nullptr) override;
    bool exists(const QString &name) const override;
    qint64 size(const QString &name) const override;
    bool clear(QString *errorString = nullptr) override;
    std::unique_ptr<QIODevice> openPartial(const QString &name,
                                           QString *errorString = nullptr) override;
    qint64 partialSize(const QString &name) const override;
    bool commitPartial(const QString &name, qint64 size, QString *errorString = nullptr) override;
    void commitPartialAsync(const QString &name, qint64 size, QObject *context,
                            CommitCallback callback) override;
    bool removePartial(const QString &name) override;
    QStringList fileNames() const override;
    qint64 lastModified(const QString &name) const override;
    QStringList partialNames() const override;
    QUrl url(const QString &name) const override;

private:
    QString partialPath(const QString &name) const;

    QString m_root;
    std::unique_ptr<QFileSystemAttachmentStoragePrivate> d;
};

#endif // QFILESYSTEMATTACHMENTSTORAGE_H
