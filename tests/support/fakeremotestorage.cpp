#include "fakeremotestorage.h"

#include <QtCore/qtimer.h>

class FakeTransfer : public QAttachmentTransfer
{
public:
    FakeTransfer(Kind kind, FakeRemoteStorage *owner, const QAttachment &attachment,
                 QIODevice *device, const QAttachmentError &failure)
        : QAttachmentTransfer(kind)
        , m_owner(owner)
        , m_attachment(attachment)
        , m_device(device)
        , m_failure(failure)
    { }

    void run()
    {
        if (m_done)
            return;
        m_done = true;
        m_owner->transferEnded();
        if (m_failure.isError()) {
            finishWithError(m_failure);
            return;
        }
        const QString key = m_attachment.filename();
        switch (kind()) {
        case Upload: {
            const QByteArray bytes = m_device->readAll();
            m_owner->objects.insert(key, bytes);
            setProgress(bytes.size(), bytes.size());
            break;
        }
        case Download: {
            const auto it = m_owner->objects.constFind(key);
            if (it == m_owner->objects.constEnd()) {
                finishWithError(QAttachmentError(QAttachmentError::NotFound,
                                                 QStringLiteral("no object %1").arg(key), 404));
                return;
            }
            m_device->seek(0);
            const qint64 chunk = m_owner->m_chunkSize > 0 ? m_owner->m_chunkSize : it->size();
            for (qint64 done = 0; done < it->size(); done += chunk) {
                // As a real storage does: a write that fails fails the transfer.
                const qint64 length = qMin<qint64>(chunk, it->size() - done);
                if (m_device->write(it->constData() + done, length) != length) {
                    finishWithError(QAttachmentError(
                        QAttachmentError::LocalStorageError,
                        QStringLiteral("writing %1 failed: %2").arg(key, m_device->errorString())));
                    return;
                }
                setProgress(qMin<qint64>(done + chunk, it->size()), it->size());
            }
            break;
        }
        case Delete:
            m_owner->objects.remove(key);
            break;
        }
        finishSuccess();
    }

protected:
    void abortTransfer() override
    {
        if (!m_done) {
            m_done = true;
            m_owner->transferEnded();
        }
    }

private:
    FakeRemoteStorage *m_owner;
    QAttachment m_attachment;
    QIODevice *m_device;
    QAttachmentError m_failure;
    bool m_done = false;
};

FakeRemoteStorage::FakeRemoteStorage(QObject *parent)
    : QAttachmentRemoteStorage(parent)
{ }

void FakeRemoteStorage::failNext(QAttachmentTransfer::Kind kind, const QAttachmentError &error,
                                 int count)
{
    m_failures.insert(kind, {error, count});
}

void FakeRemoteStorage::setHold(bool hold)
{
    m_hold = hold;
    if (!hold)
        release();
}

void FakeRemoteStorage::release()
{
    const auto held = std::exchange(m_held, {});
    for (const auto &transfer : held) {
        if (transfer)
            static_cast<FakeTransfer *>(transfer.data())->run();
    }
}

bool FakeRemoteStorage::releaseOne()
{
    while (!m_held.isEmpty()) {
        const QPointer<QAttachmentTransfer> transfer = m_held.takeFirst();
        if (transfer) {
            static_cast<FakeTransfer *>(transfer.data())->run();
            return true;
        }
    }
    return false;
}

int FakeRemoteStorage::running() const
{
    return m_running;
}

void FakeRemoteStorage::transferEnded()
{
    --m_running;
}

QAttachmentTransfer *FakeRemoteStorage::start(QAttachmentTransfer::Kind kind,
                                              const QAttachment &attachment, QIODevice *device)
{
    QAttachmentError failure;
    auto it = m_failures.find(kind);
    if (it != m_failures.end() && it->count > 0) {
        failure = it->error;
        --it->count;
    }
    auto *transfer = new FakeTransfer(kind, this, attachment, device, failure);
    ++m_started[kind];
    ++m_running;
    m_maxRunning = qMax(m_maxRunning, m_running);
    Q_EMIT transferStarted(attachment.filename(), kind);
    if (m_hold)
        m_held.append(transfer);
    else
        QTimer::singleShot(0, transfer, [transfer] { transfer->run(); });
    return transfer;
}

QAttachmentTransfer *FakeRemoteStorage::upload(const QAttachment &attachment, QIODevice *source)
{
    return start(QAttachmentTransfer::Upload, attachment, source);
}

QAttachmentTransfer *FakeRemoteStorage::download(const QAttachment &attachment, QIODevice *sink)
{
    return start(QAttachmentTransfer::Download, attachment, sink);
}

QAttachmentTransfer *FakeRemoteStorage::remove(const QAttachment &attachment)
{
    return start(QAttachmentTransfer::Delete, attachment, nullptr);
}
