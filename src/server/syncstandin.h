#ifndef SYNCSTANDIN_H
#define SYNCSTANDIN_H

#include <QtCore/qjsonobject.h>
#include <QtCore/qlist.h>
#include <QtCore/qmap.h>
#include <QtCore/qobject.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qthread.h>
#include <QtCore/qvariant.h>

class QTcpServer;
class QTcpSocket;

// A stand-in for a PowerSync Service, for tests: serves the sync protocol as
// documented (NDJSON over HTTP/1.1 on 127.0.0.1) from an in-memory list of
// operations in one bucket, on a thread of its own so that producing large
// streams does not hold up the client under test.
//
//   POST /sync/stream            checkpoint, data, checkpoint_complete; then
//                                checkpoint_diff ... for every change while open
//   GET  /write-checkpoint2.json {"data":{"write_checkpoint":"N"}}
//   POST /upload                 {"entries":[{"op","type","id","data"}]}: applied
//                                as the app's backend would, then replicated
//
// Every request needs `Authorization: Token <a valid token>`.
class SyncStandIn : public QObject
{
    Q_OBJECT

public:
    SyncStandIn();
    ~SyncStandIn() override;

    bool start();
    quint16 port() const { return m_port; }
    QString endpoint() const;

    // Data, as the backend database has it (all thread-safe).
    void put(const QString &type, const QString &id, const QJsonObject &data);
    void putMany(const QString &type, int count, const QString &idPrefix);
    void remove(const QString &type, const QString &id);

    // Tokens accepted; issueToken() makes a new valid one.
    QString issueToken();
    void revokeTokens();
    // Faults for the next streams.
    void corruptNextChecksum();
    void cutNextStreamAfterLines(int lines);
    void failNextStreams(int status, int count);
    void sendTokenExpiresIn(int seconds);
    // Closes every open stream.
    void closeStreams();

    struct Request
    {
        QByteArray method;
        QByteArray path;
        QMap<QByteArray, QByteArray> headers;
        QByteArray body;
        int status = 0;
    };
    QList<Request> requests() const;
    int count(const QByteArray &path, int status = 0) const;
    int openStreams() const;
    QList<QJsonObject> uploadedEntries() const;
    int lastOpId() const;

private:
    struct Op
    {
        qint64 opId;
        QString op;
        QString type;
        QString id;
        QString data;
        quint32 checksum;
    };
    struct Stream
    {
        QTcpSocket *socket;
        qint64 sentOp = 0;
        QString clientId;
        qint64 sentWriteCheckpoint = 0;
    };

    template<typename F>
    auto call(F f) const;
    void onConnection();
    void onReadable(QTcpSocket *socket);
    void handle(QTcpSocket *socket, Request request);
    void reply(QTcpSocket *socket, int status, const QByteArray &body,
               const QByteArray &type = "application/json");
    void startStream(QTcpSocket *socket, const Request &request);
    void sendLine(Stream &stream, const QByteArray &line);
    void sendUpdates(Stream &stream, bool full, qint64 after);
    void broadcast();
    void addOp(const QString &op, const QString &type, const QString &id, const QString &data);
    quint32 bucketChecksum() const;

    QThread m_thread;
    QTcpServer *m_server = nullptr;
    quint16 m_port = 0;
    QList<Op> m_ops;
    qint64 m_nextOp = 1;
    QMap<QString, QMap<QString, QString>> m_rows; // type -> id -> data (JSON text)
    QStringList m_tokens;
    int m_tokenCounter = 0;
    bool m_corrupt = false;
    int m_cutAfterLines = -1;
    int m_failStatus = 0;
    int m_failCount = 0;
    QList<Stream> m_streams;
    QMap<QTcpSocket *, QByteArray> m_buffers;
    QList<Request> m_requests;
    QList<QJsonObject> m_uploaded;
    QMap<QString, qint64> m_writeCheckpoints; // client id -> last issued
};

#endif // SYNCSTANDIN_H
