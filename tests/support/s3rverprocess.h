#ifndef S3RVERPROCESS_H
#define S3RVERPROCESS_H

#include "serverprocess.h"

#include <QtCore/qtemporarydir.h>
#include <QtCore/qurl.h>

// s3rver (from tests/s3rver/node_modules, installed with `npm ci --prefix
// tests/s3rver`) on 127.0.0.1 and a free port, storing into a fresh temporary
// directory, behind tests/s3rver/start.js, which checks every request's
// Signature Version 4 against the access key S3RVER / secret S3RVER. The
// server stops with the object.
class S3rverProcess
{
public:
    explicit S3rverProcess(const QString &bucket = QStringLiteral("attachments"));
    ~S3rverProcess();

    // Whether node and the installed s3rver package are there; otherwise
    // `why` says what is missing.
    static bool isAvailable(QString *why = nullptr);

    // Starts the server and waits until it accepts requests.
    bool start(QString *errorString = nullptr);
    void stop();

    QUrl endpoint() const; // http://127.0.0.1:PORT
    quint16 port() const { return m_port; }
    QString bucket() const { return m_bucket; }
    static QString accessKeyId() { return QStringLiteral("S3RVER"); }
    static QString secretAccessKey() { return QStringLiteral("S3RVER"); }
    // Where s3rver keeps the bytes of `key` in the bucket.
    QString objectFilePath(const QString &key) const;
    // What the server printed (errors, stack traces).
    QByteArray output() const { return m_server.output(); }

private:
    QString m_bucket;
    QTemporaryDir m_dir;
    ServerProcess m_server;
    quint16 m_port = 0;
};

#endif // S3RVERPROCESS_H
