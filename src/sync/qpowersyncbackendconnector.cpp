#include "qpowersyncbackendconnector.h"

QPowerSyncBackendConnector::QPowerSyncBackendConnector(QObject *parent)
    : QObject(parent)
{ }

QPowerSyncBackendConnector::~QPowerSyncBackendConnector() = default;
