#include "qqmlattachmentmodel_p.h"

#include "qqmlattachmentqueue_p.h"

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
