#include "qfilesystemattachmentstorage.h"

#include "qattachmentremotestorage.h"

#include <QtCore/qcoreevent.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qsavefile.h>

namespace {

constexpr qint64 CopyChunk = 256 * 1024;

bool fail(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

const QString &partialDirName()
{
    static const QString name = QStringLiteral(".partial");
    return name;
}

// Validators of partial files live beside them, one file each.
QString validatorPath(const QString &partialPath)
{
    const QFileInfo info(partialPath);
    return info.path() + QStringLiteral("/.validators/") + info.fileName();
}

constexpr qint64 MaxValidatorSize = 1024;

// A partial file that keeps the validator its adapter sets on it (see
// QAttachmentRemoteStorage::download()) in a file of its own, so that a later
// attempt, even after a restart, resumes only against the same version.
class PartialFile : public QFile
{
public:
    using QFile::QFile;

    void loadValidator()
    {
        QFile file(validatorPath(fileName()));
        if (size() == 0 || !file.open(QIODevice::ReadOnly))
            return;
        const QByteArray validator = file.read(MaxValidatorSize + 1).trimmed();
        if (validator.isEmpty() || validator.size() > MaxValidatorSize)
            return;
        m_loading = true;
        setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, validator);
        m_loading = false;
    }

protected:
    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::DynamicPropertyChange && !m_loading
            && static_cast<QDynamicPropertyChangeEvent *>(e)->propertyName()
                == QAttachmentRemoteStorage::ResumeValidatorProperty)
            keepValidator();
        return QFile::event(e);
    }

private:
    void keepValidator()
    {
        // Set when a response starts at pos(): whatever follows is left over
        // from another attempt, maybe of another version.
        if (size() > pos())
            resize(pos());
        const QByteArray validator
            = property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
        const QString path = validatorPath(fileName());
        if (validator.isEmpty() || validator.size() > MaxValidatorSize) {
            QFile::remove(path);
            return;
        }
        QSaveFile file(path);
        if (!QDir().mkpath(QFileInfo(path).path()) || !file.open(QIODevice::WriteOnly)
            || file.write(validator) != validator.size() || !file.commit())
            QFile::remove(path); // without it the next attempt starts over: safe
    }

    bool m_loading = false;
};

} // namespace

QFileSystemAttachmentStorage::QFileSystemAttachmentStorage(const QString &rootPath)
    : m_root(QDir::cleanPath(QFileInfo(rootPath).absoluteFilePath()))
{ }

QString QFileSystemAttachmentStorage::filePath(const QString &name) const
{
    return m_root + QLatin1Char('/') + name;
}

QString QFileSystemAttachmentStorage::partialPath(const QString &name) const
{
    return m_root + QLatin1Char('/') + partialDirName() + QLatin1Char('/') + name;
}

bool QFileSystemAttachmentStorage::initialize(QString *errorString)
{
    if (!QDir().mkpath(m_root + QLatin1Char('/') + partialDirName()))
        return fail(errorString, QStringLiteral("cannot create the directory %1").arg(m_root));
    return true;
}

