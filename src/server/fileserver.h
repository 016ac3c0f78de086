#ifndef FILESERVER_H
#define FILESERVER_H

#include <QtCore/qloggingcategory.h>
#include <QtHttpServer/qabstracthttpserver.h>
#include <QtNetwork/qhostaddress.h>

Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcServerAccess)

class QTcpServer;

// Serves one directory over HTTP for attachment storage: GET/HEAD (with byte
// ranges), PUT (written atomically) and DELETE, optionally behind a bearer
// token. Qt's server parses the requests; responses are written here so that
// file bodies stream with back-pressure instead of piling up in the socket.
class FileServer : public QAbstractHttpServer
{
    Q_OBJECT

public:
    // Uploads are written here first and renamed into place when complete.
    static constexpr QLatin1String PartialDirName {".partial"};

    explicit FileServer(QObject *parent = nullptr);
    ~FileServer() override;

    // Creates the directory if needed. Files left in the partial directory by
    // an earlier run are removed.
    bool setRoot(const QString &path, QString *errorString);
    QString root() const { return m_root; }
    QString partialDirectory() const { return m_partialDir; }

    // Empty: no authorization required.
    void setToken(const QByteArray &token) { m_token = token; }
    QByteArray token() const { return m_token; }

    // Largest request body accepted, in bytes; 0 (the default): no limit.
    void setMaxUploadSize(qint64 bytes) { m_maxUploadSize = bytes; }
    qint64 maxUploadSize() const { return m_maxUploadSize; }

    bool start(const QHostAddress &address, quint16 port, QString *errorString);
    quint16 port() const;

    // Whether `authorization` (the request's header) carries the token.
    bool isAuthorized(const QByteArray &authorization) const;

    struct ResolvedPath
    {
        QString filePath; // absolute, inside the root; empty on error
        int status = 0; // an HTTP error status when the path is refused
        QByteArray reason;
    };
    // Maps a request path (percent-encoded, starting with '/') to a file under
    // the root, refusing every way out of it: dot segments in any encoding,
    // empty segments, encoded separators, symbolic links leading outside, and
    // the partial directory.
    ResolvedPath resolve(const QByteArray &encodedPath) const;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    QString m_root; // canonical
    QString m_partialDir;
    QByteArray m_token;
    qint64 m_maxUploadSize = 0;
    QTcpServer *m_tcpServer = nullptr;
};

#endif // FILESERVER_H
