#ifndef QATTACHMENTSTATUSTRACKER_P_H
#define QATTACHMENTSTATUSTRACKER_P_H

#include "qattachment.h"
#include "qattachmenterror.h"
#include "qattachmenttransfer.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qobject.h>

#include <optional>

class QAttachmentQueue;

// Announces every change of a row (attachmentChanged, attachmentRemoved) and
// of an attachment's status (statusChanged), and keeps the rows as the queue
// last wrote or read them, so that status() of a busy attachment needs no
// query. Rows are kept only while something follows statusChanged: bulk
// changes (reconciling 100k ids) cost no memory when nothing does.
//
// It also puts failed transfers on the console (category
// powersync.attachments.transfer, warning level): the first failure of an
// attachment and every change of its error, with the operation, the id and
// the host; repeats of the same error are not logged again, and at most
// WarningBurst warnings go out per WarningWindowMs (the rest are counted and
// summed up in one line when the window ends).
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentStatusTracker
{
public:
    static constexpr int WarningBurst = 10;
    static constexpr int WarningWindowMs = 10000;
    // Longest error text put on the console.
    static constexpr int LoggedMessageLimit = 400;

    explicit QAttachmentStatusTracker(QAttachmentQueue *queue);
    ~QAttachmentStatusTracker();
    QAttachmentStatusTracker(const QAttachmentStatusTracker &) = delete;
    QAttachmentStatusTracker &operator=(const QAttachmentStatusTracker &) = delete;

    // `keep`: remember the row for status() (someone follows statusChanged);
    // otherwise only a row already remembered is updated.
    void changed(const QAttachment &row, bool keep);
    void removed(const QString &id);
    void statusChanged(const QString &id);

    void remember(const QAttachment &row) { m_rows.insert(row.id(), row); }
    std::optional<QAttachment> knownRow(const QString &id) const;
    // The table may hold other rows now (another table, connection or folder).
    void clear()
    {
        m_rows.clear();
        m_loggedErrors.clear();
    }

    // A transfer of `id` failed (the queue's transferFailed): logged when it
    // is the attachment's first failure or its error changed.
    void failed(const QString &id, QAttachmentTransfer::Kind kind, const QAttachmentError &error,
                bool willRetry);

    // The host of the queue's remote storage, for the console ("" when the
    // storage names none, e.g. presigned URLs: their errors name the host).
    QString remoteHost() const;
    // The console form of a message from a server: printable, bounded.
    static QString printable(const QString &text);
    // The rate limit's window (WarningWindowMs unless a test shortens it).
    void setWarningWindow(int msecs) { m_windowMs = msecs; }

private:
    void flushSuppressed();

    QAttachmentQueue *m_queue;
    QHash<QString, QAttachment> m_rows;
    // The error last logged per failing attachment; an attachment leaves when
    // its row changes (it succeeded, was saved again or archived) or goes.
    QHash<QString, QString> m_loggedErrors;
    QElapsedTimer m_window;
    int m_windowMs = WarningWindowMs;
    int m_warningsInWindow = 0;
    int m_suppressed = 0;
    bool m_summaryPending = false; // a single-shot timer on the queue sums up
    QMetaObject::Connection m_failures;
};

#endif // QATTACHMENTSTATUSTRACKER_P_H
