#ifndef QWATCHEDATTACHMENTITEM_H
#define QWATCHEDATTACHMENTITEM_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

// An attachment that the app's relational data references, and which
// therefore should be present locally. Either a file extension or a
// filename is required.
class POWERSYNC_ATTACHMENTS_EXPORT QWatchedAttachmentItem
{
    Q_GADGET
    Q_PROPERTY(QString id READ id)
    Q_PROPERTY(QString fileExtension READ fileExtension)
    Q_PROPERTY(QString filename READ filename)
    Q_PROPERTY(QString metaData READ metaData)

public:
    QWatchedAttachmentItem() = default;
    QWatchedAttachmentItem(const QString &id, const QString &fileExtension,
                           const QString &filename = {}, const QString &metaData = {});

    // Has an id and at least one of fileExtension or filename.
    bool isValid() const;

    QString id() const { return m_id; }
    void setId(const QString &id) { m_id = id; }
    QString fileExtension() const { return m_fileExtension; }
    void setFileExtension(const QString &extension) { m_fileExtension = extension; }
    QString filename() const { return m_filename; }
    void setFilename(const QString &filename) { m_filename = filename; }
    QString metaData() const { return m_metaData; }
    void setMetaData(const QString &metaData) { m_metaData = metaData; }

    bool operator==(const QWatchedAttachmentItem &other) const;
    bool operator!=(const QWatchedAttachmentItem &other) const { return !(*this == other); }

private:
    QString m_id;
    QString m_fileExtension;
    QString m_filename;
    QString m_metaData;
};

using QWatchedAttachmentItemList = QList<QWatchedAttachmentItem>;

Q_DECLARE_METATYPE(QWatchedAttachmentItem)

#endif // QWATCHEDATTACHMENTITEM_H
