#pragma once
class QAttachmentQueuePrivate {};
