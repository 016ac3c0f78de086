#ifndef FAKEREMOTESTORAGE_H
#define FAKEREMOTESTORAGE_H

#include <qattachmentremotestorage.h>

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>

// An in-process remote storage for unit tests. Objects are kept by filename.
// Transfers finish on the next event loop turn unless held; failures can be
// scripted per operation.
class FakeRemoteStorage : public QAttachmentRemoteStorage
{
    Q_OBJECT

public:
    explicit FakeRemoteStorage(QObject *parent = nullptr);

    QHash<QString, QByteArray> objects;

    // The next `count` operations of `kind` fail with `error`.
    void failNext(QAttachmentTransfer::Kind kind, const QAttachmentError &error, int count = 1);
    // While held, transfers start but do not finish until release().
    void setHold(bool hold);
    void release();
    // Lets the transfer held longest finish; false when none is held.
    bool releaseOne();
    // Started and not yet finished.
    int running() const;
    int maxRunning() const { return m_maxRunning; }
    int started(QAttachmentTransfer::Kind kind) const { return m_started.value(kind); }
    // Number of bytes delivered per progress step, to see progress on large files.
    void setChunkSize(qint64 size) { m_chunkSize = size; }

    QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override;
    QAttachmentTransfer *remove(const QAttachment &attachment) override;

Q_SIGNALS:
    void transferStarted(const QString &filename, QAttachmentTransfer::Kind kind);

private:
    friend class FakeTransfer;
    QAttachmentTransfer *start(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                               QIODevice *device);
    void transferEnded();

    struct Failure
    {
        QAttachmentError error;
        int count = 0;
    };
    QHash<int, Failure> m_failures;
    QHash<int, int> m_started;
    QList<QPointer<QAttachmentTransfer>> m_held;
    bool m_hold = false;
    int m_running = 0;
    int m_maxRunning = 0;
    qint64 m_chunkSize = 0;
};

#endif // FAKEREMOTESTORAGE_H
