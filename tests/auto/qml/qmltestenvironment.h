#ifndef QMLTESTENVIRONMENT_H
#define QMLTESTENVIRONMENT_H

#include <fakeremotestorage.h>

#include <QtCore/qobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>
#include <QtQml/qqml.h>

#include <memory>

class S3rverProcess;

// The fake remote with what QML tests need to script and inspect it.
class QmlFakeRemote : public FakeRemoteStorage
{
    Q_OBJECT
    QML_NAMED_ELEMENT(FakeRemote)
    QML_UNCREATABLE("Made by TestEnv.newRemote().")
    Q_PROPERTY(int objectCount READ objectCount)

public:
    using FakeRemoteStorage::FakeRemoteStorage;

    int objectCount() const { return int(objects.size()); }
    Q_INVOKABLE bool hasObject(const QString &name) const { return objects.contains(name); }
    Q_INVOKABLE QString objectText(const QString &name) const
    {
        return QString::fromUtf8(objects.value(name));
    }
    Q_INVOKABLE void putObject(const QString &name, const QString &text)
    {
        objects.insert(name, text.toUtf8());
    }
    Q_INVOKABLE void hold(bool hold) { setHold(hold); }
    Q_INVOKABLE void releaseHeld() { release(); }
    Q_INVOKABLE void chunked(int bytes) { setChunkSize(bytes); }
    Q_INVOKABLE void failNextDownload(const QString &message)
    {
        failNext(QAttachmentTransfer::Download,
                 QAttachmentError(QAttachmentError::ServerError, message, 500));
    }
};

// `TestEnv` in the QML tests (import AttachmentsTest): databases, files, fake
// remotes and servers, fresh per call. One per engine, so per test file.
class QmlTestEnvironment : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(TestEnv)
    QML_SINGLETON
    // Whether the embedded attachments server was built (tests needing it skip otherwise).
    Q_PROPERTY(bool hasServer READ hasServer CONSTANT)

public:
    explicit QmlTestEnvironment(QObject *parent = nullptr);
    ~QmlTestEnvironment() override;

    // A new SQLite database with a `checklists (id, title, photo_id)` table;
    // returns its connection name.
    Q_INVOKABLE QString openDatabase();
    // A new empty directory.
    Q_INVOKABLE QString newDirectory();
    Q_INVOKABLE QmlFakeRemote *newRemote();
    // Runs `sql` outside any queue; rows of a SELECT as objects.
    Q_INVOKABLE QVariantList query(const QString &connection, const QString &sql,
                                   const QVariantList &parameters = {});
    Q_INVOKABLE bool exec(const QString &connection, const QString &sql,
                          const QVariantList &parameters = {});
    Q_INVOKABLE bool fileExists(const QUrl &url) const;
    Q_INVOKABLE QString readFile(const QUrl &url) const;
    // Writes `text` to a new file and returns its file: URL.
    Q_INVOKABLE QUrl writeTempFile(const QString &name, const QString &text);
    Q_INVOKABLE QByteArray bytes(int size) const;
    // A red PNG image, 2x2 unless told.
    Q_INVOKABLE QByteArray pngBytes(int width = 2, int height = 2) const;
    Q_INVOKABLE QUrl fileUrl(const QString &path) const { return QUrl::fromLocalFile(path); }

    bool hasServer() const;
    // Starts the embedded server on 127.0.0.1 (a free port) serving a new
    // directory, requiring `token` when given. Returns { url, root }, or an
    // empty object when it did not start. Stopped with the environment.
    Q_INVOKABLE QVariant startServer(const QString &token = {});
    // Starts s3rver (checking signatures) with a bucket; returns { endpoint,
    // bucket, accessKeyId, secretAccessKey }, or { error } when it is not
    // available.
    Q_INVOKABLE QVariant startS3();
    // The content of object `key` in the last started s3rver; empty when missing.
    Q_INVOKABLE QString s3ObjectText(const QString &key) const;

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QStringList m_connections;
    QList<QProcess *> m_servers;
    std::unique_ptr<S3rverProcess> m_s3;
    int m_counter = 0;
};

#endif // QMLTESTENVIRONMENT_H
