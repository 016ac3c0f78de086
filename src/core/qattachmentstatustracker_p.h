#ifndef QATTACHMENTSTATUSTRACKER_P_H
#define QATTACHMENTSTATUSTRACKER_P_H

#include "qattachment.h"

#include <QtCore/qhash.h>

#include <optional>

class QAttachmentQueue;

// Announces every change of a row (attachmentChanged, attachmentRemoved) and
// of an attachment's status (statusChanged), and keeps the rows as the queue
// last wrote or read them, so that status() of a busy attachment needs no
// query. Rows are kept only while something follows statusChanged: bulk
// changes (reconciling 100k ids) cost no memory when nothing does.
class QAttachmentStatusTracker
{
public:
    explicit QAttachmentStatusTracker(QAttachmentQueue *queue)
        : m_queue(queue)
    { }

    // `keep`: remember the row for status() (someone follows statusChanged);
    // otherwise only a row already remembered is updated.
    void changed(const QAttachment &row, bool keep);
    void removed(const QString &id);
    void statusChanged(const QString &id);

    void remember(const QAttachment &row) { m_rows.insert(row.id(), row); }
    std::optional<QAttachment> knownRow(const QString &id) const;
    // The table may hold other rows now (another table, connection or folder).
    void clear() { m_rows.clear(); }

private:
    QAttachmentQueue *m_queue;
    QHash<QString, QAttachment> m_rows;
};

#endif // QATTACHMENTSTATUSTRACKER_P_H
