#ifndef QATTACHMENTRECONCILER_P_H
#define QATTACHMENTRECONCILER_P_H

#include "qattachment.h"
#include "qattachmentstore_p.h"
#include "qwatchedattachmentitem.h"

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qset.h>
#include <QtCore/qstringlist.h>

#include <functional>

// Decides how the queue table follows the watched set (doc/state-machine.md,
// "Reconciliation"): a pure function from the rows, the watched items and the
// options to a plan. It runs no SQL and touches no file; the queue gathers
// the facts it needs (the rows, which local files exist) and applies the plan
// through the store.
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

    // The local files whose presence decides a restore: the queue checks them
    // and passes those that exist in Input::presentFiles.
    static QStringList localFilesToCheck(const Input &input, const Options &options);
    static Plan plan(const Input &input, const Options &options);
};

#endif // QATTACHMENTRECONCILER_P_H
