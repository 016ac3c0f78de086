#ifndef QMEMORYATTACHMENTSTORAGE_H
#define QMEMORYATTACHMENTSTORAGE_H

#include "qattachmentlocalstorage.h"

#include <QtCore/qhash.h>

#include <memory>

// Local storage held in memory, for tests and for apps whose attachments need
// not outlive the process. Devices it hands out stay valid after the file is
// removed (they keep their own reference to the bytes).
class POWERSYNC_ATTACHMENTS_EXPORT QMemoryAttachmentStorage : public QAttachmentLocalStorage
{
public:
    QMemoryAttachmentStorage();
    ~QMemoryAttachmentStorage() override;

    // The stored bytes of `name`, empty when missing.
    QByteArray data(const QString &name) const;
    int fileCount() const;

    bool initialize(QString *errorString = nullptr) override;
    using QAttachmentLocalStorage::save;
    qint64 save(const QString &name, QIODevice *source, QString *errorString = nullptr) override;
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

private:
    QHash<QString, std::shared_ptr<QByteArray>> m_files;
    QHash<QString, std::shared_ptr<QByteArray>> m_partials;
    QHash<QString, std::shared_ptr<QByteArray>> m_partialValidators; // see openPartial()
};

#endif // QMEMORYATTACHMENTSTORAGE_H
