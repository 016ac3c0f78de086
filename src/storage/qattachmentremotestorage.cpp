#include "qattachmentremotestorage.h"

QAttachmentRemoteStorage::QAttachmentRemoteStorage(QObject *parent)
    : QObject(parent)
{ }

QAttachmentRemoteStorage::~QAttachmentRemoteStorage() = default;
