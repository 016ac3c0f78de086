#include "qattachment.h"

#include <QtCore/qdebug.h>

class QAttachmentData : public QSharedData
{
public:
    QString id;
    qint64 timestamp = 0;
    QString filename;
    QAttachmentState::State state = QAttachmentState::QueuedDownload;
    QString localUri;
    QString mediaType;
    qint64 size = -1;
    bool hasSynced = false;
    QString metaData;
};

QAttachment::QAttachment() noexcept = default;

QAttachment::QAttachment(const QString &id, const QString &filename, QAttachmentState::State state)
    : d(new QAttachmentData)
{
    d->id = id;
    d->filename = filename;
    d->state = state;
}

QAttachment::QAttachment(const QAttachment &other) noexcept = default;
QAttachment::QAttachment(QAttachment &&other) noexcept = default;
QAttachment &QAttachment::operator=(const QAttachment &other) noexcept = default;
QAttachment &QAttachment::operator=(QAttachment &&other) noexcept = default;
QAttachment::~QAttachment() = default;

const QAttachmentData &QAttachment::data() const
{
    static const QAttachmentData defaults;
    return d ? *d : defaults;
}

QAttachmentData &QAttachment::writable()
{
    if (!d)
        d = new QAttachmentData;
    return *d; // detaches when shared
}

bool QAttachment::isValid() const
{
    return !data().id.isEmpty();
}

QString QAttachment::id() const
{
    return data().id;
}

void QAttachment::setId(const QString &id)
{
    writable().id = id;
}

qint64 QAttachment::timestamp() const
{
    return data().timestamp;
}

void QAttachment::setTimestamp(qint64 msecs)
{
    writable().timestamp = msecs;
}

QString QAttachment::filename() const
{
    return data().filename;
}

void QAttachment::setFilename(const QString &filename)
{
    writable().filename = filename;
}

QAttachmentState::State QAttachment::state() const
{
    return data().state;
}

void QAttachment::setState(QAttachmentState::State state)
{
    writable().state = state;
}

QString QAttachment::localUri() const
{
    return data().localUri;
}

void QAttachment::setLocalUri(const QString &uri)
{
    writable().localUri = uri;
}

QString QAttachment::mediaType() const
{
    return data().mediaType;
}

void QAttachment::setMediaType(const QString &type)
{
    writable().mediaType = type;
}

qint64 QAttachment::size() const
{
    return data().size;
}

void QAttachment::setSize(qint64 size)
{
    writable().size = size;
}

bool QAttachment::hasSynced() const
{
    return data().hasSynced;
}

void QAttachment::setHasSynced(bool synced)
{
    writable().hasSynced = synced;
}

QString QAttachment::metaData() const
{
    return data().metaData;
}

void QAttachment::setMetaData(const QString &metaData)
{
    writable().metaData = metaData;
}

bool QAttachment::operator==(const QAttachment &other) const
{
    if (d == other.d)
        return true;
    const QAttachmentData &a = data();
    const QAttachmentData &b = other.data();
    return a.id == b.id && a.timestamp == b.timestamp && a.filename == b.filename
        && a.state == b.state && a.localUri == b.localUri && a.mediaType == b.mediaType
        && a.size == b.size && a.hasSynced == b.hasSynced && a.metaData == b.metaData;
}

QDebug operator<<(QDebug debug, const QAttachment &attachment)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "QAttachment(" << attachment.id() << ", "
                    << QAttachmentState::name(attachment.state()) << ", " << attachment.filename()
                    << ", size " << attachment.size()
                    << (attachment.hasSynced() ? ", hasSynced" : "") << ')';
    return debug;
}
