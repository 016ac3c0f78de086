#ifndef QATTACHMENTFILEVERIFIER_P_H
#define QATTACHMENTFILEVERIFIER_P_H

#include "qattachment.h"

#include <QtCore/qlist.h>
#include <QtCore/qset.h>
#include <QtCore/qstringlist.h>

#include <functional>

class QAttachmentLocalStorage;

// The start-up check of local files against the rows, fed a page of rows at
// a time: finds the rows whose file is gone and, once every row was seen,
// names what no row owns (files left by a crash between a file and its row,
// partial files of rows that no longer download). One listing of the storage
// and one pass over the rows: linear in the number of rows, no file system
// call per row (but for rows whose file the listing misses).
class QAttachmentFileVerifier
{
public:
    using RowFilter = std::function<bool(const QAttachment &)>;

    // `names`: the storage's files, listed before the first row was read.
    // An empty listing (a storage that cannot list) asks the storage per row.
    explicit QAttachmentFileVerifier(const QStringList &names);

    // The rows of `page` whose file is gone: synced or queuedUpload rows with
    // no local file. A file missing from the listing is looked for once more
    // (it may have been saved after the listing). `isValid(row)`: rows that
    // fail are left alone, and so are the files they name.
    QList<QAttachment> addRows(const QList<QAttachment> &page, QAttachmentLocalStorage &files,
                               const RowFilter &isValid);

    // After every row: the listed files and the partial files no row owns.
    bool owns(const QString &name) const { return m_owned.contains(name); }
    const QStringList &listedNames() const { return m_names; }

private:
    QStringList m_names;
    QSet<QString> m_present;
    QSet<QString> m_owned; // files and partial files some row may still need
};

#endif // QATTACHMENTFILEVERIFIER_P_H
