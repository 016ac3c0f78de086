#ifndef QATTACHMENT_H
#define QATTACHMENT_H

#include "qattachmentstate.h"

#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

// One row of the attachment queue table, as a value.
//
// localUri is the path relative to the local storage root, as stored; use
// QAttachmentQueue::localUrl() for an absolute file URL.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachment
{
    Q_GADGET
    Q_PROPERTY(QString id READ id)
    Q_PROPERTY(qint64 timestamp READ timestamp)
    Q_PROPERTY(QString filename READ filename)
    Q_PROPERTY(QAttachmentState::State state READ state)
    Q_PROPERTY(QString localUri READ localUri)
    Q_PROPERTY(QString mediaType READ mediaType)
    Q_PROPERTY(qint64 size READ size)
    Q_PROPERTY(bool hasSynced READ hasSynced)
    Q_PROPERTY(QString metaData READ metaData)
    Q_PROPERTY(bool valid READ isValid)

public:
    QAttachment() = default;
    QAttachment(const QString &id, const QString &filename,
                QAttachmentState::State state = QAttachmentState::QueuedDownload);

    bool isValid() const { return !m_id.isEmpty(); }

    QString id() const { return m_id; }
    void setId(const QString &id) { m_id = id; }
    // Milliseconds since the epoch of the last state change.
    qint64 timestamp() const { return m_timestamp; }
    void setTimestamp(qint64 msecs) { m_timestamp = msecs; }
    QString filename() const { return m_filename; }
    void setFilename(const QString &filename) { m_filename = filename; }
    QAttachmentState::State state() const { return m_state; }
    void setState(QAttachmentState::State state) { m_state = state; }
    QString localUri() const { return m_localUri; }
    void setLocalUri(const QString &uri) { m_localUri = uri; }
    QString mediaType() const { return m_mediaType; }
    void setMediaType(const QString &type) { m_mediaType = type; }
    // Size in bytes; -1 while unknown.
    qint64 size() const { return m_size; }
    void setSize(qint64 size) { m_size = size; }
    bool hasSynced() const { return m_hasSynced; }
    void setHasSynced(bool synced) { m_hasSynced = synced; }
    QString metaData() const { return m_metaData; }
    void setMetaData(const QString &metaData) { m_metaData = metaData; }

    bool operator==(const QAttachment &other) const;
    bool operator!=(const QAttachment &other) const { return !(*this == other); }

private:
    QString m_id;
    qint64 m_timestamp = 0;
    QString m_filename;
    QAttachmentState::State m_state = QAttachmentState::QueuedDownload;
    QString m_localUri;
    QString m_mediaType;
    qint64 m_size = -1;
    bool m_hasSynced = false;
    QString m_metaData;
};

POWERSYNC_ATTACHMENTS_EXPORT QDebug operator<<(QDebug debug, const QAttachment &attachment);

Q_DECLARE_METATYPE(QAttachment)

#endif // QATTACHMENT_H
