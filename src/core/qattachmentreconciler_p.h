#ifndef QATTACHMENTRECONCILER_P_H
#define QATTACHMENTRECONCILER_P_H

#include "qattachment.h"
#include "qattachmentstore_p.h"
#include "qwatchedattachmentitem.h"

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qset.h>
#include <QtCore/qstringlist.h>

#include <QtCore/qmimedatabase.h>

#include <functional>

// Decides how the queue table follows the watched set (doc/state-machine.md,
// "Reconciliation"): a pure function from the rows, the watched items and the
// options to a plan. It runs no SQL and touches no file; the queue gathers
// the facts it needs (the rows, which local files exist) and applies the plan
// through the store. The Planner makes the same plan a bounded number of
// items at a time, for a queue that reads and plans 100,000 rows across many
// event-loop turns.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentReconciler
{
public:
    struct Options
    {
        bool downloadAttachments = true;
        // For watched items that name neither an extension nor a filename.
        QString defaultFileExtension;
        // Ids watched at the previous reconciliation: an archived row is
        // restored when its id becomes watched, not while it stays watched.
        QSet<QString> previouslyWatched;
        // The first reconciliation after a start restores every watched row.
        bool restoreAllWatched = true;
        // Written as the timestamp of every row the plan inserts or changes.
        qint64 now = 0;
        // The filename of a new row; `id.extension` when not set.
        std::function<QString(const QString &id, const QString &extension)> resolveFilename;
        // Whether a local file exists, for the Planner (plan() uses
        // Input::presentFiles instead); no file is taken to exist when unset.
        std::function<bool(const QString &localUri)> fileExists;
    };

    struct Input
    {
        QList<QAttachment> rows; // every row of the table
        QSet<QString> leftAlone; // ids of rows that failed validation: never changed
        QList<QWatchedAttachmentItem> watched;
        QSet<QString> presentFiles; // local names (of localFilesToCheck()) that exist
    };

    // A watched item that cannot become a row.
    struct Problem
    {
        QString id;
        QString message;
    };

    struct Plan
    {
        QList<QAttachment> inserts; // new queuedDownload rows
        QList<QAttachmentStore::Change> restores; // archived rows watched again
        QList<QAttachmentStore::Change> archives; // rows no longer watched
        QList<Problem> problems;
        QSet<QString> watchedIds; // the valid watched ids, for the next round
        bool changesRows() const
        {
            return !inserts.isEmpty() || !restores.isEmpty() || !archives.isEmpty();
        }
    };

    // Plans step by step over rows the caller owns and may change between
    // steps only as it says to: the watched items first (new rows, restores),
    // then the rows (archives). `rows` may hold invalid attachments (rows
    // that went away), which are skipped; `index` maps each id to its row.
    class POWERSYNC_ATTACHMENTS_TEST_EXPORT Planner
    {
    public:
        Planner(const QList<QAttachment> &rows, const QHash<QString, qsizetype> &index,
                const QSet<QString> &leftAlone, QList<QWatchedAttachmentItem> watched,
                Options options);
        // Plans at most `items` more watched items or rows; true when the plan is complete.
        bool step(qsizetype items);
        bool isDone() const { return m_row >= m_rows.size() && m_item >= m_watched.size(); }
        // The watched items and rows planned so far.
        qsizetype planned() const { return m_item + m_row; }
        const QList<QWatchedAttachmentItem> &watched() const { return m_watched; }
        const Options &options() const { return m_options; }
        Plan takePlan() { return std::move(m_plan); }

    private:
        void planItem(const QWatchedAttachmentItem &item);
        void planRow(const QAttachment &row);

        const QList<QAttachment> &m_rows;
        const QHash<QString, qsizetype> &m_index;
        const QSet<QString> &m_leftAlone;
        const QList<QWatchedAttachmentItem> m_watched;
        const Options m_options;
        qsizetype m_item = 0;
        qsizetype m_row = 0;
        Plan m_plan;
        QHash<QString, QString> m_mediaTypes; // by extension: lookups are not free
        QMimeDatabase m_mimeDatabase;
    };

    // Whether a row that is no longer watched is archived (an upload that
    // never reached the server is not).
    static bool archivesUnwatched(const QAttachment &row);

    // The local files whose presence decides a restore: the queue checks them
    // and passes those that exist in Input::presentFiles.
    static QStringList localFilesToCheck(const Input &input, const Options &options);
    static Plan plan(const Input &input, const Options &options);
};

#endif // QATTACHMENTRECONCILER_P_H
