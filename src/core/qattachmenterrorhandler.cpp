#include "qattachmenterrorhandler.h"

QAttachmentErrorHandler::~QAttachmentErrorHandler() = default;
