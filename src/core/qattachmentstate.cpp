#include "qattachmentstate.h"

namespace QAttachmentState {

std::optional<State> fromInt(int value)
{
    if (value < QueuedDownload || value > Archived)
        return std::nullopt;
    return static_cast<State>(value);
}

int toInt(State state)
{
    return static_cast<int>(state);
}

QString toString(State state)
{
    switch (state) {
    case QueuedDownload:
        return QStringLiteral("queuedDownload");
    case QueuedUpload:
        return QStringLiteral("queuedUpload");
    case QueuedDelete:
        return QStringLiteral("queuedDelete");
    case Synced:
        return QStringLiteral("synced");
    case Archived:
        return QStringLiteral("archived");
    }
    return QStringLiteral("invalid(%1)").arg(int(state));
}

} // namespace QAttachmentState
