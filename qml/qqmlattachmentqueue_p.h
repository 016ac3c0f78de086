#ifndef QQMLATTACHMENTQUEUE_P_H
#define QQMLATTACHMENTQUEUE_P_H

#include "qqmlattachmentmodel_p.h"

#include <qattachmentqueue.h>
#include <qattachmenttransaction.h>

#include <QtCore/qpointer.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

// What a JavaScript update hook receives: execute() runs inside the
// transaction that writes the attachment row.
class QQmlAttachmentTransaction : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(AttachmentTransaction)
    QML_UNCREATABLE("Passed to the update hook of saveFile() and deleteFile().")

public:
    explicit QQmlAttachmentTransaction(QAttachmentTransaction *transaction,
                                       QObject *parent = nullptr);

    // Runs `sql` with positional parameters. Returns the rows of a SELECT as
    // objects keyed by column name, otherwise the number of rows affected. A
    // failing statement throws (and the transaction rolls back even if the
    // hook catches it).
    Q_INVOKABLE QJSValue execute(const QString &sql, const QVariantList &parameters = {});

    void invalidate() { m_transaction = nullptr; }

private:
    QAttachmentTransaction *m_transaction;
};

// AttachmentQueue in QML: QAttachmentQueue with a writable `syncing` (set it
// to start or stop syncing, also in the declaration), a model of its rows and
// JavaScript-friendly saveFile()/deleteFile()/setWatchedAttachments().
class QQmlAttachmentQueue : public QAttachmentQueue, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(AttachmentQueue)
    Q_PROPERTY(bool syncing READ isSyncing WRITE setSyncing NOTIFY syncingChanged FINAL)
    Q_PROPERTY(QAttachmentModel *model READ model CONSTANT FINAL)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged FINAL)
    Q_PROPERTY(QString databasePath READ databasePath WRITE setDatabasePath NOTIFY
                   databasePathChanged FINAL)

public:
    explicit QQmlAttachmentQueue(QObject *parent = nullptr);
    ~QQmlAttachmentQueue() override;

    // Starts (startSync()) or stops syncing; in a declaration, once it is
    // complete. A start that fails leaves `syncing` false and says why in
    // errorString.
    void setSyncing(bool syncing);
    QAttachmentModel *model() const;
    // Why the last saveFile()/deleteFile() or start failed; empty after a success.
    QString errorString() const { return m_errorString; }
    bool isComplete() const { return m_complete; }

    using QAttachmentQueue::attachment;
    using QAttachmentQueue::deleteFile;
    using QAttachmentQueue::localUrl;
    using QAttachmentQueue::saveFile;
    using QAttachmentQueue::setWatchedAttachments;

    // `data` is an ArrayBuffer, a string (saved as UTF-8) or a file: URL to
    // copy. A string that looks like a path or a URL ("/home/me/a.png",
    // "qrc:/a.png", "C:\\a.png") is refused rather than stored as text: pass
    // Qt.resolvedUrl()/a file: URL for a file, or use saveText() for text. `updateHook(tx,
    // attachment)` runs in the transaction of the new row: a throw (rethrown to the caller) or
    // `return false` rolls both back. Returns the new attachment; on failure one whose `valid` is
    // false, with errorString set.
    Q_INVOKABLE QAttachment saveFile(const QVariant &data, const QString &mediaType,
                                     const QString &fileExtension = {},
                                     const QJSValue &updateHook = {}, const QString &metaData = {});
    // Stores `text` as UTF-8, whatever it looks like.
    Q_INVOKABLE QAttachment saveText(const QString &text, const QString &mediaType,
                                     const QString &fileExtension = {},
                                     const QJSValue &updateHook = {}, const QString &metaData = {});
    Q_INVOKABLE bool deleteFile(const QString &id, const QJSValue &updateHook);
    Q_INVOKABLE bool deleteFile(const QString &id);
    Q_INVOKABLE QAttachment attachment(const QString &id) const;
    Q_INVOKABLE QUrl localUrl(const QString &id) const;
    // Items are ids (strings) or objects with id, fileExtension, filename and
    // metaData: the push alternative to watchQuery.
    Q_INVOKABLE void setWatchedAttachments(const QVariantList &items);

    // --- the database, for apps without C++ (qqmlattachmentqueuedatabase.cpp) ---
    // An SQLite file (a path or a file: URL) that the queue opens on a
    // connection of its own and uses instead of connectionName; created with
    // its folder when missing, closed when the queue goes. Empty: none.
    QString databasePath() const { return m_databasePath; }
    void setDatabasePath(const QString &path);
    // Runs `sql` with positional parameters on the queue's connection (the
    // app's own tables: CREATE TABLE, INSERT ...). Returns the rows of a
    // SELECT as objects keyed by column name, otherwise the number of rows
    // affected; a failing statement throws.
    Q_INVOKABLE QJSValue execute(const QString &sql, const QVariantList &parameters = {});

    void classBegin() override;
    void componentComplete() override;

Q_SIGNALS:
    void databasePathChanged();
    void errorStringChanged();
    // The declaration is complete and the queue may be used.
    void completed();

private:
    UpdateHook wrapHook(const QJSValue &hook, QJSValue *thrown);
    QAttachment saveBytes(const QByteArray &bytes, const QString &mediaType,
                          const QString &fileExtension, const QJSValue &updateHook,
                          const QString &metaData);
    void setErrorString(const QString &error);
    void applySyncing();

    QString m_databasePath;
    QObject *m_database = nullptr; // owns the connection of databasePath; a child, so
                                   // that it closes after the queue stopped using it
    bool m_syncing = false; // what was asked for last
    bool m_complete = true;
    QString m_errorString;
    QQmlAttachmentModel *m_model = nullptr;
};

#endif // QQMLATTACHMENTQUEUE_P_H
