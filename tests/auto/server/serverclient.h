#ifndef SERVERCLIENT_H
#define SERVERCLIENT_H

// Raw-socket helpers for the tests of the embedded server that talk to it the
// way an attacker would, and the measures they take of the server process.

#include <attachmentsserver.h>
#include <testsupport.h>

#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtNetwork/qtcpsocket.h>

namespace ServerClient {

// Peak resident memory of another process, from /proc (VmHWM), in bytes.
using TestSupport::peakRssOf;

// AddressSanitizer keeps freed memory in quarantine (256 MiB by default),
// which would read as memory held by the server.
inline QProcessEnvironment serverEnvironment()
{
    return AttachmentsServer::smallQuarantineEnvironment();
}

inline bool connectTo(QTcpSocket &socket, quint16 port)
{
    socket.connectToHost(QHostAddress::LocalHost, port);
    return socket.waitForConnected(5000);
}

// Reads until the server closes the connection or the deadline passes;
// `closed` tells which.
inline QByteArray readUntilClosed(QTcpSocket &socket, int timeoutMs, bool *closed = nullptr)
{
    QByteArray data;
    const QDeadlineTimer deadline(timeoutMs);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        data += socket.readAll();
    }
    data += socket.readAll();
    if (closed)
        *closed = socket.state() != QAbstractSocket::ConnectedState;
    return data;
}

inline int statusOf(const QByteArray &response)
{
    if (!response.startsWith("HTTP/1.1 "))
        return 0;
    return response.mid(9, 3).toInt();
}

inline QByteArray headOf(const QByteArray &response)
{
    const qsizetype end = response.indexOf("\r\n\r\n");
    return end < 0 ? QByteArray() : response.left(end + 2);
}

struct Probe
{
    int status = 0;
    qint64 elapsedMs = -1;
    QByteArray body;
};

// One GET on a fresh connection, timed from connect to the end of the body.
inline Probe probe(quint16 port, const QByteArray &path = "/probe.txt",
                   const QByteArray &token = {}, int timeoutMs = 5000)
{
    Probe result;
    QElapsedTimer timer;
    timer.start();
    QTcpSocket socket;
    if (!connectTo(socket, port))
        return result;
    const QByteArray authorization
        = token.isEmpty() ? QByteArray() : "Authorization: Bearer " + token + "\r\n";
    socket.write("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + authorization
                 + "Connection: close\r\n\r\n");
    const QByteArray response = readUntilClosed(socket, timeoutMs);
    result.elapsedMs = timer.elapsed();
    result.status = statusOf(response);
    const qsizetype end = response.indexOf("\r\n\r\n");
    if (end >= 0)
        result.body = response.mid(end + 4);
    return result;
}

// Every file and directory under `directory`, relative to it, links not
// followed.
inline QStringList treeOf(const QString &directory)
{
    QStringList entries;
    QDirIterator it(directory,
                    QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        entries.append(it.next().mid(directory.size() + 1));
    entries.sort();
    return entries;
}

} // namespace ServerClient

#endif // SERVERCLIENT_H
