#ifndef QATTACHMENTNAMES_P_H
#define QATTACHMENTNAMES_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qstring.h>

namespace QAttachmentNames {

// Ids and filenames arrive from servers and from other devices; one of them
// must never address a file outside the storage root. Returns an empty string
// for a safe name, else what is wrong with it.
QString problemWith(QStringView name, const QString &what);

// An extension as given by an app or a watch query: without a leading dot,
// and itself a safe name.
QString problemWithExtension(const QString &extension);

// An RFC 9110 token character (tchar): header names, methods, parameters.
bool isTokenChar(char16_t c);

// A media type as it is stored with an attachment and sent as Content-Type:
// "type/subtype" (RFC 6838 names: a letter or digit, then letters, digits
// and !#$&-^_.+, at most 127 each), optionally followed by parameters
// (`; name=value`, the value a token or a quoted string), printable ASCII
// only, at most 255 characters. Empty for a valid one, else what is wrong; an
// empty media type is not valid (callers that allow none check that first).
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString problemWithMediaType(const QString &mediaType);

// The name of an attachment's file in local storage: the id and the
// filename's last extension ("dat" when it has none). Ids are unique and an
// extension has no dot, so two attachments never share a local file, whatever
// filenames (remote keys) they have. Empty when no safe name can be made.
QString localNameFor(const QString &id, const QString &filename);
// The same for an id already checked with problemWith().
QString localNameForSafeId(const QString &id, const QString &filename);

} // namespace QAttachmentNames

#endif // QATTACHMENTNAMES_P_H
