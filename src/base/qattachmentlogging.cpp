#include "qattachmentlogging_p.h"

Q_LOGGING_CATEGORY(lcQueue, "powersync.attachments.queue", QtWarningMsg)
Q_LOGGING_CATEGORY(lcTransfer, "powersync.attachments.transfer", QtWarningMsg)
Q_LOGGING_CATEGORY(lcStorage, "powersync.attachments.storage", QtWarningMsg)
Q_LOGGING_CATEGORY(lcHttp, "powersync.attachments.http", QtWarningMsg)
Q_LOGGING_CATEGORY(lcS3, "powersync.attachments.s3", QtWarningMsg)
