#ifndef QPOWERSYNCATTACHMENTSGLOBAL_H
#define QPOWERSYNCATTACHMENTSGLOBAL_H

#include <QtCore/qglobal.h>

#if defined(POWERSYNC_ATTACHMENTS_BUILD)
#define POWERSYNC_ATTACHMENTS_EXPORT Q_DECL_EXPORT
#else
#define POWERSYNC_ATTACHMENTS_EXPORT Q_DECL_IMPORT
#endif

// Private classes and functions that the library's own tests call: exported only
// from a build made with its tests (PSA_BUILD_TESTS), never part of the API.
#if defined(POWERSYNC_ATTACHMENTS_TESTING)
#define POWERSYNC_ATTACHMENTS_TEST_EXPORT POWERSYNC_ATTACHMENTS_EXPORT
#else
#define POWERSYNC_ATTACHMENTS_TEST_EXPORT
#endif

#endif // QPOWERSYNCATTACHMENTSGLOBAL_H
