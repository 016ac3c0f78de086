#ifndef FAULTSERVER_H
#define FAULTSERVER_H

#include <QtCore/qbytearray.h>
#include <QtCore/qhash.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qqueue.h>
#include <QtCore/qurl.h>

class QTcpServer;
class QTcpSocket;

// A small HTTP/1.1 object store on 127.0.0.1 whose answers can be broken on
// purpose. By default it stores what is PUT, serves it with GET (with Range
// support, "bytes=N-" and "bytes=N-M", and an ETag, but ignoring If-Range,
// as some servers do) and removes
// it with DELETE. Faults queued for a method replace the
// normal answer of the next requests with that method, one fault each.
class FaultServer : public QObject
{
    Q_OBJECT

public:
    struct Fault
    {
        enum Type {
            Status, // answer with `status`, `headers` and `body`
            Reset, // reset the connection in the middle of the body (either direction)
            Stall, // GET: send the headers and half the body; PUT: read the body; then stay silent
            Truncated, // GET: announce the whole length, send half, close the connection
            Longer, // GET: send more bytes than Content-Length announces
            Raw, // send `body` as is and close the connection
        };
        Type type = Status;
        int status = 200;
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;

        static Fault answer(int status, const QByteArray &body = {},
                            const QList<std::pair<QByteArray, QByteArray>> &headers = {})
        {
            return Fault {Status, status, headers, body};
        }
        static Fault of(Type type, const QByteArray &raw = {}) { return Fault {type, 0, {}, raw}; }
    };

    struct Request
    {
        QByteArray method;
        QString path; // decoded
        QHash<QByteArray, QByteArray> headers; // lower-case names
        qint64 bodySize = 0;
    };

    explicit FaultServer(QObject *parent = nullptr);
    ~FaultServer() override;

    bool listen();
    QUrl url() const; // http://127.0.0.1:PORT/

    // The next `count` requests with `method` get `fault`.
    void addFault(const QByteArray &method, const Fault &fault, int count = 1);
    int pendingFaults() const;

    // When set, requests without "Authorization: Bearer <token>" get a 401.
    void setRequiredToken(const QByteArray &token) { m_requiredToken = token; }

    QHash<QString, QByteArray> &objects() { return m_objects; }
    const QList<Request> &requests() const { return m_requests; }
    // Every byte that arrived, over all connections, in order of arrival.
    const QByteArray &received() const { return m_received; }
    int connectionCount() const { return m_connectionCount; }
    int requestCount(const QByteArray &method) const;
    // The ETag the server sends for an object with these bytes.
    static QByteArray etagOf(const QByteArray &object);

Q_SIGNALS:
    void requestReceived(const QByteArray &method, const QString &path);

private:
    struct Connection
    {
        QTcpSocket *socket = nullptr;
        QByteArray buffer;
        bool headerDone = false;
        Request request;
        qint64 contentLength = 0;
        QByteArray body;
        bool hasFault = false;
        Fault fault;
        bool silent = false; // stalled on purpose: ignore everything
    };

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void handle(Connection &c);
    void respond(Connection &c);
    void send(QTcpSocket *socket, int status, const QByteArray &body,
              const QList<std::pair<QByteArray, QByteArray>> &headers = {}, bool headOnly = false);
    static void resetConnection(QTcpSocket *socket);

    QTcpServer *m_server;
    QHash<QTcpSocket *, Connection> m_connections;
    QHash<QByteArray, QQueue<Fault>> m_faults;
    QHash<QString, QByteArray> m_objects;
    QList<Request> m_requests;
    QByteArray m_requiredToken;
    QByteArray m_received;
    int m_connectionCount = 0;
};

#endif // FAULTSERVER_H
