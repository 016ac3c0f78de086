#ifndef QPOWERSYNCNAMES_P_H
#define QPOWERSYNCNAMES_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qstring.h>

namespace QPowerSyncNames {

// The longest table, view, column or index name accepted.
constexpr int MaximumNameLength = 255;

// True if name can be a PowerSync table, view, column or index name: not
// empty, at most MaximumNameLength long, none of the characters PowerSync's
// SDKs refuse (" ' % , . # [ ] and white space) and no control character.
POWERSYNC_ATTACHMENTS_TEST_EXPORT bool isValid(const QString &name);

} // namespace QPowerSyncNames

#endif // QPOWERSYNCNAMES_P_H
