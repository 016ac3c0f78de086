#include "qqmlattachmentmodel_p.h"

#include "qqmlattachment_p.h"
#include "qqmlattachmentqueue_p.h"

#include <QtCore/qtimer.h>

QQmlAttachmentModel::QQmlAttachmentModel(QObject *parent)
    : QAttachmentModel(parent)
{
    // Initial properties of createObject() arrive as variant lists, which
    // QMetaProperty does not turn into QList<int> by itself.
    static const bool registered = [] {
        if (QMetaType::hasRegisteredConverterFunction<QVariantList, QList<int>>())
            return true;
        return QMetaType::registerConverter<QVariantList, QList<int>>([](const QVariantList &list) {
            QList<int> result;
            result.reserve(list.size());
            for (const QVariant &value : list)
                result.append(value.toInt());
            return result;
        });
    }();
    Q_UNUSED(registered);
}

void QQmlAttachmentModel::setPendingQueue(QAttachmentQueue *queue)
{
    if (m_queue == queue)
        return;
    m_queue = queue;
    if (queue)
        m_hadQueue = true;
    if (m_complete)
        attach();
    else
        emit queueChanged();
}

void QQmlAttachmentModel::classBegin()
{
    m_complete = false;
}

void QQmlAttachmentModel::componentComplete()
{
    m_complete = true;
    attach();
    // A queue may still arrive from a binding evaluated later in this turn.
    if (!m_queue)
        QTimer::singleShot(0, this, &QQmlAttachmentModel::warnIfWithoutQueue);
}

// `AttachmentModel { queue: queue }` binds the property to itself when the
// queue's id is "queue", and the view stays empty without a word: say so once.
void QQmlAttachmentModel::warnIfWithoutQueue()
{
    if (m_queue || m_hadQueue || m_warnedWithoutQueue)
        return;
    m_warnedWithoutQueue = true;
    qCWarning(lcQmlAttachment).noquote()
        << "AttachmentModel has no queue, so it shows no rows. Set its queue property to an "
           "AttachmentQueue (or use the queue's own model property); an id named \"queue\" is "
           "shadowed by the model's own queue property, so name it e.g. attachmentQueue.";
}

void QQmlAttachmentModel::attach()
{
    disconnect(m_waiting);
    // A queue still being declared may not know its database yet.
    auto *declared = qobject_cast<QQmlAttachmentQueue *>(m_queue.data());
    if (declared && !declared->isComplete()) {
        m_waiting = connect(declared, &QQmlAttachmentQueue::completed, this,
                            &QQmlAttachmentModel::attach, Qt::SingleShotConnection);
        return;
    }
    setQueue(m_queue);
}
