#ifndef CONNECTION_H
#define CONNECTION_H

#include "fileserver.h"
#include "httpfields.h"
#include "httprequestparser.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qobject.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qhostaddress.h>

#include <memory>

class QFile;
class QTcpSocket;
class UploadFile;

// One client connection: reads its requests one after the other with the
// strict parser, answers them in order, streams bodies both ways through
// fixed-size buffers, and ends it when a limit or a timeout is reached.
// Owned by its socket; tells the server when it ends.
class Connection : public QObject
{
    Q_OBJECT

public:
    Connection(FileServer *server, QTcpSocket *socket, const QHostAddress &client);
    ~Connection() override;

private:
    using Headers = HttpFields::Headers;
    enum class State { Head, Body, Streaming, Closing };
    enum class Sink { Discard, File };

    void closed();
    void drive();
    void nextTurn();
    bool fillInput();
    void readHead();
    void handleRequest();
    void keepBodyOnlyIfSmall();
    void refuse(int status, const QByteArray &message, Headers headers = {});

    void serveFile(bool withBody);
    void storeFile();
    static QByteArray tooLargeMessage(qint64 limit);
    void readBody();
    bool take(const char *data, qsizetype length);
    void failBody(int status, const QByteArray &message);
    void bodyDone();
    void finishUpload();
    void removeFile();

    void respondError(int status, const QByteArray &message, Headers headers = {});
    void respond(int status, const Headers &headers, const QByteArray &body);
    void writeHead(int status, const Headers &headers, qint64 contentLength);
    void endResponse();
    bool pump();

    void enterClosing();
    void dropInput();
    void shutdownWhenSent();
    void abortConnection(const QByteArray &why);
    void armTimer();
    void checkTimeouts();
    void timeOut(const QByteArray &message);

    FileServer *m_server;
    QTcpSocket *m_socket;
    QHostAddress m_client;
    const ServerLimits m_limits;
    HttpRequestParser m_parser;
    HttpRequestHead m_request;
    HttpChunkedDecoder m_decoder;
    State m_state = State::Head;
    Sink m_sink = Sink::Discard;
    QTimer m_timer;
    QElapsedTimer m_lastProgress;
    QElapsedTimer m_headStarted;
    QElapsedTimer m_closingSince;

    QByteArray m_in; // what was read from the socket, from m_inPos to m_inEnd unused
    qsizetype m_inPos = 0;
    qsizetype m_inEnd = 0;

    QByteArray m_method; // of the current request, for the log and HEAD
    QByteArray m_target;
    int m_requests = 0;
    bool m_close = false; // after the current response
    bool m_bodyPending = false;
    qint64 m_bodyRemaining = 0;
    qint64 m_received = 0;
    std::unique_ptr<UploadFile> m_upload;

    std::unique_ptr<QFile> m_file; // of the response being streamed
    QByteArray m_buffer;
    qint64 m_remaining = 0;

    bool m_driving = false;
    bool m_turnPending = false;
    bool m_shutDown = false;
};

#endif // CONNECTION_H
