// The streamed HTTP/2 upload (prior knowledge, http://) against a peer on
// 127.0.0.1 that speaks just enough HTTP/2 to misbehave: silent, refusing,
// starving the flow-control window, closing, answering before the body
// arrived. Each ends the transfer once, with the error that names it.

#include "http2testframes.h"

#include <qhttptransfer_p.h>

#include <QtCore/qbuffer.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qtcpserver.h>
#include <QtNetwork/qtcpsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

namespace {

using Kind = QAttachmentTransfer::Kind;

// Answers every connection, once its first bytes arrive, with `reply`, and
// closes it after when `close` is set.
class ScriptedPeer : public QObject
{
public:
    QByteArray reply;
    bool close = false;
    int connections = 0;
    qint64 received = 0;

    bool listen()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++connections;
                auto answered = std::make_shared<bool>(false);
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket, answered] {
                    received += socket->readAll().size();
                    if (std::exchange(*answered, true))
                        return;
                    socket->write(reply);
                    if (close)
                        socket->disconnectFromHost();
                });
            }
        });
        return m_server.listen(QHostAddress::LocalHost);
    }
    QUrl url() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/up/file.bin").arg(m_server.serverPort()));
    }

private:
    QTcpServer m_server;
};

} // namespace

class tst_Http2Faults : public QObject
{
    Q_OBJECT

private:
    // Uploads 3 MiB to `peer` over the streamed HTTP/2 path and waits for the end.
    std::unique_ptr<QHttpTransfer> upload(ScriptedPeer &peer, int timeoutMs, int *finishedCount)
    {
        m_body.close();
        m_body.setData(QByteArray(3 * 1024 * 1024, 'u'));
        m_body.open(QIODevice::ReadOnly);
        QHttpTransfer::Request request;
        request.request.setUrl(peer.url());
        request.method = "PUT";
        request.body = &m_body;
        request.transferTimeoutMs = timeoutMs;
        auto transfer = std::make_unique<QHttpTransfer>(Kind::Upload, &m_manager);
        transfer->setHttp2PriorKnowledge(true);
        transfer->setStreamThreshold(1024 * 1024);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        m_mostSent = 0;
        connect(transfer.get(), &QAttachmentTransfer::progress, this,
                [this](qint64 done) { m_mostSent = qMax(m_mostSent, done); });
        transfer->start(request);
        if (!finished.wait(20000))
            qWarning("upload did not finish");
        QTest::qWait(50); // a second end would show here
        *finishedCount = int(finished.count());
        return transfer;
    }

    QNetworkAccessManager m_manager;
    QBuffer m_body;
    qint64 m_mostSent = 0; // the largest progress reported

private Q_SLOTS:
    void silentPeerTimesOut()
    {
        ScriptedPeer peer;
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 300, &ends);
        QCOMPARE(ends, 1);
        QVERIFY(transfer->isStreamed());
        QCOMPARE(transfer->error().code(), QAttachmentError::Timeout);
        // The preface, SETTINGS and the header block went out, and the body
        // up to the default window of 65,535 bytes at most.
        QVERIFY(peer.received > 24 && peer.received < 70000);
    }

    // A server that never opens its window again: the body stops there,
    // and the no-progress timeout ends it.
    void starvedWindowTimesOut()
    {
        ScriptedPeer peer;
        peer.reply = frame(0x4, 0, 0, QByteArray::fromHex("000400000000")); // window 0
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 400, &ends);
        QCOMPARE(ends, 1);
        QCOMPARE(transfer->error().code(), QAttachmentError::Timeout);
        // No more than the connection's first window went out, or was said to.
        QVERIFY(peer.received < 70000);
        QVERIFY2(m_mostSent > 0 && m_mostSent <= 65535, QByteArray::number(m_mostSent));
    }

    // A GOAWAY that leaves the stream out: sent once more on a new
    // connection at once, then failed as a network error naming it.
    void refusedRequestIsSentOnceMore()
    {
        ScriptedPeer peer;
        peer.reply = frame(0x4, 0, 0, {}) + frame(0x7, 0, 0, u32(0) + u32(0) + "maintenance");
        peer.close = true;
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 5000, &ends);
        QCOMPARE(ends, 1);
        QCOMPARE(peer.connections, 2);
        QCOMPARE(transfer->error().code(), QAttachmentError::NetworkError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("GOAWAY NO_ERROR")),
                 qPrintable(transfer->error().message()));
        QVERIFY(transfer->error().message().contains(QStringLiteral("maintenance")));
    }

    void closedAfterSettingsIsANetworkError()
    {
        ScriptedPeer peer;
        peer.reply = frame(0x4, 0, 0, {});
        peer.close = true;
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 5000, &ends);
        QCOMPARE(ends, 1);
        QCOMPARE(peer.connections, 1);
        QCOMPARE(transfer->error().code(), QAttachmentError::NetworkError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("without a valid HTTP")),
                 qPrintable(transfer->error().message()));
    }

    // A success for a body the server cannot have read cannot be trusted.
    void successBeforeTheBodyIsAProtocolError()
    {
        ScriptedPeer peer;
        peer.reply = frame(0x4, 0, 0, {}) + frame(0x1, 0x5, 1, QByteArray(1, char(0x88)));
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 5000, &ends);
        QCOMPARE(ends, 1);
        QCOMPARE(transfer->error().code(), QAttachmentError::ProtocolError);
        QCOMPARE(transfer->error().httpStatus(), 200);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("before the whole request")),
                 qPrintable(transfer->error().message()));
    }

    // A hostile frame fails the upload as a protocol breach, here one larger
    // than this side allows.
    void oversizedFrameFails()
    {
        ScriptedPeer peer;
        peer.reply = frame(0x4, 0, 0, {}) + frame(0x0, 0, 1, QByteArray(20000, 'x'));
        QVERIFY(peer.listen());
        int ends = 0;
        const auto transfer = upload(peer, 5000, &ends);
        QCOMPARE(ends, 1);
        QCOMPARE(transfer->error().code(), QAttachmentError::NetworkError);
        QVERIFY2(transfer->error().message().contains(QStringLiteral("over the 16384 allowed")),
                 qPrintable(transfer->error().message()));
    }
};

QTEST_MAIN(tst_Http2Faults)
#include "tst_http2faults.moc"
