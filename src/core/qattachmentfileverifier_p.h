#ifndef QATTACHMENTFILEVERIFIER_P_H
#define QATTACHMENTFILEVERIFIER_P_H

#include "qattachment.h"

#include <QtCore/qlist.h>

#include <functional>

class QAttachmentLocalStorage;

// The start-up check of local files against the rows: finds the rows whose
// file is gone and removes what no row owns (files left by a crash between a
// file and its row, partial files of rows that no longer download). One read
// of the rows and one listing of the storage: linear in the number of rows.
class QAttachmentFileVerifier
{
public:
    struct Result
    {
        QList<QAttachment> missing; // synced or queuedUpload rows whose file is gone
        int orphans = 0; // files removed
        int partials = 0; // partial files removed
    };

    // `isValid(row)`: rows that fail are left alone, and so are the files
    // they name. Files modified at or after `runStartedMs` may belong to a
    // row about to be committed: they stay.
    static Result verify(const QList<QAttachment> &rows, QAttachmentLocalStorage &files,
                         qint64 runStartedMs,
                         const std::function<bool(const QAttachment &)> &isValid);
};

#endif // QATTACHMENTFILEVERIFIER_P_H
