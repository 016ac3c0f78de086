#include "qattachmentstatustracker_p.h"

#include "qattachmentqueue.h"

void QAttachmentStatusTracker::changed(const QAttachment &row, bool keep)
{
    if (keep) {
        remember(row);
    } else if (const auto it = m_rows.find(row.id()); it != m_rows.end()) {
        *it = row;
    }
    emit m_queue->attachmentChanged(row);
    emit m_queue->statusChanged(row.id());
}

void QAttachmentStatusTracker::removed(const QString &id)
{
    m_rows.remove(id);
    emit m_queue->attachmentRemoved(id);
    emit m_queue->statusChanged(id);
}

void QAttachmentStatusTracker::statusChanged(const QString &id)
{
    emit m_queue->statusChanged(id);
}

std::optional<QAttachment> QAttachmentStatusTracker::knownRow(const QString &id) const
{
    const auto it = m_rows.constFind(id);
    if (it == m_rows.cend())
        return std::nullopt;
    return *it;
}
