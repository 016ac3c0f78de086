// How a download's body reaches its sink and how the no-progress timeout
// counts, against a server on 127.0.0.1 that sends a body in timed pieces.

#include <qattachmenterror.h>
#include <qhttptransfer_p.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>

using Kind = QAttachmentTransfer::Kind;
using Code = QAttachmentError::Code;

namespace {

// Answers every GET with `body`, announced whole, sent in `pieces` pieces
// `intervalMs` apart; after `sentPieces` pieces (when set) it stays silent.
class DripServer : public QObject
{
public:
    QByteArray body;
    int pieces = 1;
    int intervalMs = 0;
    int sentPieces = -1;

    bool listen()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                serve(socket);
        });
        return m_server.listen(QHostAddress::LocalHost);
    }
    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/%2").arg(m_server.serverPort()).arg(path));
    }

private:
    void serve(QTcpSocket *socket)
    {
        socket->setParent(this);
        auto head = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, head] {
            if (head->endsWith("\r\n\r\n"))
                return;
            head->append(socket->readAll());
            if (!head->contains("\r\n\r\n"))
                return;
            *head = "\r\n\r\n";
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size())
                          + "\r\nETag: \"drip\"\r\n\r\n");
            sendPiece(socket, 0);
        });
    }
    void sendPiece(QPointer<QTcpSocket> socket, int index)
    {
        if (!socket || index >= pieces || (sentPieces >= 0 && index >= sentPieces))
            return;
        const qsizetype size = (body.size() + pieces - 1) / pieces;
        socket->write(body.mid(index * size, size));
        socket->flush();
        QTimer::singleShot(intervalMs, this,
                           [this, socket, index] { sendPiece(socket, index + 1); });
    }

    QTcpServer m_server;
};

// Counts the writes that reach it.
class CountingBuffer : public QBuffer
{
public:
    int writes = 0;

protected:
    qint64 writeData(const char *data, qint64 length) override
    {
        ++writes;
        return QBuffer::writeData(data, length);
    }
};

} // namespace

class tst_HttpSmallDownload : public QObject
{
    Q_OBJECT

    QNetworkAccessManager m_manager;
    std::unique_ptr<DripServer> m_server;

    std::unique_ptr<QHttpTransfer> download(QIODevice *sink, int timeoutMs, int waitMs = 20000)
    {
        QHttpTransfer::Request request;
        request.request.setUrl(m_server->url(QStringLiteral("file.bin")));
        request.sink = sink;
        request.transferTimeoutMs = timeoutMs;
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Download, &m_manager);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(request);
        if (!finished.wait(waitMs))
            qWarning("the download did not finish");
        return transfer;
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<DripServer>();
        QVERIFY(m_server->listen());
    }
    void cleanup() { m_server.reset(); }

    // A larger body is written as it comes: memory holds pieces, not the file.
    void largerBodyIsWrittenAsItComes()
    {
        m_server->body = TestSupport::randomBytes(1024 * 1024, 8);
        m_server->pieces = 8;
        m_server->intervalMs = 30;
        CountingBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        auto transfer = download(&sink, 5000);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), m_server->body);
        QVERIFY2(sink.writes >= 4, qPrintable(QString::number(sink.writes)));
    }

    // Progress keeps a download going however long it takes in all.
    void progressKeepsASlowDownloadAlive()
    {
        m_server->body = TestSupport::randomBytes(20 * 1024, 9);
        m_server->pieces = 12;
        m_server->intervalMs = 100; // 1.2 s in all, 0.1 s between pieces
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QElapsedTimer clock;
        clock.start();
        auto transfer = download(&sink, 500);
        QVERIFY2(!transfer->error().isError(), qPrintable(transfer->error().message()));
        QVERIFY(clock.elapsed() >= 1000); // longer than the timeout, in pieces
        QCOMPARE(sink.data(), m_server->body);
    }

    // A server that stops sending ends the download as a timeout, and what
    // arrived before reaches the sink, for a later resume.
    void silenceTimesOut()
    {
        m_server->body = TestSupport::randomBytes(20 * 1024, 10);
        m_server->pieces = 10;
        m_server->intervalMs = 50;
        m_server->sentPieces = 3;
        QBuffer sink;
        QVERIFY(sink.open(QIODevice::ReadWrite));
        QElapsedTimer clock;
        clock.start();
        auto transfer = download(&sink, 400);
        QCOMPARE(transfer->error().code(), Code::Timeout);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("no progress")),
                 qPrintable(transfer->error().message()));
        QCOMPARE(sink.data(), m_server->body.left(3 * 2048));
        // Not before the timeout after the last piece.
        QVERIFY2(clock.elapsed() >= 2 * 50 + 400, qPrintable(QString::number(clock.elapsed())));
    }
};

QTEST_GUILESS_MAIN(tst_HttpSmallDownload)
#include "tst_httpsmalldownload.moc"
