#include "qattachmentfileverifier_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentnames_p.h"

#include <QtCore/qset.h>

using State = QAttachmentState::State;

QAttachmentFileVerifier::Result
QAttachmentFileVerifier::verify(const QList<QAttachment> &rows, QAttachmentLocalStorage &files,
                                qint64 runStartedMs,
                                const std::function<bool(const QAttachment &)> &isValid)
{
    Result result;
    const QStringList names = files.fileNames();
    const QSet<QString> present(names.cbegin(), names.cend());
    const bool listed = !names.isEmpty();

    QSet<QString> owned; // files and partial files some row may still need
    for (const QAttachment &row : rows) {
        if (!isValid(row)) {
            // Left alone, and so are the files it names.
            owned.insert(row.localUri());
            owned.insert(row.filename());
            continue;
        }
        const QString download = QAttachmentNames::localNameForSafeId(row.id(), row.filename());
        owned.insert(row.localUri().isEmpty() ? download : row.localUri());
        if (row.state() == State::QueuedDownload)
            owned.insert(download);
        if (row.state() != State::Synced && row.state() != State::QueuedUpload)
            continue;
        const bool there = !row.localUri().isEmpty()
            && (listed ? present.contains(row.localUri()) : files.exists(row.localUri()));
        if (!there)
            result.missing.append(row);
    }

    // A crash between saveFile's file and its row, or between a row's removal
    // and its file's, leaves a file nobody owns.
    for (const QString &name : names) {
        if (owned.contains(name))
            continue;
        const qint64 modified = files.lastModified(name);
        if (modified >= 0 && modified < runStartedMs && files.remove(name))
            ++result.orphans;
    }
    // A partial file only belongs to a row that is still downloading.
    const QStringList partialNames = files.partialNames();
    for (const QString &name : partialNames) {
        if (!owned.contains(name) && files.removePartial(name))
            ++result.partials;
    }
    return result;
}
