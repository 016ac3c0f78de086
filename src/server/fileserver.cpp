#include "fileserver.h"

#include "connection.h"

#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfileinfo.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>

Q_LOGGING_CATEGORY(lcServer, "powersync.attachments.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcServerAccess, "powersync.attachments.server.access", QtInfoMsg)

namespace {

bool isWithin(const QString &path, const QString &directory)
{
    return path == directory
        || (path.startsWith(directory) && path.at(directory.size()) == QLatin1Char('/'));
}

} // namespace

FileServer::FileServer(QObject *parent)
    : QObject(parent)
{ }

FileServer::~FileServer()
{
    // Connections report their end to this object: gone before its members.
    delete m_tcpServer;
}

bool FileServer::setRoot(const QString &path, QString *errorString)
{
    const QString partial = path + QLatin1Char('/') + PartialDirName;
    if (!QDir().mkpath(partial)) {
        *errorString = QStringLiteral("cannot create %1").arg(partial);
        return false;
    }
    m_root = QFileInfo(path).canonicalFilePath();
    m_partialDir = QFileInfo(partial).canonicalFilePath();
    if (m_root.isEmpty() || m_partialDir.isEmpty() || !isWithin(m_partialDir, m_root)) {
        *errorString = QStringLiteral("cannot use %1 as the root").arg(path);
        return false;
    }
    // Uploads interrupted by an earlier stop never reached their final name.
    QDirIterator leftovers(m_partialDir, QDir::Files | QDir::Hidden | QDir::System);
    while (leftovers.hasNext())
        QFile::remove(leftovers.next());
    // Symbolic links are not followed: only what is really under the root.
    QDirIterator uploads(m_root, {UploadPrefix + QLatin1Char('*')},
                         QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (uploads.hasNext()) {
        const QString file = uploads.next();
        if (!QFileInfo(file).isSymLink())
            QFile::remove(file);
    }
    return true;
}

bool FileServer::start(const QHostAddress &address, quint16 port, QString *errorString)
{
    auto *server = new QTcpServer(this);
    if (!server->listen(address, port)) {
        *errorString = server->errorString();
        delete server;
        return false;
    }
    m_tcpServer = server;
    connect(server, &QTcpServer::newConnection, this, &FileServer::acceptConnections);
    return true;
}

quint16 FileServer::port() const
{
    return m_tcpServer ? m_tcpServer->serverPort() : 0;
}

void FileServer::acceptConnections()
{
    while (QTcpSocket *socket = m_tcpServer->nextPendingConnection()) {
        QHostAddress client = socket->peerAddress();
        bool isV4 = false;
        const quint32 v4 = client.toIPv4Address(&isV4);
        if (isV4)
            client = QHostAddress(v4);
        const int fromClient = m_perClient.value(client);
        if (m_connections >= m_limits.maxConnections
            || fromClient >= m_limits.maxConnectionsPerClient) {
            if (!m_lastRefusalLog.isValid() || m_lastRefusalLog.elapsed() > 10000) {
                m_lastRefusalLog.start();
                qCWarning(lcServer).noquote() << "refusing connections from" << client.toString()
                                              << "(limit reached:" << m_connections << "in total,"
                                              << fromClient << "from that address)";
            }
            socket->abort();
            socket->deleteLater();
            continue;
        }
        m_perClient.insert(client, fromClient + 1);
        ++m_connections;
        new Connection(this, socket, client);
    }
}

void FileServer::connectionClosed(const QHostAddress &client)
{
    --m_connections;
    auto it = m_perClient.find(client);
    if (it != m_perClient.end() && --it.value() <= 0)
        m_perClient.erase(it);
}

bool FileServer::isAuthorized(const QByteArray &authorization) const
{
    if (m_token.isEmpty())
        return true;
    const QByteArray value = authorization.trimmed();
    const qsizetype space = value.indexOf(' ');
    if (space < 0 || value.left(space).compare("Bearer", Qt::CaseInsensitive) != 0)
        return false;
    const QByteArray presented = value.mid(space + 1).trimmed();
    // Compared in constant time, so the response time tells nothing about how
    // much of a guessed token was right.
    unsigned char difference = presented.size() == m_token.size() ? 0 : 1;
    for (qsizetype i = 0; i < m_token.size(); ++i) {
        const char other = i < presented.size() ? presented.at(i) : '\0';
        difference |= static_cast<unsigned char>(m_token.at(i) ^ other);
    }
    return difference == 0;
}

FileServer::ResolvedPath FileServer::resolve(const QByteArray &encodedPath) const
{
    ResolvedPath result;
    auto refuse = [&result](int status, const char *reason) {
        result.status = status;
        result.reason = reason;
        return result;
    };
    if (!encodedPath.startsWith('/'))
        return refuse(400, "the path must start with '/'");

    QStringList segments;
    const QByteArray rest = encodedPath.mid(1);
    if (!rest.isEmpty()) {
        for (const QByteArray &encoded : rest.split('/')) {
            // Decoded one segment at a time, so that an encoded '/' or dot
            // segment cannot turn into a path step after the checks.
            const QByteArray raw = QByteArray::fromPercentEncoding(encoded);
            if (raw.isEmpty())
                return refuse(400, "empty path segment");
            if (raw == "." || raw == "..")
                return refuse(400, "dot segments are not allowed");
            if (raw.contains('/') || raw.contains('\\') || raw.contains('\0'))
                return refuse(400, "encoded separators are not allowed");
            const QString segment = QString::fromUtf8(raw);
            if (segment.toUtf8() != raw)
                return refuse(400, "the path is not valid UTF-8");
            // Uploads in progress, anywhere, are nobody's business.
            if (segment.startsWith(UploadPrefix))
                return refuse(403, "forbidden");
            segments.append(segment);
        }
    }
    if (!segments.isEmpty() && segments.first() == PartialDirName)
        return refuse(403, "forbidden");

    const QString filePath
        = segments.isEmpty() ? m_root : m_root + QLatin1Char('/') + segments.join(QLatin1Char('/'));
    // The nearest part of the path that exists decides where it really leads
    // once symbolic links are followed; what does not exist yet is created
    // below it as plain directories.
    QString probe = filePath;
    while (!QFileInfo::exists(probe) && !QFileInfo(probe).isSymLink())
        probe = QFileInfo(probe).absolutePath();
    const QString real = QFileInfo(probe).canonicalFilePath();
    if (real.isEmpty() || !isWithin(real, m_root) || isWithin(real, m_partialDir))
        return refuse(403, "forbidden");
    result.filePath = filePath;
    return result;
}
