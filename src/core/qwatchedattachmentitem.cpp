#include "qwatchedattachmentitem.h"

QWatchedAttachmentItem::QWatchedAttachmentItem(const QString &id, const QString &fileExtension,
                                               const QString &filename, const QString &metaData)
    : m_id(id)
    , m_fileExtension(fileExtension)
    , m_filename(filename)
    , m_metaData(metaData)
{ }

bool QWatchedAttachmentItem::isValid() const
{
    return !m_id.isEmpty() && (!m_fileExtension.isEmpty() || !m_filename.isEmpty());
}

bool QWatchedAttachmentItem::operator==(const QWatchedAttachmentItem &other) const
{
    return m_id == other.m_id && m_fileExtension == other.m_fileExtension
        && m_filename == other.m_filename && m_metaData == other.m_metaData;
}
