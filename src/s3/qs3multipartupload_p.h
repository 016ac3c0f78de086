#ifndef QS3MULTIPARTUPLOAD_P_H
#define QS3MULTIPARTUPLOAD_P_H

#include "qattachmenttransfer.h"
#include "qs3remotestorage.h"

#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>

class QBuffer;
class QFile;
class QHttpTransfer;
struct QS3Request;

// An upload in parts: CreateMultipartUpload, the parts (several at a time,
// each read through a file of its own, each retried alone when it fails for a
// reason worth retrying), then CompleteMultipartUpload; an upload that fails
// or is aborted is aborted on the server too. Every request goes through the
// storage's S3 transfer (signing, refresh once after a 401/403).
class QS3MultipartUpload : public QAttachmentTransfer
{
    Q_OBJECT

public:
    // `source` is positioned at the first byte to send and has `size` more.
    QS3MultipartUpload(QS3RemoteStorage *storage, const QString &key, QIODevice *source,
                       qint64 size, const QByteArray &contentType, QObject *parent = nullptr);
    ~QS3MultipartUpload() override;

    void start();

protected:
    void abortTransfer() override;

private:
    using Done = std::function<void(QHttpTransfer *)>;

    // Runs `request`, again up to `attempts` times while it fails for a
    // reason worth retrying, then hands the last transfer to `done`.
    void run(const QS3Request &request, int attempts, Done done);
    void fail(const QAttachmentError &error);
    void stopRequests();
    void startNextParts();
    void partDone(int index, QHttpTransfer *transfer);
    void complete();
    void abortOnServer();
    void reportProgress();

    struct Part
    {
        qint64 offset = 0;
        qint64 size = 0;
        QByteArray etag;
        QFile *file = nullptr;
        bool running = false;
        bool done = false;
    };

    QPointer<QS3RemoteStorage> m_storage;
    QString m_key;
    QIODevice *m_source = nullptr;
    QString m_sourcePath; // the source's file, to read parts through files of their own
    QByteArray m_contentType;
    qint64 m_size = 0;
    QHash<QHttpTransfer *, qint64> m_running; // requests in flight, upload bytes sent by each
    QString m_uploadId;
    QList<Part> m_parts;
    int m_nextPart = 0;
    QBuffer *m_completeBody = nullptr;
};

#endif // QS3MULTIPARTUPLOAD_P_H
