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

// RFC 6838 §4.2 restricted-name-chars.
bool isRestrictedNameChar(char16_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '-':
    case '^':
    case '_':
    case '.':
    case '+':
        return true;
    default:
        return false;
    }
}

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char16_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

// Length of the restricted-name at `from`, 0 when there is none.
qsizetype restrictedName(QStringView text, qsizetype from)
{
    qsizetype i = from;
    // The first character is a letter or a digit.
    if (i >= text.size() || text[i].unicode() >= 0x80 || !text[i].isLetterOrNumber())
        return 0;
    while (i < text.size() && isRestrictedNameChar(text[i].unicode()))
        ++i;
    return i - from;
}

qsizetype token(QStringView text, qsizetype from)
{
    qsizetype i = from;
    while (i < text.size() && isTokenChar(text[i].unicode()))
        ++i;
    return i - from;
}

void skipSpace(QStringView text, qsizetype &i)
{
    while (i < text.size() && (text[i] == u' ' || text[i] == u'\t'))
        ++i;
}

} // namespace

QString problemWithMediaType(const QString &mediaType)
{
    if (mediaType.isEmpty())
        return QStringLiteral("the media type is empty");
    if (mediaType.size() > 255)
        return QStringLiteral("the media type is longer than 255 characters");
    for (const QChar c : mediaType) {
        if (c.unicode() < 0x20 && c != u'\t')
            return QStringLiteral("the media type contains a control character (0x%1)")
                .arg(c.unicode(), 2, 16, QLatin1Char('0'));
        if (c.unicode() >= 0x7f)
            return QStringLiteral("the media type \"%1\" contains a character outside "
                                  "printable ASCII")
                .arg(mediaType);
    }
    const QString invalid
        = QStringLiteral("the media type \"%1\" is not a MIME type of the form type/subtype")
              .arg(mediaType);
    const QStringView text(mediaType);
    qsizetype i = 0;
    const qsizetype type = restrictedName(text, i);
    if (type == 0 || type > 127)
        return invalid;
    i += type;
    if (i >= text.size() || text[i] != u'/')
        return invalid;
    ++i;
    const qsizetype subtype = restrictedName(text, i);
    if (subtype == 0 || subtype > 127)
        return invalid;
    i += subtype;
    // Parameters: *( OWS ";" OWS name "=" ( token / quoted-string ) )
    while (true) {
        skipSpace(text, i);
        if (i >= text.size())
            return {};
        if (text[i] != u';')
            return invalid;
        ++i;
        skipSpace(text, i);
        const qsizetype name = token(text, i);
        if (name == 0)
            return QStringLiteral("the media type \"%1\" has a parameter without a name")
                .arg(mediaType);
        i += name;
        if (i >= text.size() || text[i] != u'=')
            return QStringLiteral("the media type \"%1\" has a parameter without a value")
                .arg(mediaType);
        ++i;
        if (i < text.size() && text[i] == u'"') {
            ++i;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == u'\\') {
                    i += 2;
                    continue;
                }
                if (text[i] == u'"') {
                    closed = true;
                    ++i;
                    break;
                }
                ++i;
            }
            if (!closed || i > text.size())
                return QStringLiteral("the media type \"%1\" has an unterminated quoted "
                                      "parameter value")
                    .arg(mediaType);
        } else {
            const qsizetype value = token(text, i);
            if (value == 0)
                return QStringLiteral("the media type \"%1\" has a parameter without a value")
                    .arg(mediaType);
            i += value;
        }
    }
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
