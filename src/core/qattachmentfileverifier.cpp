#include "qattachmentfileverifier_p.h"

#include "qattachmentlocalstorage.h"
#include "qattachmentnames_p.h"

using State = QAttachmentState::State;

QAttachmentFileVerifier::QAttachmentFileVerifier(const QStringList &names)
    : m_names(names)
    , m_present(names.cbegin(), names.cend())
{ }

QList<QAttachment> QAttachmentFileVerifier::addRows(const QList<QAttachment> &page,
                                                    QAttachmentLocalStorage &files,
                                                    const RowFilter &isValid)
{
    QList<QAttachment> missing;
    for (const QAttachment &row : page) {
        if (!row.isValid())
            continue;
        if (!isValid(row)) {
            // Left alone, and so are the files it names.
            m_owned.insert(row.localUri());
            m_owned.insert(row.filename());
            continue;
        }
        const QString download = QAttachmentNames::localNameForSafeId(row.id(), row.filename());
        m_owned.insert(row.localUri().isEmpty() ? download : row.localUri());
        if (row.state() == State::QueuedDownload)
            m_owned.insert(download);
        if (row.state() != State::Synced && row.state() != State::QueuedUpload)
            continue;
        // Not listed: gone, or saved after the listing was made.
        const bool there = !row.localUri().isEmpty()
            && (m_present.contains(row.localUri()) || files.exists(row.localUri()));
        if (!there)
            missing.append(row);
    }
    return missing;
}
