// The queue through QHttpRemoteStorage against a server that breaks its
// answers on purpose: every fault must fail the attempt with a clear error,
// leave no half file under its final name and no row synced too early, and
// the attachment must sync once the server behaves again.

#include <faultserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <testsupport.h>

#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;
using Fault = FaultServer::Fault;
using Code = QAttachmentError::Code;

Q_DECLARE_METATYPE(FaultServer::Fault)

namespace {

struct Failure
{
    QString id;
    Kind kind;
    QAttachmentError error;
    bool willRetry;
};

QByteArray hugeHeaderResponse()
{
    return "HTTP/1.1 200 OK\r\nX-Padding: " + QByteArray(2 * 1024 * 1024, 'a')
        + "\r\nContent-Length: 4\r\n\r\njunk";
}

} // namespace

class tst_HttpFaults : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir *m_dir = nullptr;
    QString m_connection;
    FaultServer *m_server = nullptr;
    QHttpRemoteStorage *m_remote = nullptr;
    QAttachmentQueue *m_queue = nullptr;
    QList<Failure> m_failures;
    // Set when a row was seen synced while its file was incomplete somewhere.
    QStringList m_violations;
    QHash<QString, QByteArray> m_expected; // id → the bytes that must end up on both sides

    QString filesDir() const { return m_dir->path() + QStringLiteral("/files"); }
    QString localPath(const QString &filename) const
    {
        return filesDir() + QLatin1Char('/') + filename;
    }
    QByteArray localBytes(const QString &filename) const
    {
        QFile file(localPath(filename));
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }
    State stateOf(const QString &id) const { return m_queue->attachment(id).state(); }

    void checkConsistency(const QAttachment &attachment)
    {
        const auto expected = m_expected.constFind(attachment.id());
        if (expected == m_expected.constEnd())
            return;
        // A file under its final name is always complete.
        if (QFile::exists(localPath(attachment.filename()))
            && localBytes(attachment.filename()) != *expected)
            m_violations << QStringLiteral("incomplete local file %1").arg(attachment.filename());
        if (attachment.state() == State::Synced) {
            if (m_server->objects().value(QLatin1Char('/') + attachment.filename()) != *expected)
                m_violations
                    << QStringLiteral("%1 synced without its remote object").arg(attachment.id());
            if (localBytes(attachment.filename()) != *expected)
                m_violations
                    << QStringLiteral("%1 synced without its local file").arg(attachment.id());
        }
    }

    // A row, synced only in the server, that the queue is asked to download.
    QString watchRemoteOnly(const QByteArray &bytes)
    {
        const QString id = QStringLiteral("remote-%1").arg(m_expected.size());
        m_server->objects().insert(QLatin1Char('/') + id + QStringLiteral(".bin"), bytes);
        m_expected.insert(id, bytes);
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("bin"))});
        return id;
    }

    QString saveLocal(const QByteArray &bytes)
    {
        QString error;
        const QAttachment saved
            = m_queue->saveFile(bytes, QStringLiteral("application/octet-stream"),
                                QStringLiteral("bin"), {}, {}, &error);
        if (!saved.isValid())
            qFatal("saveFile failed: %s", qPrintable(error));
        m_expected.insert(saved.id(), bytes);
        m_queue->setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("bin"))});
        return saved.id();
    }

