#include "qmemoryattachmentstorage.h"

#include "qattachmentremotestorage.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qcoreevent.h>
#include <QtCore/qvariant.h>

namespace {

// A QBuffer that keeps the bytes it works on alive, so a reader survives the
// file being removed or replaced in the storage.
class SharedBuffer : public QBuffer
{
public:
    explicit SharedBuffer(std::shared_ptr<QByteArray> bytes,
                          std::shared_ptr<QByteArray> validator = {})
        : m_bytes(std::move(bytes))
        , m_validator(std::move(validator))
    {
        setBuffer(m_bytes.get());
        if (m_validator && !m_validator->isEmpty() && !m_bytes->isEmpty()) {
            m_loading = true;
            setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, *m_validator);
            m_loading = false;
        }
    }

protected:
    // A partial file keeps the validator its adapter sets on it (see
    // QAttachmentRemoteStorage::download()) for the next attempt; the bytes
    // after the position it is set at belong to another attempt.
    bool event(QEvent *e) override
    {
        if (m_validator && !m_loading && e->type() == QEvent::DynamicPropertyChange
            && static_cast<QDynamicPropertyChangeEvent *>(e)->propertyName()
                == QAttachmentRemoteStorage::ResumeValidatorProperty) {
            if (m_bytes->size() > pos())
                m_bytes->truncate(pos());
            *m_validator
                = property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
        }
        return QBuffer::event(e);
    }

private:
    std::shared_ptr<QByteArray> m_bytes;
    std::shared_ptr<QByteArray> m_validator;
    bool m_loading = false;
};

void setError(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
}

} // namespace

QMemoryAttachmentStorage::QMemoryAttachmentStorage() = default;
QMemoryAttachmentStorage::~QMemoryAttachmentStorage() = default;

QByteArray QMemoryAttachmentStorage::data(const QString &name) const
{
    const auto it = m_files.constFind(name);
    return it == m_files.constEnd() ? QByteArray() : **it;
}

int QMemoryAttachmentStorage::fileCount() const
{
    return int(m_files.size());
}

bool QMemoryAttachmentStorage::initialize(QString *errorString)
{
    Q_UNUSED(errorString);
    return true;
}

qint64 QMemoryAttachmentStorage::save(const QString &name, QIODevice *source, QString *errorString)
{
    if (!source || !source->isReadable()) {
        setError(errorString, QStringLiteral("the source of %1 is not open for reading").arg(name));
        return -1;
    }
    auto bytes = std::make_shared<QByteArray>(source->readAll());
    const qint64 size = bytes->size();
    m_files.insert(name, std::move(bytes));
    return size;
}

std::unique_ptr<QIODevice> QMemoryAttachmentStorage::openForReading(const QString &name,
                                                                    QString *errorString)
{
    const auto it = m_files.constFind(name);
    if (it == m_files.constEnd()) {
        setError(errorString, QStringLiteral("no file %1").arg(name));
        return nullptr;
    }
    auto device = std::make_unique<SharedBuffer>(*it);
    device->open(QIODevice::ReadOnly);
    return device;
}

bool QMemoryAttachmentStorage::remove(const QString &name, QString *errorString)
{
    Q_UNUSED(errorString);
    m_files.remove(name);
    return true;
}

bool QMemoryAttachmentStorage::exists(const QString &name) const
{
    return m_files.contains(name);
}

qint64 QMemoryAttachmentStorage::size(const QString &name) const
{
    const auto it = m_files.constFind(name);
    return it == m_files.constEnd() ? -1 : (*it)->size();
}

bool QMemoryAttachmentStorage::clear(QString *errorString)
{
    Q_UNUSED(errorString);
    m_files.clear();
    m_partials.clear();
    m_partialValidators.clear();
    return true;
}

std::unique_ptr<QIODevice> QMemoryAttachmentStorage::openPartial(const QString &name,
                                                                 QString *errorString)
{
    Q_UNUSED(errorString);
    auto &bytes = m_partials[name];
    if (!bytes)
        bytes = std::make_shared<QByteArray>();
    auto &validator = m_partialValidators[name];
    if (!validator)
        validator = std::make_shared<QByteArray>();
    auto device = std::make_unique<SharedBuffer>(bytes, validator);
    device->open(QIODevice::ReadWrite);
    device->seek(bytes->size());
    return device;
}

qint64 QMemoryAttachmentStorage::partialSize(const QString &name) const
{
    const auto it = m_partials.constFind(name);
    return it == m_partials.constEnd() ? 0 : (*it)->size();
}

bool QMemoryAttachmentStorage::commitPartial(const QString &name, qint64 size, QString *errorString)
{
    const auto it = m_partials.constFind(name);
    if (it == m_partials.constEnd()) {
        setError(errorString, QStringLiteral("no partial file for %1").arg(name));
        return false;
    }
    if ((*it)->size() < size) {
        setError(errorString,
                 QStringLiteral("the partial file of %1 holds %2 of %3 bytes")
                     .arg(name)
                     .arg((*it)->size())
                     .arg(size));
        return false;
    }
    // A copy: a device still open on the partial bytes must not change the file.
    auto bytes = std::make_shared<QByteArray>((*it)->left(size));
    m_partials.remove(name);
    m_partialValidators.remove(name);
    m_files.insert(name, std::move(bytes));
    return true;
}

bool QMemoryAttachmentStorage::removePartial(const QString &name)
{
    m_partials.remove(name);
    m_partialValidators.remove(name);
    return true;
}

QStringList QMemoryAttachmentStorage::fileNames() const
{
    return m_files.keys();
}

qint64 QMemoryAttachmentStorage::lastModified(const QString &name) const
{
    Q_UNUSED(name);
    return 0; // nothing outlives the process: whatever no row owns is stale
}

QStringList QMemoryAttachmentStorage::partialNames() const
{
    return m_partials.keys();
}
