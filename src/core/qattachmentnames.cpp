#include "qattachmentnames_p.h"

#include <QtCore/qfile.h>

namespace QAttachmentNames {

namespace {

// Names Windows reserves for devices, with or without an extension: a file
// synced from Linux under one of them cannot be created on Windows, and
// opening it there opens the device.
bool isWindowsDeviceName(const QString &name)
{
    const QString stem = name.section(QLatin1Char('.'), 0, 0).trimmed().toLower();
    static const char *const fixed[] = {"con", "prn", "aux", "nul", "conin$", "conout$"};
    for (const char *reserved : fixed) {
        if (stem == QLatin1String(reserved))
            return true;
    }
    if (stem.size() == 4
        && (stem.startsWith(QLatin1String("com")) || stem.startsWith(QLatin1String("lpt")))) {
        const QChar digit = stem.at(3);
        // Windows also reserves the superscript digits ¹ ² ³.
        return (digit >= QLatin1Char('0') && digit <= QLatin1Char('9')) || digit == QChar(0xb9)
            || digit == QChar(0xb2) || digit == QChar(0xb3);
    }
    return false;
}

} // namespace

QString problemWith(const QString &name, const QString &what)
{
    if (name.isEmpty())
        return QStringLiteral("the %1 is empty").arg(what);
    for (qsizetype i = 0; i < name.size(); ++i) {
        const QChar c = name.at(i);
        if (c.isHighSurrogate() && i + 1 < name.size() && name.at(i + 1).isLowSurrogate()) {
            ++i;
            continue;
        }
        if (c.isSurrogate())
            return QStringLiteral("the %1 contains an unpaired UTF-16 surrogate").arg(what);
        if (c == QLatin1Char('/') || c == QLatin1Char('\\'))
            return QStringLiteral("the %1 \"%2\" contains a path separator").arg(what, name);
        if (c.category() == QChar::Other_Control || c.unicode() == 0x7f)
            return QStringLiteral("the %1 contains a control character").arg(what);
        // Refused by Windows and Android's FAT-backed storage.
        if (QStringView(u":<>\"|?*").contains(c))
            return QStringLiteral("the %1 \"%2\" contains '%3', which Windows does not allow")
                .arg(what, name, c);
    }
    // The limit of file systems is on the encoded name, not on characters.
    if (QFile::encodeName(name).size() > 255)
        return QStringLiteral("the %1 is longer than 255 bytes").arg(what);
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return QStringLiteral("the %1 \"%2\" names a directory").arg(what, name);
    if (name.contains(QLatin1String("..")))
        return QStringLiteral("the %1 \"%2\" contains \"..\"").arg(what, name);
    if (name.at(0) == QLatin1Char('.'))
        return QStringLiteral("the %1 \"%2\" starts with a dot (hidden files are reserved)")
            .arg(what, name);
    if (name.endsWith(QLatin1Char('.')) || name.endsWith(QLatin1Char(' ')))
        return QStringLiteral("the %1 \"%2\" ends with a dot or a space, which Windows drops")
            .arg(what, name);
    if (isWindowsDeviceName(name))
        return QStringLiteral("the %1 \"%2\" is a device name on Windows").arg(what, name);
    return {};
}

QString problemWithExtension(const QString &extension)
{
    if (extension.startsWith(QLatin1Char('.')))
        return QStringLiteral("the file extension \"%1\" must be given without a leading dot")
            .arg(extension);
    return problemWith(extension, QStringLiteral("file extension"));
}

namespace {

bool isNameChar(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
        || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
        || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
        || QStringView(u"!#$&^_.+-").contains(c);
}

// RFC 7230 token characters, for parameter names and unquoted values.
bool isTokenChar(QChar c)
{
    return isNameChar(c) || QStringView(u"%'*`|~").contains(c);
}

bool isTypeName(QStringView name)
{
    if (name.isEmpty() || name.size() > 127 || !name.front().isLetterOrNumber())
        return false;
    for (const QChar c : name) {
        if (!isNameChar(c))
            return false;
    }
    return true;
}

bool isToken(QStringView text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

bool isQuotedString(QStringView text)
{
    if (text.size() < 2 || text.front() != u'"' || text.back() != u'"')
        return false;
    for (qsizetype i = 1; i + 1 < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c == u'\\') {
            if (++i + 1 >= text.size())
                return false;
            continue;
        }
        if (c == u'"')
            return false;
    }
    return true;
}

} // namespace

QString problemWithMediaType(const QString &mediaType)
{
    for (const QChar c : mediaType) {
        if (c.unicode() < 0x20 || c.unicode() >= 0x7f)
            return QStringLiteral("the media type contains a control or non-ASCII character");
    }
    if (mediaType.size() > 255)
        return QStringLiteral("the media type is longer than 255 characters");
    const QList<QStringView> parts = QStringView(mediaType).split(u';');
    const QStringView essence = parts.first().trimmed();
    const qsizetype slash = essence.indexOf(u'/');
    if (slash < 0 || !isTypeName(essence.left(slash)) || !isTypeName(essence.mid(slash + 1)))
        return QStringLiteral("\"%1\" is not a media type of the form type/subtype").arg(mediaType);
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QStringView parameter = parts.at(i).trimmed();
        const qsizetype equals = parameter.indexOf(u'=');
        if (equals < 0 || !isToken(parameter.left(equals))
            || !(isToken(parameter.mid(equals + 1)) || isQuotedString(parameter.mid(equals + 1))))
            return QStringLiteral("the media type \"%1\" has a malformed parameter").arg(mediaType);
    }
    return {};
}

QString localNameFor(const QString &id, const QString &filename)
{
    const qsizetype dot = filename.lastIndexOf(QLatin1Char('.'));
    QString extension = dot < 0 ? QString() : filename.mid(dot + 1);
    if (extension.isEmpty() || !problemWithExtension(extension).isEmpty())
        extension = QStringLiteral("dat");
    const QString name = id + QLatin1Char('.') + extension;
    if (!problemWith(id, QString()).isEmpty() || !problemWith(name, QString()).isEmpty())
        return {};
    return name;
}

} // namespace QAttachmentNames
