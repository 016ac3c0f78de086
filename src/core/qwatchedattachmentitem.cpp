#include "qwatchedattachmentitem.h"

class QWatchedAttachmentItemData : public QSharedData
{
public:
    QString id;
    QString fileExtension;
    QString filename;
    QString metaData;
};

QWatchedAttachmentItem::QWatchedAttachmentItem() noexcept = default;

QWatchedAttachmentItem::QWatchedAttachmentItem(const QString &id, const QString &fileExtension,
                                               const QString &filename, const QString &metaData)
    : d(new QWatchedAttachmentItemData)
{
    d->id = id;
    d->fileExtension = fileExtension;
    d->filename = filename;
    d->metaData = metaData;
}

QWatchedAttachmentItem::QWatchedAttachmentItem(
    const QWatchedAttachmentItem &other) noexcept = default;
QWatchedAttachmentItem::QWatchedAttachmentItem(QWatchedAttachmentItem &&other) noexcept = default;
QWatchedAttachmentItem &
QWatchedAttachmentItem::operator=(const QWatchedAttachmentItem &other) noexcept = default;
QWatchedAttachmentItem &
QWatchedAttachmentItem::operator=(QWatchedAttachmentItem &&other) noexcept = default;
QWatchedAttachmentItem::~QWatchedAttachmentItem() = default;

QString QWatchedAttachmentItem::id() const
{
    return d ? d->id : QString();
}

void QWatchedAttachmentItem::setId(const QString &id)
{
    if (!d)
        d = new QWatchedAttachmentItemData;
    d->id = id;
}

QString QWatchedAttachmentItem::fileExtension() const
{
    return d ? d->fileExtension : QString();
}

void QWatchedAttachmentItem::setFileExtension(const QString &extension)
{
    if (!d)
        d = new QWatchedAttachmentItemData;
    d->fileExtension = extension;
}

QString QWatchedAttachmentItem::filename() const
{
    return d ? d->filename : QString();
}

void QWatchedAttachmentItem::setFilename(const QString &filename)
{
    if (!d)
        d = new QWatchedAttachmentItemData;
    d->filename = filename;
}

QString QWatchedAttachmentItem::metaData() const
{
    return d ? d->metaData : QString();
}

void QWatchedAttachmentItem::setMetaData(const QString &metaData)
{
    if (!d)
        d = new QWatchedAttachmentItemData;
    d->metaData = metaData;
}

bool QWatchedAttachmentItem::isValid() const
{
    return !id().isEmpty() && (!fileExtension().isEmpty() || !filename().isEmpty());
}

bool QWatchedAttachmentItem::operator==(const QWatchedAttachmentItem &other) const
{
    return id() == other.id() && fileExtension() == other.fileExtension()
        && filename() == other.filename() && metaData() == other.metaData();
}
