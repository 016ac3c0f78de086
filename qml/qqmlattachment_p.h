#ifndef QQMLATTACHMENT_P_H
#define QQMLATTACHMENT_P_H

#include <qattachment.h>
#include <qattachmentqueue.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qpointer.h>
#include <QtCore/qurl.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

// powersync.attachments.qml: what the QML types say about their use.
Q_DECLARE_LOGGING_CATEGORY(lcQmlAttachment)

// One attachment of a queue, followed live, so that a delegate binds
// `Image.source: photo.localUrl` in one line:
//
//     Attachment { id: photo; queue: attachments; attachmentId: model.photo_id }
class QQmlAttachment : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(Attachment)
    Q_PROPERTY(QAttachmentQueue *queue READ queue WRITE setQueue NOTIFY queueChanged FINAL)
    Q_PROPERTY(QString attachmentId READ attachmentId WRITE setAttachmentId NOTIFY
                   attachmentIdChanged FINAL)
    // Whether the queue has a row for the id.
    Q_PROPERTY(bool exists READ exists NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QAttachment attachment READ attachment NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QString filename READ filename NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QAttachmentState::State state READ state NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QString stateName READ stateName NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(qint64 size READ size NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QString mediaType READ mediaType NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(bool hasSynced READ hasSynced NOTIFY attachmentChanged FINAL)
    Q_PROPERTY(QString metaData READ metaData NOTIFY attachmentChanged FINAL)
    // Absolute file:// URL, empty until the file exists locally.
    Q_PROPERTY(QUrl localUrl READ localUrl NOTIFY localUrlChanged FINAL)
    // The local file can be shown.
    Q_PROPERTY(bool ready READ isReady NOTIFY localUrlChanged FINAL)
    Q_PROPERTY(bool transferring READ isTransferring NOTIFY progressChanged FINAL)
    // 0-1 while a transfer of this attachment runs, else 0.
    Q_PROPERTY(qreal progress READ progress NOTIFY progressChanged FINAL)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged FINAL)
    // When a failed transfer is tried again; an invalid date when none waits.
    Q_PROPERTY(QDateTime nextRetry READ nextRetry NOTIFY nextRetryChanged FINAL)

public:
    explicit QQmlAttachment(QObject *parent = nullptr);

    QAttachmentQueue *queue() const { return m_queue; }
    void setQueue(QAttachmentQueue *queue);
    QString attachmentId() const { return m_id; }
    void setAttachmentId(const QString &id);

    bool exists() const { return m_attachment.isValid(); }
    QAttachment attachment() const { return m_attachment; }
    QString filename() const { return m_attachment.filename(); }
    QAttachmentState::State state() const { return m_attachment.state(); }
    QString stateName() const;
    qint64 size() const { return m_attachment.size(); }
    QString mediaType() const { return m_attachment.mediaType(); }
    bool hasSynced() const { return m_attachment.hasSynced(); }
    QString metaData() const { return m_attachment.metaData(); }
    QUrl localUrl() const { return m_localUrl; }
    bool isReady() const { return !m_localUrl.isEmpty(); }
    bool isTransferring() const { return m_bytesDone >= 0; }
    qreal progress() const;
    QString error() const { return m_error; }
    QDateTime nextRetry() const { return m_nextRetry; }

    void classBegin() override;
    void componentComplete() override;

public Q_SLOTS:
    // Reads the row again.
    void refresh();

Q_SIGNALS:
    void queueChanged();
    void attachmentIdChanged();
    void attachmentChanged();
    void localUrlChanged();
    void progressChanged();
    void errorChanged();
    void nextRetryChanged();

private:
    void warnIfWithoutQueue();
    void setNextRetry(const QDateTime &when);
    void apply(const QAttachmentStatus &status);
    void update(const QAttachment &attachment);
    void setProgress(qint64 done, qint64 total);
    void setError(const QString &error);

    QPointer<QAttachmentQueue> m_queue;
    QList<QMetaObject::Connection> m_connections;
    QString m_id;
    QAttachment m_attachment;
    QUrl m_localUrl;
    qint64 m_bytesDone = -1;
    qint64 m_bytesTotal = -1;
    QString m_error;
    QDateTime m_nextRetry;
    bool m_complete = true;
    bool m_warnedWithoutQueue = false;
};

#endif // QQMLATTACHMENT_P_H
