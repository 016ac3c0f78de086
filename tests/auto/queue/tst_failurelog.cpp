// What a failing transfer puts on the console: the first failure of an
// attachment and each change of its error, at warning level, with the
// operation, the id and the host, never the query; repeats are quiet and
// bursts are rate-limited.

#include "qattachmentstatustracker_p.h"

#include <faultserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <qwatchedattachmentitem.h>
#include <testsupport.h>

#include <QtCore/qloggingcategory.h>
#include <QtCore/qmutex.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

namespace {

// Collects the warnings of powersync.attachments.transfer.
class WarningCapture
{
public:
    WarningCapture()
    {
        s_self = this;
        m_previous = qInstallMessageHandler(&WarningCapture::handler);
    }
    ~WarningCapture()
    {
        qInstallMessageHandler(m_previous);
        s_self = nullptr;
    }
    QStringList lines() const
    {
        QMutexLocker lock(&m_mutex);
        return m_lines;
    }

private:
    static void handler(QtMsgType type, const QMessageLogContext &context, const QString &text)
    {
        if (s_self && type == QtWarningMsg && context.category
            && qstrcmp(context.category, "powersync.attachments.transfer") == 0) {
            QMutexLocker lock(&s_self->m_mutex);
            s_self->m_lines << text;
            return;
        }
        if (s_self && s_self->m_previous)
            s_self->m_previous(type, context, text);
    }

    static WarningCapture *s_self;
    QtMessageHandler m_previous = nullptr;
    mutable QMutex m_mutex;
    QStringList m_lines;
};

WarningCapture *WarningCapture::s_self = nullptr;

} // namespace

