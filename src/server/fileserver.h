#ifndef FILESERVER_H
#define FILESERVER_H

#include "httprequestparser.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qhash.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qobject.h>
#include <QtNetwork/qhostaddress.h>

Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcServerAccess)

class QTcpServer;
class Connection;

// What one client, or all of them, may take from the server.
struct ServerLimits
{
    HttpLimits http;
    int maxConnections = 256;
    int maxConnectionsPerClient = 64;
    // No byte received or sent for this long ends a connection.
    int idleTimeoutMs = 60000;
    // A request head must arrive whole within this time of its first byte.
    int headTimeoutMs = 10000;
    int maxRequestsPerConnection = 1000;
    // Largest request body accepted, in bytes; 0: no limit.
    qint64 maxUploadSize = 0;
};

// Serves one directory over HTTP/1.1 for attachment storage: GET/HEAD (with
// byte ranges and conditional requests), PUT (streamed to disk and renamed
// into place) and DELETE, optionally behind a bearer token. Requests are
// parsed here, byte by byte, with hard limits (httprequestparser.h).
class FileServer : public QObject
{
    Q_OBJECT

public:
    // Uploads interrupted by an earlier run may have left files in this
    // directory of the root, and files named with UploadPrefix anywhere below
    // it; both are removed when the root is set and can never be requested.
    static constexpr QLatin1String PartialDirName {".partial"};
    static constexpr QLatin1String UploadPrefix {".partial-upload-"};

    explicit FileServer(QObject *parent = nullptr);
    ~FileServer() override;

    // Creates the directory if needed and removes what interrupted uploads
    // left in it.
    bool setRoot(const QString &path, QString *errorString);
    QString root() const { return m_root; }
    QString partialDirectory() const { return m_partialDir; }

    // Empty: no authorization required.
    void setToken(const QByteArray &token) { m_token = token; }
    QByteArray token() const { return m_token; }

    void setLimits(const ServerLimits &limits) { m_limits = limits; }
    const ServerLimits &limits() const { return m_limits; }

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
    // the files of uploads in progress.
    ResolvedPath resolve(const QByteArray &encodedPath) const;

private:
    friend class Connection;
    void acceptConnections();
    void connectionClosed(const QHostAddress &client);

    QString m_root; // canonical
    QString m_partialDir;
    QByteArray m_token;
    ServerLimits m_limits;
    QTcpServer *m_tcpServer = nullptr;
    QHash<QHostAddress, int> m_perClient;
    int m_connections = 0;
    QElapsedTimer m_lastRefusalLog;
};

#endif // FILESERVER_H
