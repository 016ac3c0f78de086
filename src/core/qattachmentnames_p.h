#ifndef QATTACHMENTNAMES_P_H
#define QATTACHMENTNAMES_P_H

#include <QtCore/qstring.h>

namespace QAttachmentNames {

// Ids and filenames arrive from servers and from other devices; one of them
// must never address a file outside the storage root. Returns an empty string
// for a safe name, else what is wrong with it.
QString problemWith(QStringView name, const QString &what);

// An extension as given by an app or a watch query: without a leading dot,
// and itself a safe name.
QString problemWithExtension(const QString &extension);

// A media type as it goes into a Content-Type header: `type/subtype` of
// RFC 6838 name characters, optionally followed by `; name=value` parameters.
// Refuses CR, LF and every other control character, so that no value can add
// a header line. Returns an empty string for a valid media type.
QString problemWithMediaType(const QString &mediaType);

// The name of an attachment's file in local storage: the id and the
// filename's last extension ("dat" when it has none). Ids are unique and an
// extension has no dot, so two attachments never share a local file, whatever
// filenames (remote keys) they have. Empty when no safe name can be made.
QString localNameFor(const QString &id, const QString &filename);
// The same for an id already checked with problemWith().
QString localNameForSafeId(const QString &id, const QString &filename);

} // namespace QAttachmentNames

#endif // QATTACHMENTNAMES_P_H
