#include "qqmlattachment_p.h"

#include "qqmlattachmentqueue_p.h"

#include <QtCore/qloggingcategory.h>

#include <algorithm>

Q_LOGGING_CATEGORY(lcQmlAttachment, "powersync.attachments.qml", QtWarningMsg)

QQmlAttachment::QQmlAttachment(QObject *parent)
    : QObject(parent)
{ }

void QQmlAttachment::setQueue(QAttachmentQueue *queue)
{
    if (m_queue == queue)
        return;
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_queue = queue;
    if (queue) {
        // The row, its transfer and its last failure: the queue's status.
        m_connections << connect(queue, &QAttachmentQueue::statusChanged, this,
                                 [this](const QString &id) {
                                     if (id == m_id && !m_id.isEmpty() && m_queue)
                                         apply(m_queue->status(id));
                                 });
        // Another table (or database, or folder) holds other rows.
        for (auto signal :
             {&QAttachmentQueue::localDirectoryChanged, &QAttachmentQueue::connectionNameChanged,
              &QAttachmentQueue::tableNameChanged})
            m_connections << connect(queue, signal, this, &QQmlAttachment::refresh);
        // The row went with its queue; bindings must not keep showing it.
        m_connections << connect(queue, &QObject::destroyed, this, [this] {
            for (const auto &c : std::as_const(m_connections))
                disconnect(c);
            m_connections.clear();
            update(QAttachment());
            setProgress(-1, -1);
            setError({});
            setNextRetry({});
            emit queueChanged();
        });
        if (auto *declared = qobject_cast<QQmlAttachmentQueue *>(queue)) {
            m_connections << connect(declared, &QQmlAttachmentQueue::completed, this,
                                     &QQmlAttachment::refresh);
        }
    }
    refresh();
    emit queueChanged();
}

void QQmlAttachment::setAttachmentId(const QString &id)
{
    if (m_id == id)
        return;
    m_id = id;
    setProgress(-1, -1);
    setError({});
    setNextRetry({});
    refresh();
    warnIfWithoutQueue();
    emit attachmentIdChanged();
}

// `Attachment { queue: queue }` inside a delegate binds the property to itself
// when the queue's id is "queue", and stays empty without a word: say so once.
void QQmlAttachment::warnIfWithoutQueue()
{
    if (!m_complete || m_queue || m_id.isEmpty() || m_warnedWithoutQueue)
        return;
    m_warnedWithoutQueue = true;
    qCWarning(lcQmlAttachment).noquote().nospace()
        << "Attachment \"" << m_id
        << "\" has no queue, so it shows nothing. Set its queue property to an AttachmentQueue; "
           "an id named \"queue\" is shadowed by the Attachment's own queue property, so name it "
           "e.g. attachmentQueue.";
}

QString QQmlAttachment::stateName() const
{
    return m_attachment.isValid() ? QAttachmentState::name(m_attachment.state()) : QString();
}

qreal QQmlAttachment::progress() const
{
    // Synced and nothing running: complete, like the model's progress role.
    if (m_bytesDone < 0 && m_attachment.isValid()
        && m_attachment.state() == QAttachmentState::Synced)
        return 1.0;
    if (m_bytesDone < 0 || m_bytesTotal <= 0)
        return 0.0;
    return std::clamp(qreal(m_bytesDone) / qreal(m_bytesTotal), qreal(0), qreal(1));
}

void QQmlAttachment::classBegin()
{
    m_complete = false;
}

void QQmlAttachment::componentComplete()
{
    m_complete = true;
    refresh();
    warnIfWithoutQueue();
}

void QQmlAttachment::refresh()
{
    if (!m_complete)
        return;
    auto *declared = qobject_cast<QQmlAttachmentQueue *>(m_queue.data());
    // A queue still being configured has no table to read yet.
    const bool usable = m_queue && !m_id.isEmpty() && (!declared || declared->isComplete())
        && (m_queue->localStorage() || !m_queue->localDirectory().isEmpty());
    if (!usable) {
        update(QAttachment());
        return;
    }
    // Read again: the app may have written the row itself.
    m_queue->attachment(m_id);
    const QAttachmentStatus status = m_queue->status(m_id);
    // An attachment made after the failure (a delegate scrolled back into
    // view) still shows it until the state changes.
    apply(status);
}

void QQmlAttachment::apply(const QAttachmentStatus &status)
{
    update(status.attachment());
    setProgress(status.bytesDone(), status.bytesTotal());
    setError(status.lastError().isError() ? status.lastError().message() : QString());
    setNextRetry(status.nextRetry());
}

void QQmlAttachment::setNextRetry(const QDateTime &when)
{
    if (when == m_nextRetry)
        return;
    m_nextRetry = when;
    emit nextRetryChanged();
}

void QQmlAttachment::update(const QAttachment &attachment)
{
    const bool stateChanged = attachment.state() != m_attachment.state()
        || attachment.isValid() != m_attachment.isValid();
    if (attachment != m_attachment) {
        m_attachment = attachment;
        emit attachmentChanged();
    }
    if (stateChanged) {
        if (m_bytesDone < 0 && m_bytesTotal < 0)
            emit progressChanged(); // synced or not: progress() follows the state
        setProgress(-1, -1);
        setError({});
        setNextRetry({});
    }
    const QUrl url = m_queue && attachment.isValid() ? m_queue->localUrl(attachment) : QUrl();
    if (url != m_localUrl) {
        m_localUrl = url;
        emit localUrlChanged();
    }
}

void QQmlAttachment::setProgress(qint64 done, qint64 total)
{
    if (done == m_bytesDone && total == m_bytesTotal)
        return;
    m_bytesDone = done;
    m_bytesTotal = total;
    emit progressChanged();
}

void QQmlAttachment::setError(const QString &error)
{
    if (m_error == error)
        return;
    m_error = error;
    emit errorChanged();
}
