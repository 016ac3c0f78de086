#include "qattachmentnames_p.h"

#include <QtCore/qfile.h>

namespace QAttachmentNames {

namespace {

// Names Windows reserves for devices, with or without an extension: a file
// synced from Linux under one of them cannot be created on Windows, and
// opening it there opens the device. Called for every row the queue reads:
// it allocates nothing.
bool isWindowsDeviceName(QStringView name)
{
    qsizetype end = name.indexOf(u'.');
    const QStringView stem = name.left(end < 0 ? name.size() : end).trimmed();
    const auto is = [&stem](const char *reserved) {
        return stem.compare(QLatin1String(reserved), Qt::CaseInsensitive) == 0;
    };
    switch (stem.size()) {
    case 3:
        return is("con") || is("prn") || is("aux") || is("nul");
    case 4: {
        if (!stem.left(3).startsWith(QLatin1String("com"), Qt::CaseInsensitive)
            && !stem.left(3).startsWith(QLatin1String("lpt"), Qt::CaseInsensitive))
            return false;
        const char16_t digit = stem.at(3).unicode();
        // Windows also reserves the superscript digits 1, 2 and 3.
        return (digit >= u'0' && digit <= u'9') || digit == 0xb9 || digit == 0xb2 || digit == 0xb3;
    }
    case 6:
        return is("conin$");
    case 7:
        return is("conout$");
    default:
        return false;
    }
}

} // namespace

QString problemWith(QStringView name, const QString &what)
{
    if (name.isEmpty())
        return QStringLiteral("the %1 is empty").arg(what);
    const qsizetype size = name.size();
    bool twoDots = false;
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t c = name.at(i).unicode();
        if (c == u'.') {
            twoDots = twoDots || (i > 0 && name.at(i - 1) == u'.');
            continue;
        }
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return QStringLiteral("the %1 contains a control character").arg(what);
            if (c == u'/' || c == u'\\')
                return QStringLiteral("the %1 \"%2\" contains a path separator").arg(what, name);
            // Refused by Windows and Android's FAT-backed storage.
            if (c == u':' || c == u'<' || c == u'>' || c == u'"' || c == u'|' || c == u'?'
                || c == u'*')
                return QStringLiteral("the %1 \"%2\" contains '%3', which Windows does not allow")
                    .arg(what, name, QChar(c));
            continue;
        }
        if (QChar::isHighSurrogate(c) && i + 1 < size && name.at(i + 1).isLowSurrogate()) {
            ++i;
            continue;
        }
        if (QChar::isSurrogate(c))
            return QStringLiteral("the %1 contains an unpaired UTF-16 surrogate").arg(what);
        if (QChar::category(c) == QChar::Other_Control)
            return QStringLiteral("the %1 contains a control character").arg(what);
    }
    // The limit of file systems is on the encoded name, not on characters; a
    // UTF-16 unit never takes more than 3 bytes.
    if (size * 3 > 255 && QFile::encodeName(name.toString()).size() > 255)
        return QStringLiteral("the %1 is longer than 255 bytes").arg(what);
    if (size <= 2 && (name == QLatin1String(".") || name == QLatin1String("..")))
        return QStringLiteral("the %1 \"%2\" names a directory").arg(what, name);
    if (twoDots)
        return QStringLiteral("the %1 \"%2\" contains \"..\"").arg(what, name);
    if (name.front() == u'.')
        return QStringLiteral("the %1 \"%2\" starts with a dot (hidden files are reserved)")
            .arg(what, name);
    if (name.back() == u'.' || name.back() == u' ')
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
    // Read in place: rows are checked on every read of the table.
    const QStringView text(mediaType);
    qsizetype end = text.indexOf(u';');
    const QStringView essence = text.left(end < 0 ? text.size() : end).trimmed();
    const qsizetype slash = essence.indexOf(u'/');
    if (slash < 0 || !isTypeName(essence.left(slash)) || !isTypeName(essence.mid(slash + 1)))
        return QStringLiteral("\"%1\" is not a media type of the form type/subtype").arg(mediaType);
    while (end >= 0) {
        const qsizetype start = end + 1;
        end = text.indexOf(u';', start);
        const QStringView parameter
            = text.mid(start, end < 0 ? text.size() - start : end - start).trimmed();
        const qsizetype equals = parameter.indexOf(u'=');
        if (equals < 0 || !isToken(parameter.left(equals))
            || !(isToken(parameter.mid(equals + 1)) || isQuotedString(parameter.mid(equals + 1))))
            return QStringLiteral("the media type \"%1\" has a malformed parameter").arg(mediaType);
    }
    return {};
}

QString localNameFor(const QString &id, const QString &filename)
{
    // A safe id and a safe dot-free extension make a safe name, but for its length.
    if (!problemWith(id, QString()).isEmpty())
        return {};
    return localNameForSafeId(id, filename);
}

QString localNameForSafeId(const QString &id, const QString &filename)
{
    const qsizetype dot = filename.lastIndexOf(QLatin1Char('.'));
    QStringView extension = dot < 0 ? QStringView() : QStringView(filename).mid(dot + 1);
    if (extension.isEmpty() || !problemWith(extension, QString()).isEmpty())
        extension = u"dat";
    const qsizetype size = id.size() + 1 + extension.size();
    QString name;
    name.reserve(size);
    name.append(id).append(QLatin1Char('.')).append(extension);
    if (size * 3 > 255 && QFile::encodeName(name).size() > 255)
        return {};
    return name;
}

} // namespace QAttachmentNames
