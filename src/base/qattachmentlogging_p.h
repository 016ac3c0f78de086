#ifndef QATTACHMENTLOGGING_P_H
#define QATTACHMENTLOGGING_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qloggingcategory.h>

// Categories are quiet below warning unless enabled with QT_LOGGING_RULES,
// e.g. "powersync.attachments.*.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcQueue)
Q_DECLARE_LOGGING_CATEGORY(lcTransfer)
Q_DECLARE_LOGGING_CATEGORY(lcStorage)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcS3)

#endif // QATTACHMENTLOGGING_P_H
