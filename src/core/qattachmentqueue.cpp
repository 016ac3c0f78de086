#include "qattachmentqueue.h"
#include "qattachmentqueue_p.h"

QAttachmentQueue::QAttachmentQueue(QObject *parent) : QObject(parent), d_ptr(new QAttachmentQueuePrivate) {}
QAttachmentQueue::~QAttachmentQueue() = default;
