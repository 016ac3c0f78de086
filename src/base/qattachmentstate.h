#ifndef QATTACHMENTSTATE_H
#define QATTACHMENTSTATE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qobject.h>
#include <QtCore/qstring.h>

#include <optional>

// The states of an attachment row. The integer values are stored in the
// queue table's `state` column and must never change.
namespace QAttachmentState {
Q_NAMESPACE_EXPORT(POWERSYNC_ATTACHMENTS_EXPORT)

enum State {
    QueuedDownload = 0,
    QueuedUpload = 1,
    QueuedDelete = 2,
    Synced = 3,
    Archived = 4,
    // Not a stored value: a row whose state column holds no valid state. The
    // queue reports such a row and leaves it alone.
    Invalid = -1,
};
Q_ENUM_NS(State)

// Returns no value (and says why in `errorString`) for an integer that names
// no state: a corrupt row is never silently treated as some default state.
POWERSYNC_ATTACHMENTS_EXPORT std::optional<State> fromInt(int value,
                                                          QString *errorString = nullptr);
POWERSYNC_ATTACHMENTS_EXPORT int toInt(State state);
// "queuedDownload", "queuedUpload", ... as in the specification. (Not named
// toString: Qt Test finds that name by lookup and expects a char *.)
POWERSYNC_ATTACHMENTS_EXPORT QString name(State state);
} // namespace QAttachmentState

#endif // QATTACHMENTSTATE_H
