#ifndef QPOWERSYNCATTACHMENTSGUIGLOBAL_H
#define QPOWERSYNCATTACHMENTSGUIGLOBAL_H

#include "qpowersyncattachmentsglobal.h"

// The symbols of PowerSync::AttachmentsGui, the small library of the view
// helpers that need Qt GUI (thumbnails, colours); built shared or static with
// the main library.
#if defined(POWERSYNC_ATTACHMENTS_STATIC)
#define POWERSYNC_ATTACHMENTS_GUI_EXPORT
#elif defined(POWERSYNC_ATTACHMENTS_GUI_BUILD)
#define POWERSYNC_ATTACHMENTS_GUI_EXPORT Q_DECL_EXPORT
#else
#define POWERSYNC_ATTACHMENTS_GUI_EXPORT Q_DECL_IMPORT
#endif

#endif // QPOWERSYNCATTACHMENTSGUIGLOBAL_H
