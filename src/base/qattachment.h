#ifndef QATTACHMENT_H
#define QATTACHMENT_H

#include "qattachmentstate.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qshareddata.h>
#include <QtCore/qstring.h>

class QAttachmentData;

// One row of the attachment queue table, as a value (implicitly shared).
//
// localUri is the path relative to the local storage root, as stored; use
// QAttachmentQueue::localUrl() for an absolute file URL.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachment
{
    Q_GADGET
    Q_PROPERTY(QString id READ id FINAL)
    Q_PROPERTY(qint64 timestamp READ timestamp FINAL)
    Q_PROPERTY(QString filename READ filename FINAL)
    Q_PROPERTY(QAttachmentState::State state READ state FINAL)
    Q_PROPERTY(QString localUri READ localUri FINAL)
    Q_PROPERTY(QString mediaType READ mediaType FINAL)
    Q_PROPERTY(qint64 size READ size FINAL)
    Q_PROPERTY(bool hasSynced READ hasSynced FINAL)
    Q_PROPERTY(QString metaData READ metaData FINAL)
    Q_PROPERTY(bool valid READ isValid FINAL)

public:
    QAttachment() noexcept;
    QAttachment(const QString &id, const QString &filename,
                QAttachmentState::State state = QAttachmentState::QueuedDownload);
    QAttachment(const QAttachment &other) noexcept;
    QAttachment(QAttachment &&other) noexcept;
    QAttachment &operator=(const QAttachment &other) noexcept;
    QAttachment &operator=(QAttachment &&other) noexcept;
    ~QAttachment();

    void swap(QAttachment &other) noexcept { d.swap(other.d); }

    bool isValid() const;

    QString id() const;
    void setId(const QString &id);
    // Milliseconds since the epoch of the last state change.
    qint64 timestamp() const;
    void setTimestamp(qint64 msecs);
    QString filename() const;
    void setFilename(const QString &filename);
    QAttachmentState::State state() const;
    void setState(QAttachmentState::State state);
    QString localUri() const;
    void setLocalUri(const QString &uri);
    QString mediaType() const;
    void setMediaType(const QString &type);
    // Size in bytes; -1 while unknown.
    qint64 size() const;
    void setSize(qint64 size);
    bool hasSynced() const;
    void setHasSynced(bool synced);
    QString metaData() const;
    void setMetaData(const QString &metaData);

    bool operator==(const QAttachment &other) const;
    bool operator!=(const QAttachment &other) const { return !(*this == other); }

private:
    const QAttachmentData &data() const;
    QAttachmentData &writable();

    // Null for a default-constructed value: nothing is allocated until a
    // setter is called.
    QSharedDataPointer<QAttachmentData> d;
};

Q_DECLARE_SHARED(QAttachment)

POWERSYNC_ATTACHMENTS_EXPORT QDebug operator<<(QDebug debug, const QAttachment &attachment);

Q_DECLARE_METATYPE(QAttachment)

#endif // QATTACHMENT_H
