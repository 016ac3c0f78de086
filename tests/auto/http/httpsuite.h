// What the HTTP test suites share: small helpers and the fixture of the
// suites that run against the fault server.

#ifndef HTTPSUITE_H
#define HTTPSUITE_H

#include <faultserver.h>
#include <nginxserver.h>
#include <onewaystream.h>
#include <qattachmentqueue.h>
#include <qattachmentremotestorage.h>
#include <qhttpremotestorage.h>
#include <qhttptransfer_p.h>
#include <qpresignedremotestorage.h>
#include <resumecheck.h>
#include <temporarydatabase.h>
#include <testcertificate.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstandardpaths.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslkey.h>
#include <QtNetwork/qsslserver.h>
#include <QtNetwork/qsslsocket.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <functional>
#include <memory>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;
using Fault = FaultServer::Fault;
using Code = QAttachmentError::Code;

// Marks the bytes in `sink` as belonging to the version `validator` names.
inline void setValidator(QIODevice &sink, const QByteArray &validator)
{
    sink.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, validator);
}
inline QByteArray validatorOf(const QIODevice &sink)
{
    return sink.property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
}

using TestSupport::readFile;

inline QAttachment attachmentNamed(const QString &id, const QString &filename,
                                   const QString &mediaType = {})
{
    QAttachment attachment(id, filename);
    attachment.setMediaType(mediaType);
    return attachment;
}

// Runs `onRewind` once, the first time the device is sent back to its start.
class RewindHookBuffer : public QBuffer
{
public:
    std::function<void()> onRewind;

    bool seek(qint64 pos) override
    {
        if (pos == 0 && onRewind)
            std::exchange(onRewind, {})();
        return QBuffer::seek(pos);
    }
};

// A TLS server on 127.0.0.1 that takes PUT requests (a head with a
// Content-Length, then that many bytes) on kept-alive connections and
// answers each with "201 Created" as soon as its body is in.
class TlsPutSink : public QObject
{
public:
    explicit TlsPutSink(const QSslConfiguration &configuration)
    {
        m_server.setSslConfiguration(configuration);
        connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (auto *socket = qobject_cast<QSslSocket *>(m_server.nextPendingConnection()))
                serve(socket);
        });
    }

    // Listens on a free port of 127.0.0.1.
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("https://127.0.0.1:%1/%2").arg(m_server.serverPort()).arg(path));
    }

    // Connections accepted, request heads read, and the bodies received in order.
    int connections = 0;
    int requests = 0;
    QList<QByteArray> received;

private:
    void serve(QSslSocket *socket)
    {
        ++connections;
        auto buffer = std::make_shared<QByteArray>();
        auto expected = std::make_shared<qint64>(-1);
        connect(socket, &QSslSocket::readyRead, socket, [this, socket, buffer, expected] {
            buffer->append(socket->readAll());
            for (;;) {
                if (*expected < 0) {
                    const qsizetype end = buffer->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QByteArray head = buffer->left(end).toLower();
                    const qsizetype at = head.indexOf("content-length: ");
                    *expected = at < 0
                        ? 0
                        : head.mid(at + 16, head.indexOf('\r', at) - at - 16).toLongLong();
                    buffer->remove(0, end + 4);
                    ++requests;
                }
                if (buffer->size() < *expected)
                    return;
                received.append(buffer->left(*expected));
                buffer->remove(0, *expected);
                *expected = -1;
                socket->write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
            }
        });
        connect(socket, &QSslSocket::disconnected, socket, &QObject::deleteLater);
    }

    QSslServer m_server;
};

// The fault server of the suites that use one, listening afresh for each
// test function, and one exchange run to its end.
class FaultServerSuite : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FaultServer>();
        QVERIFY(m_server->listen());
    }
    void cleanup() { m_server.reset(); }

protected:
    QNetworkAccessManager m_manager;
    std::unique_ptr<FaultServer> m_server;

    // Runs one exchange to its end.
    std::unique_ptr<QHttpTransfer> exchange(Kind kind, const QHttpTransfer::Request &request)
    {
        auto transfer = std::make_unique<QHttpTransfer>(kind, &m_manager);
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        transfer->start(request);
        if (!finished.wait(10000))
            qWarning("exchange did not finish");
        if (finished.count() != 1)
            qWarning("finished %d times", int(finished.count()));
        return transfer;
    }
    QHttpTransfer::Request get(const QString &path, QIODevice *sink = nullptr)
    {
        QHttpTransfer::Request request;
        request.request.setUrl(m_server->url().resolved(QUrl(path)));
        request.sink = sink;
        request.resumeFrom = sink ? sink->pos() : 0;
        request.transferTimeoutMs = 2000;
        return request;
    }
};

#endif // HTTPSUITE_H