qint64 QFileSystemAttachmentStorage::save(const QString &name, QIODevice *source,
                                          QString *errorString)
{
    if (!source || !source->isReadable()) {
        fail(errorString, QStringLiteral("the source of %1 is not open for reading").arg(name));
        return -1;
    }
    if (!initialize(errorString))
        return -1;
    // QSaveFile writes beside the target and renames on commit: a crash never
    // leaves a partial file under the final name.
    QSaveFile file(filePath(name));
    if (!file.open(QIODevice::WriteOnly)) {
        fail(errorString,
             QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        return -1;
    }
    QByteArray chunk;
    qint64 total = 0;
    for (;;) {
        chunk.resize(CopyChunk);
        const qint64 n = source->read(chunk.data(), CopyChunk);
        if (n < 0) {
            file.cancelWriting();
            fail(
                errorString,
                QStringLiteral("cannot read the data for %1: %2").arg(name, source->errorString()));
            return -1;
        }
        if (n == 0 && (source->atEnd() || !source->waitForReadyRead(-1)))
            break;
        if (n > 0 && file.write(chunk.constData(), n) != n) {
            file.cancelWriting();
            fail(errorString,
                 QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
            return -1;
        }
        total += n;
    }
    if (!file.commit()) {
        fail(errorString,
             QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        return -1;
    }
    return total;
}

qint64 QFileSystemAttachmentStorage::saveFromPath(const QString &name, const QString &sourcePath,
                                                  QString *errorString)
{
    QFile source(sourcePath);
    if (!source.open(QIODevice::ReadOnly)) {
        fail(errorString,
             QStringLiteral("cannot read %1: %2").arg(sourcePath, source.errorString()));
        return -1;
    }
    return save(name, &source, errorString);
}

std::unique_ptr<QIODevice> QFileSystemAttachmentStorage::openForReading(const QString &name,
                                                                        QString *errorString)
{
    auto file = std::make_unique<QFile>(filePath(name));
    if (!file->open(QIODevice::ReadOnly)) {
        fail(errorString,
             QStringLiteral("cannot open %1: %2").arg(file->fileName(), file->errorString()));
        return nullptr;
    }
    return file;
}

bool QFileSystemAttachmentStorage::remove(const QString &name, QString *errorString)
{
    QFile file(filePath(name));
    if (!file.exists() || file.remove())
        return true;
    return fail(errorString,
                QStringLiteral("cannot remove %1: %2").arg(file.fileName(), file.errorString()));
}

bool QFileSystemAttachmentStorage::exists(const QString &name) const
{
    return QFileInfo::exists(filePath(name));
}

qint64 QFileSystemAttachmentStorage::size(const QString &name) const
{
    const QFileInfo info(filePath(name));
    return info.exists() ? info.size() : -1;
}

bool QFileSystemAttachmentStorage::clear(QString *errorString)
{
    QDir root(m_root);
    if (root.exists() && !root.removeRecursively())
        return fail(errorString, QStringLiteral("cannot remove every file in %1").arg(m_root));
    return initialize(errorString);
}

std::unique_ptr<QIODevice> QFileSystemAttachmentStorage::openPartial(const QString &name,
                                                                     QString *errorString)
{
    if (!initialize(errorString))
        return nullptr;
    auto file = std::make_unique<PartialFile>(partialPath(name));
    // ReadWrite, not Append: a download that must start over seeks back to 0.
    if (!file->open(QIODevice::ReadWrite)) {
        fail(errorString,
             QStringLiteral("cannot open %1: %2").arg(file->fileName(), file->errorString()));
        return nullptr;
    }
    file->seek(file->size());
    file->loadValidator();
    return file;
}

qint64 QFileSystemAttachmentStorage::partialSize(const QString &name) const
{
    const QFileInfo info(partialPath(name));
    return info.exists() ? info.size() : 0;
}

bool QFileSystemAttachmentStorage::commitPartial(const QString &name, qint64 size,
                                                 QString *errorString)
{
    QFile partial(partialPath(name));
    if (!partial.exists())
        return fail(errorString, QStringLiteral("no partial file for %1").arg(name));
    if (partial.size() != size && !partial.resize(size))
        return fail(errorString,
                    QStringLiteral("cannot truncate %1: %2")
                        .arg(partial.fileName(), partial.errorString()));
    // rename() does not replace; a stale file of the same name is removed first.
    const QString target = filePath(name);
    if (QFile::exists(target) && !QFile::remove(target))
        return fail(errorString, QStringLiteral("cannot replace %1").arg(target));
    if (!partial.rename(target))
        return fail(errorString,
                    QStringLiteral("cannot move %1 to %2: %3")
                        .arg(partial.fileName(), target, partial.errorString()));
    QFile::remove(validatorPath(partialPath(name)));
    return true;
}

bool QFileSystemAttachmentStorage::removePartial(const QString &name)
{
    QFile partial(partialPath(name));
    QFile::remove(validatorPath(partial.fileName()));
    return !partial.exists() || partial.remove();
}

QUrl QFileSystemAttachmentStorage::url(const QString &name) const
{
    return QUrl::fromLocalFile(filePath(name));
}
