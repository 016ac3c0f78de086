// Runs the Qt Quick Test suites (tst_*.qml). Their environment, the TestEnv
// singleton of the AttachmentsTest module, is compiled into this executable.

#include <QtQuickTest/quicktest.h>

QUICK_TEST_MAIN(qml)
