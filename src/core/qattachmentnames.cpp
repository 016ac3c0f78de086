#include "qattachmentnames_p.h"

namespace QAttachmentNames {

QString problemWith(const QString &name, const QString &what)
{
    if (name.isEmpty())
        return QStringLiteral("the %1 is empty").arg(what);
    if (name.toUtf8().size() > 255)
        return QStringLiteral("the %1 is longer than 255 bytes").arg(what);
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return QStringLiteral("the %1 \"%2\" names a directory").arg(what, name);
    for (const QChar c : name) {
        if (c == QLatin1Char('/') || c == QLatin1Char('\\'))
            return QStringLiteral("the %1 \"%2\" contains a path separator").arg(what, name);
        if (c.category() == QChar::Other_Control || c.unicode() == 0x7f)
            return QStringLiteral("the %1 contains a control character").arg(what);
    }
    if (name.contains(QLatin1String("..")))
        return QStringLiteral("the %1 \"%2\" contains \"..\"").arg(what, name);
    if (name.at(0) == QLatin1Char('.'))
        return QStringLiteral("the %1 \"%2\" starts with a dot (hidden files are reserved)")
            .arg(what, name);
    if (name.size() >= 2 && name.at(1) == QLatin1Char(':'))
        return QStringLiteral("the %1 \"%2\" looks like an absolute path").arg(what, name);
    return {};
}

QString problemWithExtension(const QString &extension)
{
    if (extension.startsWith(QLatin1Char('.')))
        return QStringLiteral("the file extension \"%1\" must be given without a leading dot")
            .arg(extension);
    return problemWith(extension, QStringLiteral("file extension"));
}

} // namespace QAttachmentNames
