#include "qpowersyncnames_p.h"

namespace QPowerSyncNames {

bool isValid(const QString &name)
{
    if (name.isEmpty() || name.size() > MaximumNameLength)
        return false;
    for (const QChar c : name) {
        switch (c.unicode()) {
        case '"':
        case '\'':
        case '%':
        case ',':
        case '.':
        case '#':
        case '[':
        case ']':
            return false;
        default:
            break;
        }
        if (c.isSpace() || c.unicode() < 0x20 || c.unicode() == 0x7f || c.isSurrogate()
            || c.category() == QChar::Other_Control || c.category() == QChar::Other_Format)
            return false;
    }
    return true;
}

} // namespace QPowerSyncNames