private Q_SLOTS:
    void init()
    {
        m_dir = new QTemporaryDir;
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
        m_server = new FaultServer;
        QVERIFY(m_server->listen());
        m_remote = new QHttpRemoteStorage;
        m_remote->setBaseUrl(m_server->url());
        // Short, so that stalls end quickly; long enough for a loaded machine.
        m_remote->setTransferTimeout(1000);
        m_queue = new QAttachmentQueue;
        m_queue->setConnectionName(m_connection);
        m_queue->setLocalDirectory(filesDir());
        m_queue->setRemoteStorage(m_remote);
        m_queue->setSyncInterval(0);
        m_queue->setRetryDelay(20);
        m_queue->setMaxRetryDelay(100);
        m_failures.clear();
        m_violations.clear();
        m_expected.clear();
        connect(m_queue, &QAttachmentQueue::transferFailed, this,
                [this](const QString &id, Kind kind, const QAttachmentError &error, bool retry) {
                    m_failures.append({id, kind, error, retry});
                    const QAttachment row = m_queue->attachment(id);
                    QVERIFY(row.state() != State::Synced);
                    checkConsistency(row);
                });
        connect(m_queue, &QAttachmentQueue::attachmentChanged, this,
                [this](const QAttachment &row) { checkConsistency(row); });
        QVERIFY(m_queue->startSync());
    }
    void cleanup()
    {
        delete m_queue;
        m_queue = nullptr;
        delete m_remote;
        m_remote = nullptr;
        delete m_server;
        m_server = nullptr;
        TestSupport::closeDatabase(m_connection);
        delete m_dir;
        m_dir = nullptr;
    }

    // Every fault on both paths of a download from http://: the storage's
    // own HTTP/1.1 reader (streamingDownloads, the default) and the manager.
    void downloadFaults_data()
    {
        QTest::addColumn<Fault>("fault");
        QTest::addColumn<int>("expectedCode");
        QTest::addColumn<QString>("messagePart");
        // Qt itself sends a request again once after some connection failures.
        QTest::addColumn<int>("count");
        QTest::addColumn<bool>("throughManager");
        const auto row = [](const char *name, const Fault &fault, int code, const QString &part,
                            int count, const QString &managerPart = QString()) {
            QTest::addRow("%s", name) << fault << code << part << count << false;
            QTest::addRow("%s, manager", name)
                << fault << code << (managerPart.isNull() ? part : managerPart) << count << true;
        };

        row("reset mid-body", Fault::of(Fault::Reset), int(Code::ProtocolError),
            QStringLiteral("short body"), 1);
        row("stall", Fault::of(Fault::Stall), int(Code::Timeout), QStringLiteral("no progress"), 1);
        row("truncated body", Fault::of(Fault::Truncated), int(Code::ProtocolError),
            QStringLiteral("short body"), 1);
        row("500", Fault::answer(500, "disk on fire"), int(Code::ServerError),
            QStringLiteral("disk on fire"), 1);
        row("503", Fault::answer(503), int(Code::ServerError), QStringLiteral("503"), 1);
        row("408", Fault::answer(408), int(Code::Timeout), QStringLiteral("408"), 1);
        row("non-HTTP response", Fault::of(Fault::Raw, "SSH-2.0-OpenSSH_9.2p1\r\n"),
            int(Code::NetworkError), QStringLiteral("without a valid HTTP response"), 4);
        row("malformed status line",
            Fault::of(Fault::Raw, "HTTP/1.1 OK maybe\r\nContent-Length: 4\r\n\r\njunk"),
            int(Code::NetworkError), QStringLiteral("without a valid HTTP response"), 4);
        row("malformed Content-Length",
            Fault::of(Fault::Raw, "HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\njunk"),
            int(Code::ProtocolError), QStringLiteral("Content-Length"), 1);
        // Refused with the line that broke the header block; the manager
        // drops the block and then finds a body without a length.
        row("malformed header line",
            Fault::of(Fault::Raw,
                      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nno colon here\r\n\r\njunk"),
            int(Code::ProtocolError), QStringLiteral("malformed header line"), 1,
            QStringLiteral("Content-Length"));
        row("body ended by closing",
            Fault::of(Fault::Raw, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\njunk"),
            int(Code::ProtocolError), QStringLiteral("Content-Length"), 1);
        // Qt 6.4 has no limit on the header block: it either waits for its end
        // until the transfer timeout, or drops the headers, leaving a body
        // without a length. Either way the attempt fails (-1: one of the two).
        // Qt takes seconds over this one on a loaded machine (up to 20 s seen
        // under parallel suites): the waits below allow 30 s. The storage's
        // own reader refuses a header block over 64 KiB.
        row("huge header", Fault::of(Fault::Raw, hugeHeaderResponse()), -1, QString(), 1);
    }
    void downloadFaults()
    {
        QFETCH(Fault, fault);
        QFETCH(int, expectedCode);
        QFETCH(QString, messagePart);
        QFETCH(int, count);
        QFETCH(bool, throughManager);

        m_remote->setStreamingDownloads(!throughManager);
        m_server->addFault("GET", fault, count);
        const QByteArray bytes = TestSupport::randomBytes(200 * 1024, 7);
        const QString id = watchRemoteOnly(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);

        QVERIFY(!m_failures.isEmpty());
        const Failure first = m_failures.first();
        QCOMPARE(first.id, id);
        QCOMPARE(first.kind, Kind::Download);
        const bool codeMatches = expectedCode >= 0
            ? first.error.code() == Code(expectedCode)
            : (first.error.code() == Code::Timeout || first.error.code() == Code::ProtocolError);
        QVERIFY2(codeMatches, qPrintable(QDebug::toString(first.error)));
        QVERIFY(!first.error.message().isEmpty());
        QVERIFY2(first.error.message().contains(messagePart, Qt::CaseInsensitive),
                 qPrintable(first.error.message()));
        QVERIFY(first.willRetry);
        QCOMPARE(m_server->pendingFaults(), 0);
        QCOMPARE(localBytes(id + QStringLiteral(".bin")), bytes);
        QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    }

    // Bytes after the announced length are not part of the response in HTTP/1.1
    // framing: Qt drops them with the connection, and the file holds exactly
    // the announced body.
    void downloadWithTrailingGarbage()
    {
        m_server->addFault("GET", Fault::of(Fault::Longer));
        const QByteArray bytes = TestSupport::randomBytes(100 * 1024, 13);
        const QString id = watchRemoteOnly(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);
        QCOMPARE(localBytes(id + QStringLiteral(".bin")), bytes);
        QCOMPARE(m_server->pendingFaults(), 0);
        QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    }

    // After a connection reset the next attempt asks only for what is missing.
    void downloadResumesWithRange()
    {
        m_server->addFault("GET", Fault::of(Fault::Reset));
        const QByteArray bytes = TestSupport::randomBytes(300 * 1024, 3);
        const QString id = watchRemoteOnly(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);
        QCOMPARE(localBytes(id + QStringLiteral(".bin")), bytes);
        const QList<FaultServer::Request> requests = m_server->requests();
        QCOMPARE(requests.size(), 2);
        QVERIFY(!requests.at(0).headers.contains("range"));
        // What arrived before the reset is kept; the reset may drop some of what was sent.
        const QByteArray range = requests.at(1).headers.value("range");
        QVERIFY2(range.startsWith("bytes=") && range.endsWith('-'), range.constData());
        const qint64 from = range.mid(6, range.size() - 7).toLongLong();
        QVERIFY2(from > 0 && from <= bytes.size() / 2, range.constData());
        QCOMPARE(requests.at(1).headers.value("accept-encoding"), "identity");
        // Only against the version the kept bytes came from.
        QCOMPARE(requests.at(1).headers.value("if-range"), FaultServer::etagOf(bytes));
        QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    }

    // The object is replaced between two attempts. The partial file keeps the
    // ETag of the first; this server ignores If-Range and sends the rest of
    // the new version, whose ETag differs: the download starts over from 0
    // instead of joining the two versions.
    void replacedBetweenAttemptsStartsOver()
    {
        m_server->addFault("GET", Fault::of(Fault::Reset));
        const QByteArray before = TestSupport::randomBytes(300 * 1024, 31);
        const QByteArray after = TestSupport::randomBytes(300 * 1024, 32);
        int gets = 0;
        QString id;
        connect(m_server, &FaultServer::requestReceived, this,
                [&](const QByteArray &method, const QString &path) {
                    if (method == "GET" && ++gets == 2) {
                        m_server->objects().insert(path, after);
                        m_expected.insert(id, after);
                    }
                });
        id = watchRemoteOnly(before);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);
        QCOMPARE(localBytes(id + QStringLiteral(".bin")), after);
        const QList<FaultServer::Request> requests = m_server->requests();
        QCOMPARE(requests.size(), 3);
        QCOMPARE(requests.at(1).headers.value("if-range"), FaultServer::etagOf(before));
        QVERIFY(requests.at(1).headers.contains("range"));
        QVERIFY(!requests.at(2).headers.contains("range"));
        QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    }

    void uploadFaults_data()
    {
        QTest::addColumn<Fault>("fault");
        QTest::addColumn<int>("expectedCode");
        QTest::addColumn<QString>("messagePart");
        // Qt itself sends a request again once after some connection failures.
        QTest::addColumn<int>("count");

        QTest::newRow("reset mid-body")
            << Fault::of(Fault::Reset) << int(Code::NetworkError) << QString() << 4;
        QTest::newRow("stall") << Fault::of(Fault::Stall) << int(Code::Timeout)
                               << QStringLiteral("no progress") << 1;
        QTest::newRow("500 then success")
            << Fault::answer(500, "try again later") << int(Code::ServerError)
            << QStringLiteral("try again later") << 1;
        QTest::newRow("redirect") << Fault::answer(307, {}, {{"Location", "/elsewhere/x.bin"}})
                                  << int(Code::ProtocolError) << QStringLiteral("redirect") << 1;
        QTest::newRow("non-HTTP response")
            << Fault::of(Fault::Raw, "220 smtp.example.org ESMTP\r\n") << int(Code::NetworkError)
            << QStringLiteral("without a valid HTTP response") << 4;
    }
    void uploadFaults()
    {
        QFETCH(Fault, fault);
        QFETCH(int, expectedCode);
        QFETCH(QString, messagePart);
        QFETCH(int, count);

        m_server->addFault("PUT", fault, count);
        const QByteArray bytes = TestSupport::randomBytes(256 * 1024, 11);
        const QString id = saveLocal(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);

        QVERIFY(!m_failures.isEmpty());
        const Failure first = m_failures.first();
        QCOMPARE(first.kind, Kind::Upload);
        QVERIFY2(first.error.code() == Code(expectedCode),
                 qPrintable(QDebug::toString(first.error)));
        QVERIFY2(first.error.message().contains(messagePart, Qt::CaseInsensitive),
                 qPrintable(first.error.message()));
        QVERIFY(first.willRetry);
        QCOMPARE(m_server->objects().value(QLatin1Char('/') + id + QStringLiteral(".bin")), bytes);
        // An upload is never re-sent anywhere else, least of all as a GET.
        for (const FaultServer::Request &r : m_server->requests())
            QVERIFY2(r.method == "PUT" && r.path == QLatin1Char('/') + id + QStringLiteral(".bin"),
                     qPrintable(QString::fromLatin1(r.method) + QLatin1Char(' ') + r.path));
        QVERIFY2(m_violations.isEmpty(), qPrintable(m_violations.join(QLatin1Char('\n'))));
    }

    void rateLimitedWithRetryAfter_data()
    {
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<qint64>("minMs");
        QTest::addColumn<qint64>("maxMs");
        QTest::newRow("seconds") << QByteArray("1") << qint64(1000) << qint64(1000);
        const QDateTime soon = QDateTime::currentDateTimeUtc().addSecs(2);
        QTest::newRow("HTTP date")
            << QLocale::c()
                   .toString(soon, QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
                   .toLatin1()
            << qint64(0) << qint64(2000);
    }
    void rateLimitedWithRetryAfter()
    {
        QFETCH(QByteArray, retryAfter);
        QFETCH(qint64, minMs);
        QFETCH(qint64, maxMs);
        m_server->addFault("PUT", Fault::answer(429, "slow down", {{"Retry-After", retryAfter}}));
        const QByteArray bytes = TestSupport::randomBytes(1000, 5);
        const QString id = saveLocal(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);
        QCOMPARE(m_failures.size(), 1);
        const QAttachmentError error = m_failures.first().error;
        QCOMPARE(error.code(), Code::RateLimited);
        QCOMPARE(error.httpStatus(), 429);
        QVERIFY2(error.retryAfterMs() >= minMs && error.retryAfterMs() <= maxMs,
                 qPrintable(QString::number(error.retryAfterMs())));
        QVERIFY(error.message().contains(QStringLiteral("slow down")));
    }

    // A rejected token is refreshed once and the same request sent again:
    // the queue never sees the 401.
    void tokenRefreshedAfter401()
    {
        m_server->setRequiredToken("fresh-token");
        QList<bool> asked;
        m_remote->setTokenProvider([&asked](bool refresh, QHttpRemoteStorage::TokenCallback done) {
            asked.append(refresh);
            // Answer later, as a real token service would.
            QTimer::singleShot(0, [refresh, done] {
                done(refresh ? QStringLiteral("fresh-token") : QStringLiteral("stale"), {});
            });
        });
        const QByteArray bytes = TestSupport::randomBytes(64 * 1024, 9);
        const QString id = saveLocal(bytes);
        PSA_WAIT(stateOf(id) == State::Synced, 30000);
        QVERIFY(m_failures.isEmpty());
        QCOMPARE(asked, (QList<bool> {false, true}));
        const QList<FaultServer::Request> requests = m_server->requests();
        QCOMPARE(requests.size(), 2);
        QCOMPARE(requests.at(0).headers.value("authorization"), "Bearer stale");
        QCOMPARE(requests.at(1).headers.value("authorization"), "Bearer fresh-token");
        QCOMPARE(requests.at(1).bodySize, bytes.size());
        QCOMPARE(m_server->objects().value(QLatin1Char('/') + id + QStringLiteral(".bin")), bytes);

        // The fresh token is cached: a download asks nobody.
        const QString remoteId = watchRemoteOnly("cached token");
        PSA_WAIT(stateOf(remoteId) == State::Synced, 30000);
        QCOMPARE(asked.size(), 2);
        QCOMPARE(m_server->requests().last().headers.value("authorization"), "Bearer fresh-token");
    }

    // A provider that cannot give a token fails the transfer with its error.
    void tokenProviderError()
    {
        m_server->setRequiredToken("t");
        int calls = 0;
        m_remote->setTokenProvider([&calls](bool, QHttpRemoteStorage::TokenCallback done) {
            if (++calls == 1)
                done(
                    {},
                    QAttachmentError(QAttachmentError::Unauthorized, QStringLiteral("signed out")));
            else
                done(QStringLiteral("t"), {});
        });
        const QString id = saveLocal("after sign-in");
        PSA_WAIT(!m_failures.isEmpty(), 5000);
        QCOMPARE(m_failures.first().error.code(), Code::Unauthorized);
        QCOMPARE(m_failures.first().error.message(), QStringLiteral("signed out"));
        QVERIFY(m_server->requests().isEmpty());
        // Unauthorized is not retried blindly; the app retries after signing in.
        m_queue->retryFailed();
        PSA_WAIT(stateOf(id) == State::Synced, 5000);
        QCOMPARE(m_server->requests().first().headers.value("authorization"), "Bearer t");
    }

    // Deleting an object the server does not have succeeds.
    void deleteOfMissingObjectSucceeds()
    {
        const QString id = saveLocal("to delete");
        PSA_WAIT(stateOf(id) == State::Synced, 5000);
        m_server->objects().clear();
        QSignalSpy deleted(m_queue, &QAttachmentQueue::deleteFinished);
        QVERIFY(m_queue->deleteFile(id));
        QVERIFY(deleted.wait(5000));
        QVERIFY(!m_queue->attachment(id).isValid());
        QVERIFY(!QFile::exists(localPath(id + QStringLiteral(".bin"))));
        QVERIFY(m_failures.isEmpty());
    }

    // A 404 on download is not found, not retried blindly, and leaves nothing behind.
    void downloadOfMissingObject()
    {
        m_queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("gone"), QStringLiteral("bin"))});
        PSA_WAIT(!m_failures.isEmpty(), 5000);
        QCOMPARE(m_failures.first().error.code(), Code::NotFound);
        QCOMPARE(m_failures.first().error.httpStatus(), 404);
        QVERIFY(m_failures.first().error.message().contains(QStringLiteral("no such object")));
        QVERIFY(!QFile::exists(localPath(QStringLiteral("gone.bin"))));
    }
};

QTEST_MAIN(tst_HttpFaults)
#include "tst_httpfaults.moc"
