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