class tst_FailureLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.reset(new QTemporaryDir);
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
    }
    void cleanup()
    {
        TestSupport::closeDatabase(m_connection);
        m_dir.reset();
    }

    void firstFailureAndChangedErrorAreLogged()
    {
        FaultServer server;
        QVERIFY(server.listen());
        server.setRequiredToken("right-token");
        QHttpRemoteStorage remote;
        QUrl base = server.url();
        base.setPath(QStringLiteral("/files/"));
        remote.setBaseUrl(base);
        remote.setHeaders({{QStringLiteral("Authorization"), QStringLiteral("Bearer wrong")}});

        QAttachmentQueue queue;
        queue.setConnectionName(m_connection);
        queue.setLocalDirectory(m_dir->path() + QStringLiteral("/files"));
        queue.setRemoteStorage(&remote);
        queue.setSyncInterval(0);
        queue.setRetryDelay(20);
        queue.setMaxRetryDelay(40);

        WarningCapture capture;
        QSignalSpy failures(&queue, &QAttachmentQueue::transferFailed);
        const QAttachment saved = queue.saveFile(QByteArray("photo"), QStringLiteral("image/png"),
                                                 QStringLiteral("png"));
        QVERIFY(saved.isValid());
        queue.startSync();

        // Three attempts, all refused alike: one warning.
        PSA_WAIT(failures.size() >= 3, 10000);
        QStringList lines = capture.lines();
        QCOMPARE(lines.size(), 1);
        const QString hostPort = QStringLiteral("127.0.0.1:%1").arg(server.url().port());
        const QString line = lines.first();
        QVERIFY2(line.startsWith(QStringLiteral("upload of attachment \"%1\"").arg(saved.id())),
                 qPrintable(line));
        QVERIFY2(line.contains(QStringLiteral("(host %1)").arg(hostPort)), qPrintable(line));
        QVERIFY2(line.contains(QStringLiteral("will retry")), qPrintable(line));
        QVERIFY2(line.contains(QStringLiteral("Unauthorized")), qPrintable(line));
        // The error text itself names the host too, and nothing of the path.
        QVERIFY2(line.contains(QStringLiteral("HTTP 401 Unauthorized from %1").arg(hostPort)),
                 qPrintable(line));
        QVERIFY2(!line.contains(QStringLiteral("/files/")), qPrintable(line));

        // Another error: said once more.
        server.setRequiredToken({});
        server.addFault("PUT", FaultServer::Fault::answer(507, "disk full"), 1000);
        PSA_WAIT(capture.lines().size() >= 2, 10000);
        const int before = int(failures.size());
        PSA_WAIT(failures.size() >= before + 2, 10000);
        lines = capture.lines();
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines.at(1).contains(QStringLiteral("HTTP 507")), qPrintable(lines.at(1)));
        QVERIFY2(lines.at(1).contains(QStringLiteral("disk full")), qPrintable(lines.at(1)));
        queue.stopSyncing();
    }

    void protocolErrorsNameTheHost()
    {
        FaultServer server;
        QVERIFY(server.listen());
        server.addFault(
            "GET",
            FaultServer::Fault::of(FaultServer::Fault::Raw,
                                   "HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\njunk"));
        QHttpRemoteStorage remote;
        QUrl base = server.url();
        base.setPath(QStringLiteral("/files/"));
        remote.setBaseUrl(base);
        QAttachmentQueue queue;
        queue.setConnectionName(m_connection);
        queue.setLocalDirectory(m_dir->path() + QStringLiteral("/files"));
        queue.setRemoteStorage(&remote);
        queue.setSyncInterval(0);
        queue.setRetryDelay(60000);
        QSignalSpy failures(&queue, &QAttachmentQueue::transferFailed);
        queue.startSync();
        queue.setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("x"), QStringLiteral("bin"))});
        PSA_WAIT(!failures.isEmpty(), 10000);
        const QAttachmentError error = failures.first().at(2).value<QAttachmentError>();
        QCOMPARE(error.code(), QAttachmentError::ProtocolError);
        QVERIFY2(
            error.message().startsWith(QStringLiteral("127.0.0.1:%1: ").arg(server.url().port())),
            qPrintable(error.message()));
        QVERIFY2(!error.message().contains(QStringLiteral("/files/")), qPrintable(error.message()));
        queue.stopSyncing();
    }

    void warningsAreRateLimited()
    {
        QAttachmentQueue queue;
        QAttachmentStatusTracker tracker(&queue);
        tracker.setWarningWindow(300);
        WarningCapture capture;
        const QAttachmentError error(QAttachmentError::NetworkError,
                                     QStringLiteral("connection refused"));
        const int burst = QAttachmentStatusTracker::WarningBurst;
        for (int i = 0; i < burst + 5; ++i)
            tracker.failed(QStringLiteral("id%1").arg(i), QAttachmentTransfer::Download, error,
                           true);
        QCOMPARE(capture.lines().size(), burst);
        QVERIFY(
            capture.lines().first().startsWith(QStringLiteral("download of attachment \"id0\"")));
        // When the window ends, one line sums up what was left out.
        PSA_WAIT(capture.lines().size() == burst + 1, 5000);
        QVERIFY2(capture.lines().last().startsWith(QStringLiteral("5 more transfer failures")),
                 qPrintable(capture.lines().last()));
    }

    void controlCharactersFromTheServerAreNotPrinted()
    {
        QAttachmentQueue queue;
        QAttachmentStatusTracker tracker(&queue);
        WarningCapture capture;
        tracker.failed(QStringLiteral("a"), QAttachmentTransfer::Download,
                       QAttachmentError(QAttachmentError::ServerError,
                                        QStringLiteral("bad\x1b[2Jthing\r\nforged line")
                                            + QString(2000, QLatin1Char('x'))),
                       false);
        QCOMPARE(capture.lines().size(), 1);
        const QString line = capture.lines().first();
        QVERIFY(!line.contains(QLatin1Char('\x1b')));
        QVERIFY(!line.contains(QLatin1Char('\n')));
        QVERIFY(line.contains(QStringLiteral("given up")));
        QVERIFY(line.size() < QAttachmentStatusTracker::LoggedMessageLimit + 200);
    }

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_connection;
};

QTEST_GUILESS_MAIN(tst_FailureLog)
#include "tst_failurelog.moc"
