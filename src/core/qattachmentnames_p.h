#ifndef QATTACHMENTNAMES_P_H
#define QATTACHMENTNAMES_P_H

#include <QtCore/qstring.h>

namespace QAttachmentNames {

// Ids and filenames arrive from servers and from other devices; one of them
// must never address a file outside the storage root. Returns an empty string
// for a safe name, else what is wrong with it.
QString problemWith(const QString &name, const QString &what);

// An extension as given by an app or a watch query: without a leading dot,
// and itself a safe name.
QString problemWithExtension(const QString &extension);

} // namespace QAttachmentNames

#endif // QATTACHMENTNAMES_P_H
