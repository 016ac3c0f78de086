#ifndef QWATCHEDATTACHMENTITEM_H
#define QWATCHEDATTACHMENTITEM_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

// An attachment that the app's relational data references, and which
// therefore should be present locally. Either a file extension or a
// filename is required.
class QWatchedAttachmentItemData;
class POWERSYNC_ATTACHMENTS_EXPORT QWatchedAttachmentItem
{
    Q_GADGET
    Q_PROPERTY(QString id READ id FINAL)
    Q_PROPERTY(QString fileExtension READ fileExtension FINAL)
    Q_PROPERTY(QString filename READ filename FINAL)
    Q_PROPERTY(QString metaData READ metaData FINAL)

public:
    QWatchedAttachmentItem() noexcept;
    QWatchedAttachmentItem(const QString &id, const QString &fileExtension,
                           const QString &filename = {}, const QString &metaData = {});
    QWatchedAttachmentItem(const QWatchedAttachmentItem &other) noexcept;
    QWatchedAttachmentItem(QWatchedAttachmentItem &&other) noexcept;
    QWatchedAttachmentItem &operator=(const QWatchedAttachmentItem &other) noexcept;
    QWatchedAttachmentItem &operator=(QWatchedAttachmentItem &&other) noexcept;
    ~QWatchedAttachmentItem();
    void swap(QWatchedAttachmentItem &other) noexcept { d.swap(other.d); }

    // Has an id and at least one of fileExtension or filename.
    bool isValid() const;

    QString id() const;
    void setId(const QString &id);
    QString fileExtension() const;
    void setFileExtension(const QString &extension);
    QString filename() const;
    void setFilename(const QString &filename);
    QString metaData() const;
    void setMetaData(const QString &metaData);

    bool operator==(const QWatchedAttachmentItem &other) const;
    bool operator!=(const QWatchedAttachmentItem &other) const { return !(*this == other); }

private:
    QSharedDataPointer<QWatchedAttachmentItemData> d;
};

Q_DECLARE_SHARED(QWatchedAttachmentItem)

using QWatchedAttachmentItemList = QList<QWatchedAttachmentItem>;

Q_DECLARE_METATYPE(QWatchedAttachmentItem)

#endif // QWATCHEDATTACHMENTITEM_H
