// Any name the validator accepts must stay inside the storage root on every
// platform a synced file can reach.

#include "qattachmentnames_p.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qstring.h>

#include <cstdint>
#include <cstdlib>

namespace {

void check(bool condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "accepted a name that %s\n", what);
        abort();
    }
}

void checkAccepted(const QString &name)
{
    check(!name.isEmpty(), "is empty");
    check(QFile::encodeName(name).size() <= 255, "is longer than 255 bytes encoded");
    check(name.toUtf8().size() <= 255, "is longer than 255 bytes in UTF-8");
    for (qsizetype i = 0; i < name.size(); ++i) {
        const QChar c = name.at(i);
        check(c != u'/' && c != u'\\' && c != u':', "has a path separator");
        check(c.unicode() >= 0x20 && c.unicode() != 0x7f, "has a control character");
        if (c.isHighSurrogate()) {
            check(i + 1 < name.size() && name.at(i + 1).isLowSurrogate(), "has a lone surrogate");
            ++i;
        } else {
            check(!c.isLowSurrogate(), "has a lone surrogate");
        }
    }
    check(!name.startsWith(u'.'), "is hidden or a directory");
    check(!name.endsWith(u'.') && !name.endsWith(u' '), "ends with a dot or space");
    const QString root = QStringLiteral("/root/attachments");
    const QString joined = QDir::cleanPath(root + u'/' + name);
    check(joined.startsWith(root + u'/') && joined.count(u'/') == root.count(u'/') + 1,
          "leaves the root");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // Both readings of the bytes: as UTF-8 (as names come from JSON and SQL)
    // and as raw UTF-16 (lone surrogates only arrive that way).
    const QString utf8 = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString utf16 = QString(reinterpret_cast<const QChar *>(data), qsizetype(size / 2));
    for (const QString &name : {utf8, utf16}) {
        if (QAttachmentNames::problemWith(name, QStringLiteral("name")).isEmpty())
            checkAccepted(name);
        if (QAttachmentNames::problemWithExtension(name).isEmpty())
            checkAccepted(name);
    }
    return 0;
}
