#ifndef QQMLATTACHMENTMODEL_P_H
#define QQMLATTACHMENTMODEL_P_H

#include <qattachmentmodel.h>
#include <qattachmentqueue.h>

#include <QtCore/qpointer.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

// AttachmentModel in QML. Reads its queue once both are fully declared, so
// that the order of property assignments does not matter.
class QQmlAttachmentModel : public QAttachmentModel, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(AttachmentModel)
    Q_PROPERTY(
        QAttachmentQueue *queue READ pendingQueue WRITE setPendingQueue NOTIFY queueChanged FINAL)

public:
    explicit QQmlAttachmentModel(QObject *parent = nullptr);

    QAttachmentQueue *pendingQueue() const { return m_queue; }
    void setPendingQueue(QAttachmentQueue *queue);

    void classBegin() override;
    void componentComplete() override;

private:
    void attach();
    void warnIfWithoutQueue();

    QPointer<QAttachmentQueue> m_queue;
    QMetaObject::Connection m_waiting;
    bool m_complete = true;
    bool m_hadQueue = false; // a queue set and taken away again is deliberate
    bool m_warnedWithoutQueue = false;
};

#endif // QQMLATTACHMENTMODEL_P_H
