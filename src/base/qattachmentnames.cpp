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
    // Read in place: rows are checked on every read of the table, and only a
    // problem allocates.
    const auto invalid = [&mediaType] {
        return QStringLiteral("the media type \"%1\" is not a MIME type of the form type/subtype")
            .arg(mediaType);
    };
    const QStringView text(mediaType);
    qsizetype i = 0;
    const qsizetype type = restrictedName(text, i);
    if (type == 0 || type > 127)
        return invalid();
    i += type;
    if (i >= text.size() || text[i] != u'/')
        return invalid();
    ++i;
    const qsizetype subtype = restrictedName(text, i);
    if (subtype == 0 || subtype > 127)
        return invalid();
    i += subtype;
    // Parameters: *( OWS ";" OWS name "=" ( token / quoted-string ) )
    while (true) {
        skipSpace(text, i);
        if (i >= text.size())
            return {};
        if (text[i] != u';')
            return invalid();
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
