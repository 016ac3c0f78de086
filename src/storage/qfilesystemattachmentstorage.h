#ifndef QFILESYSTEMATTACHMENTSTORAGE_H
#define QFILESYSTEMATTACHMENTSTORAGE_H

#include "qattachmentlocalstorage.h"

// Local storage in a directory of the file system. Partial downloads are kept
// in a hidden `.partial` folder inside the root, so committing is a rename on
// the same file system. Names are checked again here, and no read or write
// follows a symbolic link planted inside the root.
class POWERSYNC_ATTACHMENTS_EXPORT QFileSystemAttachmentStorage : public QAttachmentLocalStorage
{
public:
    explicit QFileSystemAttachmentStorage(const QString &rootPath);

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
    bool removePartial(const QString &name) override;
    QStringList fileNames() const override;
    qint64 lastModified(const QString &name) const override;
    QStringList partialNames() const override;
    QUrl url(const QString &name) const override;

private:
    QString partialPath(const QString &name) const;

    QString m_root;
};

#endif // QFILESYSTEMATTACHMENTSTORAGE_H
