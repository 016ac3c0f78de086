#include "qattachmentstate.h"

namespace QAttachmentState {

std::optional<State> fromInt(int value, QString *errorString)
{
    if (value < QueuedDownload || value > Archived) {
        if (errorString)
            *errorString
                = QStringLiteral("%1 is not an attachment state (valid: 0 to 4)").arg(value);
        return std::nullopt;
    }
    return static_cast<State>(value);
}

int toInt(State state)
{
    return static_cast<int>(state);
}

QString name(State state)
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
    case Invalid:
        return QStringLiteral("invalid");
    }
    return QStringLiteral("invalid(%1)").arg(int(state));
}

} // namespace QAttachmentState
