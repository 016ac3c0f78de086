#include "qattachment.h"

#include <QtCore/qdebug.h>

QAttachment::QAttachment(const QString &id, const QString &filename, QAttachmentState::State state)
    : m_id(id)
    , m_filename(filename)
    , m_state(state)
{ }

bool QAttachment::operator==(const QAttachment &other) const
{
    return m_id == other.m_id && m_timestamp == other.m_timestamp && m_filename == other.m_filename
        && m_state == other.m_state && m_localUri == other.m_localUri
        && m_mediaType == other.m_mediaType && m_size == other.m_size
        && m_hasSynced == other.m_hasSynced && m_metaData == other.m_metaData;
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
