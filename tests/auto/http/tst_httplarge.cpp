// A 256 MiB attachment up to and down from nginx through the queue, with the
// process's peak resident memory growing by no more than 64 MiB: both
// directions stream instead of holding the file.

#include <nginxserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <temporarydatabase.h>
#include <testsupport.h>

#include <QtCore/qcryptographichash.h>
#include <QtCore/qdir.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;
using Kind = QAttachmentTransfer::Kind;

namespace {

constexpr qint64 FileSize = 256 * 1024 * 1024;
constexpr qint64 AllowedGrowth = 64 * 1024 * 1024;

QByteArray sha256Of(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return {};
    return hash.result();
}

bool writeRandomFile(const QString &path, qint64 size, quint32 seed)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    const qint64 chunk = 4 * 1024 * 1024;
    for (qint64 done = 0; done < size; done += chunk) {
        const QByteArray bytes = TestSupport::randomBytes(qMin(chunk, size - done), seed++);
        if (file.write(bytes) != bytes.size())
            return false;
    }
    return true;
}

// Starts a measurement: the peak from now on, relative to the memory in use now.
struct PeakMeter
{
    qint64 base = 0;
    bool reset = false;
    PeakMeter()
    {
        reset = TestSupport::resetPeakRss();
        base = reset ? TestSupport::currentRss() : TestSupport::peakRss();
    }
    qint64 growth() const { return TestSupport::peakRss() - base; }
};

// Runs a real event loop until `id` is synced. QTRY_* would poll with short
// sleeps, starving QNAM's upload, which is fed from this thread.
bool waitUntilSynced(QAttachmentQueue &queue, const QString &id, int timeoutMs)
{
    if (queue.attachment(id).state() == State::Synced)
        return true;
    QEventLoop loop;
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    QObject::connect(&queue, &QAttachmentQueue::attachmentChanged, &loop,
                     [&](const QAttachment &row) {
                         if (row.id() == id && row.state() == State::Synced)
                             loop.quit();
                     });
    loop.exec();
    return queue.attachment(id).state() == State::Synced;
}

} // namespace

class tst_HttpLarge : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void largeFileStreamsBothWays()
    {
        NginxServer nginx;
        PSA_START_NGINX(nginx);

        TemporaryDatabase database;
        QVERIFY(database.isValid());
        const QString source = database.path() + QStringLiteral("/source.bin");
        QVERIFY(writeRandomFile(source, FileSize, 42));
        const QByteArray sourceHash = sha256Of(source);

        QHttpRemoteStorage remote;
        remote.setBaseUrl(nginx.url());
        QAttachmentQueue queue;
        database.setUpQueue(queue, &remote);
        queue.setRetryDelay(50);
        QList<QAttachmentError> failures;
        connect(&queue, &QAttachmentQueue::transferFailed, this,
                [&](const QString &, Kind, const QAttachmentError &e, bool) { failures << e; });
        qint64 lastProgress = -1;
        connect(&queue, &QAttachmentQueue::transferProgress, this,
                [&](const QString &, Kind, qint64 done, qint64) { lastProgress = done; });
        QVERIFY(queue.startSync());

        const QAttachment saved
            = queue.saveFileFromPath(source, QStringLiteral("video/mp4"), QStringLiteral("mp4"));
        QVERIFY(saved.isValid());

        // Upload.
        {
            const PeakMeter meter;
            queue.setWatchedAttachments(
                {QWatchedAttachmentItem(saved.id(), QStringLiteral("mp4"))});
            QVERIFY(waitUntilSynced(queue, saved.id(), 240000));
            const qint64 growth = meter.growth();
            qInfo("upload: peak RSS grew by %lld KiB (peak reset: %s)", growth / 1024,
                  meter.reset ? "yes" : "no");
            QVERIFY2(growth <= AllowedGrowth, qPrintable(QString::number(growth)));
        }
        QVERIFY(failures.isEmpty());
        QCOMPARE(lastProgress, FileSize);
        const QString uploaded = nginx.rootPath() + QLatin1Char('/') + saved.filename();
        QCOMPARE(QFileInfo(uploaded).size(), FileSize);
        QCOMPARE(sha256Of(uploaded), sourceHash);

        // Download: an object only the server has.
        const QString remoteId = QStringLiteral("large-remote");
        QVERIFY(QFile::rename(
            uploaded, nginx.rootPath() + QLatin1Char('/') + remoteId + QStringLiteral(".mp4")));
        {
            const PeakMeter meter;
            queue.setWatchedAttachments({QWatchedAttachmentItem(saved.id(), QStringLiteral("mp4")),
                                         QWatchedAttachmentItem(remoteId, QStringLiteral("mp4"))});
            QVERIFY(waitUntilSynced(queue, remoteId, 240000));
            const qint64 growth = meter.growth();
            qInfo("download: peak RSS grew by %lld KiB (peak reset: %s)", growth / 1024,
                  meter.reset ? "yes" : "no");
            QVERIFY2(growth <= AllowedGrowth, qPrintable(QString::number(growth)));
        }
        QVERIFY(failures.isEmpty());
        const QString downloaded = queue.localUrl(queue.attachment(remoteId)).toLocalFile();
        QCOMPARE(QFileInfo(downloaded).size(), FileSize);
        QCOMPARE(sha256Of(downloaded), sourceHash);
    }
};

QTEST_MAIN(tst_HttpLarge)
#include "tst_httplarge.moc"
