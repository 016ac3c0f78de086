#include "benchmarks.h"
#include "benchqueue.h"
#include "linkbench.h"
#include "stallbench.h"

#include <qattachmentqueue.h>
#include <qattachmentremotestorage.h>
#include <qattachmenttransfer.h>
#include <qhttpremotestorage.h>
#include <qnetworkremotestorage.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qtextstream.h>
#include <QtCore/quuid.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#include <cstdio>

#include <unistd.h>

namespace Bench {

namespace {

// What the file system alone costs per downloaded file, in microseconds: the
// bytes written to a partial file, flushed to the disk, and the file renamed
// to its final name, in `dir` (the queue's own files directory). The queue
// cannot do less for a download it keeps; -1 when a step fails.
double fileSystemMicrosPerFile(const QString &dir, int count, qint64 size)
{
    const QString partialDir = dir + QStringLiteral("/.fs-probe");
    if (!QDir().mkpath(partialDir))
        return -1;
    const QByteArray payload = dataBytes(size, 17);
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < count; ++i) {
        const QString name = QStringLiteral("/probe%1.dat").arg(i);
        QFile file(partialDir + name);
        if (!file.open(QIODevice::ReadWrite) || file.write(payload) != payload.size()
            || !file.flush() || ::fdatasync(file.handle()) != 0)
            return -1;
        file.close();
        if (!QFile::rename(partialDir + name, dir + name))
            return -1;
    }
    const double micros = clock.nsecsElapsed() / 1e3 / count;
    for (int i = 0; i < count; ++i)
        QFile::remove(dir + QStringLiteral("/probe%1.dat").arg(i));
    QDir(partialDir).removeRecursively();
    return micros;
}

// Remote storage for the benchmarks that never transfer: anything started
// fails, so a benchmark that unexpectedly transfers shows up as an error.
class UnusedTransfer : public QAttachmentTransfer
{
public:
    explicit UnusedTransfer(Kind kind)
        : QAttachmentTransfer(kind)
    {
        finishWithError(QAttachmentError(QAttachmentError::ServerError,
                                         QStringLiteral("this benchmark does not transfer")));
    }
};

class UnusedRemoteStorage : public QAttachmentRemoteStorage
{
public:
    int started = 0;
    QAttachmentTransfer *upload(const QAttachment &, QIODevice *) override
    {
        ++started;
        return new UnusedTransfer(QAttachmentTransfer::Upload);
    }
    QAttachmentTransfer *download(const QAttachment &, QIODevice *) override
    {
        ++started;
        return new UnusedTransfer(QAttachmentTransfer::Download);
    }
    QAttachmentTransfer *remove(const QAttachment &) override
    {
        ++started;
        return new UnusedTransfer(QAttachmentTransfer::Delete);
    }
};

// Remote storage that completes at once (through the event loop, as the
// transfer contract requires): what is left is the queue's own cost per file.
class InstantTransfer : public QAttachmentTransfer
{
public:
    InstantTransfer(Kind kind, qint64 bytes)
        : QAttachmentTransfer(kind)
    {
        setProgress(bytes, bytes);
        finishSuccess();
    }
};

class InstantRemoteStorage : public QAttachmentRemoteStorage
{
public:
    explicit InstantRemoteStorage(qint64 size)
        : m_payload(dataBytes(size, 11))
    { }
    QAttachmentTransfer *upload(const QAttachment &, QIODevice *source) override
    {
        char buffer[64 * 1024];
        qint64 total = 0;
        for (qint64 n; (n = source->read(buffer, sizeof buffer)) > 0;)
            total += n;
        return new InstantTransfer(QAttachmentTransfer::Upload, total);
    }
    QAttachmentTransfer *download(const QAttachment &, QIODevice *sink) override
    {
        sink->write(m_payload);
        return new InstantTransfer(QAttachmentTransfer::Download, m_payload.size());
    }
    QAttachmentTransfer *remove(const QAttachment &) override
    {
        return new InstantTransfer(QAttachmentTransfer::Delete, 0);
    }

private:
    QByteArray m_payload;
};

int transferTimeoutMs(const Config &config)
{
    return config.quick ? 60000 : 900000;
}

// Speaks HTTP/2 to a cleartext server without asking first (prior knowledge),
// as an app whose server is known to support it would configure Qt.
class Http2DirectManager : public QNetworkAccessManager
{
protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request,
                                 QIODevice *outgoingData) override
    {
        QNetworkRequest http2(request);
        http2.setAttribute(QNetworkRequest::Http2DirectAttribute, true);
        return QNetworkAccessManager::createRequest(op, http2, outgoingData);
    }
};

QAttachmentRemoteStorage *httpRemote(const QUrl &baseUrl, QNetworkAccessManager *manager)
{
    auto *remote = new QHttpRemoteStorage;
    remote->setBaseUrl(baseUrl);
    if (manager)
        remote->setNetworkAccessManager(manager);
    return remote;
}

// The 1 GiB transfers' storage. Over HTTP/2 it speaks to nginx's cleartext
// HTTP/2 port with prior knowledge, as an app does (`http2PriorKnowledge`);
// that port speaks nothing else.
QHttpRemoteStorage *bigRemote(const QUrl &baseUrl, bool http2)
{
    auto *remote = new QHttpRemoteStorage;
    remote->setBaseUrl(baseUrl);
    remote->setHttp2PriorKnowledge(http2);
    return remote;
}

// The queue's concurrency with the storages' defaults, as a bare pool of
// managers: over HTTP/1.1 the connections spread over managers of six, over
// HTTP/2 (the benchmark's prior-knowledge manager, a subclass, which the
// storage does not spread) one manager with the HTTP/2 streams in flight.
QnamPool queueLikePool(bool http2)
{
    QnamPool pool;
    if (http2) {
        pool.managers = 1;
        pool.parallel = QNetworkRemoteStorage::DefaultMaxHttp2Streams;
        pool.http2Direct = true;
    } else {
        pool.parallel = QNetworkRemoteStorage::DefaultMaxConnectionsPerHost;
        pool.managers = (pool.parallel + 5) / 6;
    }
    return pool;
}

} // namespace

Config Config::full()
{
    return Config();
}

Config Config::quickRun()
{
    Config config;
    config.quick = true;
    config.smallCount = 100;
    config.bigSize = 16 * 1024 * 1024;
    config.reconcileCount = 5000;
    config.startupCount = 2000;
    config.linkPhotos = 20;
    config.linkThumbs = 200;
    config.linkBigSize = 16 * 1024 * 1024;
    return config;
}

QStringList benchmarkNames()
{
    return {QStringLiteral("big"),      QStringLiteral("download"),  QStringLiteral("upload"),
            QStringLiteral("overhead"), QStringLiteral("reconcile"), QStringLiteral("startup"),
            QStringLiteral("stall"),    QStringLiteral("link")};
}

Benchmarks::Benchmarks(const Config &config, Report &report)
    : m_config(config)
    , m_report(report)
{ }

Benchmarks::~Benchmarks() = default;

void Benchmarks::run()
{
    // The 1 GiB cases first: their peak memory (a target) is read while this
    // process is fresh. Memory freed by the threads of earlier phases stays
    // resident in their allocator arenas and would count in the peak (a
    // full run with the realistic link first entered them with 20 MiB more).
    if (m_config.wants(QStringLiteral("big")))
        runBig();
    // The realistic link next: its peak memory is reported beside curl's, not
    // held to a target.
    if (m_config.wants(QStringLiteral("link")))
        runLinkBenchmarks(m_config, m_report);
    if (m_config.wants(QStringLiteral("download")))
        runSmallDownloads();
    if (m_config.wants(QStringLiteral("upload")))
        runSmallUploads();
    if (m_config.wants(QStringLiteral("overhead")))
        runOverhead();
    if (m_config.wants(QStringLiteral("reconcile")))
        runReconcile();
    if (m_config.wants(QStringLiteral("startup")))
        runStartup();
    if (m_config.wants(QStringLiteral("stall")))
        runStallBenchmarks(m_config, m_report);
    if (m_server)
        m_server->stop();
}

bool Benchmarks::ensureServer()
{
    if (m_server)
        return true;
    if (m_serverFailed)
        return false;
    NginxServer::Options options;
    options.http2 = true;
    options.forBenchmarks = true;
    // DATA frames of up to 64 KiB where the client allows them (the storages
    // do): fewer of Qt's per-frame events for a large download.
    options.http2ChunkSize = QStringLiteral("64k");
    auto server = std::make_unique<NginxServer>(options);
    QString problem;
    if (!server->start(&problem)) {
        m_serverFailed = true;
        m_report.fail(QStringLiteral("nginx"), problem);
        return false;
    }
    progress(QStringLiteral("nginx WebDAV on 127.0.0.1:%1").arg(server->port()));
    m_server = std::move(server);
    return true;
}

void Benchmarks::runBig()
{
    if (!ensureServer())
        return;
    const QString label = sizeLabel(m_config.bigSize);
    const QString www = m_server->rootPath();
    QDir().mkpath(www + QStringLiteral("/big"));
    const QString source = www + QStringLiteral("/big/big.bin");
    QString problem;
    progress(QStringLiteral("big: writing a %1 file").arg(label));
    if (!writeDataFile(source, m_config.bigSize, 7, &problem)) {
        m_report.fail(QStringLiteral("big"), problem);
        return;
    }
    const int timeout = transferTimeoutMs(m_config);
    QTemporaryDir work;

    // --- download -------------------------------------------------------------
    progress(QStringLiteral("big: curl download"));
    const QString curlOut = work.path() + QStringLiteral("/curl-big.bin");
    const ChildRun curlDown = runMeasured(QStringLiteral("curl"),
                                          {QStringLiteral("-s"), QStringLiteral("-S"),
                                           QStringLiteral("--fail"), QStringLiteral("-o"), curlOut,
                                           m_server->url(QStringLiteral("big/big.bin")).toString()},
                                          timeout);
    if (!curlDown.ok() || QFileInfo(curlOut).size() != m_config.bigSize) {
        m_report.fail(
            QStringLiteral("download_big"),
            QStringLiteral("curl failed: %1").arg(QString::fromLocal8Bit(curlDown.standardError)));
        return;
    }
    QFile::remove(curlOut);

    progress(QStringLiteral("big: bare QNetworkAccessManager download"));
    const double qnamDown = runQnam({{m_server->url(QStringLiteral("big/big.bin")), curlOut}},
                                    false, 1, timeout, &problem);
    if (qnamDown < 0 || QFileInfo(curlOut).size() != m_config.bigSize) {
        m_report.fail(QStringLiteral("download_big"),
                      QStringLiteral("QNetworkAccessManager failed: %1").arg(problem));
        return;
    }
    QFile::remove(curlOut);

    const auto projectDownload = [&](bool http2, double *seconds, qint64 *peak) {
        progress(QStringLiteral("big: project download over %1")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        QueueEnv env(m_config.synchronous);
        std::unique_ptr<QHttpRemoteStorage> remote(
            bigRemote(http2 ? m_server->http2Url(QStringLiteral("big/"))
                            : m_server->url(QStringLiteral("big/")),
                      http2));
        env.queue->setRemoteStorage(remote.get());
        Completion completion(env.queue.get(), 1, QAttachmentTransfer::Download);
        if (!env.isOpen() || !env.queue->startSync()) {
            m_report.fail(QStringLiteral("download_big"),
                          QStringLiteral("the queue did not start"));
            return false;
        }
        resetPeakRss();
        completion.start();
        env.queue->setWatchedAttachments(
            {QWatchedAttachmentItem(QStringLiteral("big"), QStringLiteral("bin"))});
        waitFor([&] { return completion.done(); }, timeout);
        *peak = peakRss();
        QString failure = completion.problem();
        const QString local = env.filesDir() + QStringLiteral("/big.bin");
        if (failure.isEmpty() && !sameContent(local, source))
            failure = QStringLiteral("the downloaded file differs from the source");
        if (!failure.isEmpty()) {
            m_report.fail(QStringLiteral("download_big"), failure);
            return false;
        }
        *seconds = completion.seconds();
        env.queue->stopSyncing();
        return true;
    };
    double downSeconds = 0;
    qint64 downPeak = 0;
    if (!projectDownload(false, &downSeconds, &downPeak))
        return;

    Figure downTime
        = makeFigure(QStringLiteral("download_%1_time").arg(label), downSeconds, curlDown.seconds,
                     QStringLiteral("s"), Figure::Lower, 1.5, QStringLiteral("curl"));
    downTime.extra = {{QStringLiteral("project_MiB_per_s"), m_config.bigSize / MiB / downSeconds},
                      {QStringLiteral("curl_MiB_per_s"), m_config.bigSize / MiB / curlDown.seconds},
                      {QStringLiteral("qnam_s"), qnamDown}};
    m_report.add(downTime);
    Figure downRss
        = makeFigure(QStringLiteral("download_%1_peak_rss").arg(label), downPeak / MiB, 64,
                     QStringLiteral("MiB"), Figure::Lower, 1.0, QStringLiteral("target"));
    downRss.extra = {{QStringLiteral("curl_MiB"), curlDown.maxRssBytes / MiB}};
    m_report.add(downRss);

    // --- upload ---------------------------------------------------------------
    progress(QStringLiteral("big: curl upload"));
    const ChildRun curlUp
        = runMeasured(QStringLiteral("curl"),
                      {QStringLiteral("-s"), QStringLiteral("-S"), QStringLiteral("--fail"),
                       QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-T"),
                       source, m_server->url(QStringLiteral("big-up-curl/big.bin")).toString()},
                      timeout);
    const QString curlUploaded = www + QStringLiteral("/big-up-curl/big.bin");
    if (!curlUp.ok() || QFileInfo(curlUploaded).size() != m_config.bigSize) {
        m_report.fail(
            QStringLiteral("upload_big"),
            QStringLiteral("curl failed: %1").arg(QString::fromLocal8Bit(curlUp.standardError)));
        return;
    }
    QFile::remove(curlUploaded);

    progress(QStringLiteral("big: bare QNetworkAccessManager upload"));
    const double qnamUp = runQnam({{m_server->url(QStringLiteral("big-up-qnam/big.bin")), source}},
                                  true, 1, timeout, &problem);
    const QString qnamUploaded = www + QStringLiteral("/big-up-qnam/big.bin");
    if (qnamUp < 0 || QFileInfo(qnamUploaded).size() != m_config.bigSize) {
        m_report.fail(QStringLiteral("upload_big"),
                      QStringLiteral("QNetworkAccessManager failed: %1").arg(problem));
        return;
    }
    QFile::remove(qnamUploaded);

    const auto projectUpload = [&](bool http2, double *seconds, qint64 *peak, qint64 *savePeak) {
        progress(QStringLiteral("big: project upload over %1")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        const QString target
            = http2 ? QStringLiteral("big-up-project-h2") : QStringLiteral("big-up-project");
        QueueEnv env(m_config.synchronous);
        std::unique_ptr<QHttpRemoteStorage> remote(
            bigRemote(http2 ? m_server->http2Url(target + QLatin1Char('/'))
                            : m_server->url(target + QLatin1Char('/')),
                      http2));
        env.queue->setRemoteStorage(remote.get());
        resetPeakRss();
        QString failure;
        const QAttachment saved = env.queue->saveFileFromPath(
            source, QStringLiteral("application/octet-stream"), {}, {}, {}, &failure);
        *savePeak = peakRss();
        if (!saved.isValid()) {
            m_report.fail(QStringLiteral("upload_big"), failure);
            return false;
        }
        Completion completion(env.queue.get(), 1, QAttachmentTransfer::Upload);
        resetPeakRss();
        completion.start();
        if (!env.queue->startSync()) {
            m_report.fail(QStringLiteral("upload_big"), QStringLiteral("the queue did not start"));
            return false;
        }
        waitFor([&] { return completion.done(); }, timeout);
        *peak = peakRss();
        failure = completion.problem();
        const QString uploaded
            = www + QLatin1Char('/') + target + QLatin1Char('/') + saved.filename();
        if (failure.isEmpty() && !sameContent(uploaded, source))
            failure = QStringLiteral("the uploaded file differs from the source");
        if (!failure.isEmpty()) {
            m_report.fail(QStringLiteral("upload_big"), failure);
            return false;
        }
        QFile::remove(uploaded);
        *seconds = completion.seconds();
        env.queue->stopSyncing();
        return true;
    };
    double upSeconds = 0;
    qint64 upPeak = 0;
    qint64 savePeak = 0;
    if (!projectUpload(false, &upSeconds, &upPeak, &savePeak))
        return;
    Figure upTime
        = makeFigure(QStringLiteral("upload_%1_time").arg(label), upSeconds, curlUp.seconds,
                     QStringLiteral("s"), Figure::Lower, 1.5, QStringLiteral("curl"));
    upTime.extra = {{QStringLiteral("project_MiB_per_s"), m_config.bigSize / MiB / upSeconds},
                    {QStringLiteral("curl_MiB_per_s"), m_config.bigSize / MiB / curlUp.seconds},
                    {QStringLiteral("qnam_s"), qnamUp}};
    m_report.add(upTime);
    Figure upRss = makeFigure(QStringLiteral("upload_%1_peak_rss").arg(label), upPeak / MiB, 64,
                              QStringLiteral("MiB"), Figure::Lower, 1.0, QStringLiteral("target"));
    upRss.extra = {{QStringLiteral("curl_MiB"), curlUp.maxRssBytes / MiB},
                   {QStringLiteral("save_file_peak_MiB"), savePeak / MiB}};
    m_report.add(upRss);
    // HTTP/2 last: Qt 6.4's HTTP/2 buffers more than the read buffer size (the
    // receive windows bound it), and the heap it leaves behind would inflate
    // the peaks above.
    double downSeconds2 = 0;
    qint64 downPeak2 = 0;
    double upSeconds2 = 0;
    qint64 upPeak2 = 0;
    qint64 savePeak2 = 0;
    if (!projectDownload(true, &downSeconds2, &downPeak2)
        || !projectUpload(true, &upSeconds2, &upPeak2, &savePeak2))
        return;
    Figure downTime2 = makeFigure(QStringLiteral("download_%1_time_http2").arg(label), downSeconds2,
                                  curlDown.seconds, QStringLiteral("s"), Figure::Lower, 1.5,
                                  QStringLiteral("curl"));
    downTime2.extra = {{QStringLiteral("peak_rss_MiB"), downPeak2 / MiB}};
    m_report.add(downTime2);
    m_report.add(makeFigure(QStringLiteral("download_%1_peak_rss_http2").arg(label),
                            downPeak2 / MiB, 64, QStringLiteral("MiB"), Figure::Lower, 1.0,
                            QStringLiteral("target")));
    // curl over HTTP/2 to the same port (prior knowledge), the limit of the
    // HTTP/2 figure.
    progress(QStringLiteral("big: curl upload over HTTP/2"));
    const ChildRun curlUp2
        = runMeasured(QStringLiteral("curl"),
                      {QStringLiteral("-s"), QStringLiteral("-S"), QStringLiteral("--fail"),
                       QStringLiteral("--http2-prior-knowledge"), QStringLiteral("-o"),
                       QStringLiteral("/dev/null"), QStringLiteral("-T"), source,
                       m_server->http2Url(QStringLiteral("big-up-curl-h2/big.bin")).toString()},
                      timeout);
    const QString curlUploaded2 = www + QStringLiteral("/big-up-curl-h2/big.bin");
    if (!curlUp2.ok() || QFileInfo(curlUploaded2).size() != m_config.bigSize) {
        m_report.fail(QStringLiteral("upload_big"),
                      QStringLiteral("curl over HTTP/2 failed: %1")
                          .arg(QString::fromLocal8Bit(curlUp2.standardError)));
        return;
    }
    QFile::remove(curlUploaded2);
    // Qt's own HTTP/2 upload, for the ceiling: a bare manager, the same file,
    // the same port.
    progress(QStringLiteral("big: bare QNetworkAccessManager upload over HTTP/2"));
    QnamPool http2Pool;
    http2Pool.parallel = 1;
    http2Pool.http2Direct = true;
    const double qnamUp2
        = runQnamPool({{m_server->http2Url(QStringLiteral("big-up-qnam-h2/big.bin")), source}},
                      true, http2Pool, timeout, &problem);
    const QString qnamUploaded2 = www + QStringLiteral("/big-up-qnam-h2/big.bin");
    if (qnamUp2 < 0 || QFileInfo(qnamUploaded2).size() != m_config.bigSize) {
        m_report.fail(QStringLiteral("upload_big"),
                      QStringLiteral("QNetworkAccessManager over HTTP/2 failed: %1").arg(problem));
        return;
    }
    QFile::remove(qnamUploaded2);
    Figure upTime2
        = makeFigure(QStringLiteral("upload_%1_time_http2").arg(label), upSeconds2, curlUp2.seconds,
                     QStringLiteral("s"), Figure::Lower, 1.5, QStringLiteral("curl over HTTP/2"));
    upTime2.extra = {{QStringLiteral("peak_rss_MiB"), upPeak2 / MiB},
                     {QStringLiteral("curl_http1_s"), curlUp.seconds},
                     {QStringLiteral("qnam_http2_s"), qnamUp2},
                     {QStringLiteral("ratio_to_qnam_http2"), upSeconds2 / qnamUp2}};
    m_report.add(upTime2);
    QFile::remove(source);
}

void Benchmarks::runSmallDownloads()
{
    if (!ensureServer())
        return;
    const int count = m_config.smallCount;
    const qint64 size = m_config.smallSize;
    const QString label = QStringLiteral("%1x%2").arg(countLabel(count), sizeLabel(size));
    const QString name = QStringLiteral("download_%1").arg(label);
    const QString www = m_server->rootPath() + QStringLiteral("/small");
    QDir().mkpath(www);
    QString problem;
    progress(QStringLiteral("download: writing %1 files").arg(label));
    for (int i = 0; i < count; ++i) {
        if (!writeDataFile(www + QLatin1Char('/') + smallName(i), size, 1000 + i, &problem)) {
            m_report.fail(name, problem);
            return;
        }
    }
    const int timeout = transferTimeoutMs(m_config);

    progress(QStringLiteral("download: curl, %1 connections").arg(m_config.curlParallel));
    QTemporaryDir work;
    const QString curlDir = work.path() + QStringLiteral("/curl");
    QDir().mkpath(curlDir);
    const QString curlConfig = work.path() + QStringLiteral("/download.curl");
    {
        QFile file(curlConfig);
        if (!file.open(QIODevice::WriteOnly)) {
            m_report.fail(name, QStringLiteral("cannot write the curl config"));
            return;
        }
        QTextStream out(&file);
        for (int i = 0; i < count; ++i) {
            out << "url = \"" << m_server->url(QStringLiteral("small/") + smallName(i)).toString()
                << "\"\n"
                << "output = \"" << curlDir << '/' << smallName(i) << "\"\n";
        }
    }
    // Best of `repeat` runs for curl, the bare QNetworkAccessManager and the
    // queue alike: on a shared machine the slowest runs measure the neighbours.
    ChildRun curl;
    for (int run = 0; run < m_config.repeat; ++run) {
        const ChildRun attempt = runMeasured(
            QStringLiteral("curl"),
            {QStringLiteral("-s"), QStringLiteral("-S"), QStringLiteral("--fail"),
             QStringLiteral("--parallel"), QStringLiteral("--parallel-max"),
             QString::number(m_config.curlParallel), QStringLiteral("-K"), curlConfig},
            timeout);
        if (!attempt.ok() || filesOfSize(curlDir, size) != count) {
            m_report.fail(name,
                          QStringLiteral("curl failed: %1")
                              .arg(QString::fromLocal8Bit(attempt.standardError)));
            return;
        }
        if (run == 0 || attempt.seconds < curl.seconds)
            curl = attempt;
        QDir(curlDir).removeRecursively();
        QDir().mkpath(curlDir);
    }

    progress(QStringLiteral("download: bare QNetworkAccessManager"));
    QList<QnamTransfer> qnamTransfers;
    for (int i = 0; i < count; ++i)
        qnamTransfers.append({m_server->url(QStringLiteral("small/") + smallName(i)),
                              curlDir + QLatin1Char('/') + smallName(i)});
    double qnamSeconds = -1;
    for (int run = 0; run < m_config.repeat; ++run) {
        QDir().mkpath(curlDir);
        const double seconds
            = runQnam(qnamTransfers, false, m_config.curlParallel, timeout, &problem);
        if (seconds < 0 || filesOfSize(curlDir, size) != count) {
            m_report.fail(name, QStringLiteral("QNetworkAccessManager failed: %1").arg(problem));
            return;
        }
        if (qnamSeconds < 0 || seconds < qnamSeconds)
            qnamSeconds = seconds;
        QDir(curlDir).removeRecursively();
    }
    // A bare pool with the queue's concurrency, for each protocol.
    double poolSeconds[2] = {-1, -1};
    for (int http2 = 0; http2 < 2; ++http2) {
        progress(QStringLiteral("download: bare QNetworkAccessManager pool over %1")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        QList<QnamTransfer> pooled = qnamTransfers;
        for (int i = 0; i < count; ++i)
            pooled[i].url = http2 ? m_server->http2Url(QStringLiteral("small/") + smallName(i))
                                  : m_server->url(QStringLiteral("small/") + smallName(i));
        for (int run = 0; run < m_config.repeat; ++run) {
            QDir().mkpath(curlDir);
            const double seconds
                = runQnamPool(pooled, false, queueLikePool(http2), timeout, &problem);
            if (seconds < 0 || filesOfSize(curlDir, size) != count) {
                m_report.fail(name,
                              QStringLiteral("QNetworkAccessManager pool failed: %1").arg(problem));
                return;
            }
            if (poolSeconds[http2] < 0 || seconds < poolSeconds[http2])
                poolSeconds[http2] = seconds;
            QDir(curlDir).removeRecursively();
        }
    }

    // The project, once over HTTP/1.1 (what curl speaks here) with the stall
    // probe running, and once over HTTP/2 without TLS.
    const auto project = [&](bool http2, StallProbe *probe, int *retries) -> double {
        progress(QStringLiteral("download: project over %1, referenced through the watch query")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        const QString figureName = http2 ? name + QStringLiteral("_http2") : name;
        QueueEnv env(m_config.synchronous);
        QString sqlProblem;
        if (!env.isOpen()
            || !env.exec(
                QStringLiteral("CREATE TABLE items (id INTEGER PRIMARY KEY, photo_id TEXT)"),
                &sqlProblem)) {
            m_report.fail(figureName, QStringLiteral("database: %1").arg(sqlProblem));
            return -1;
        }
        Http2DirectManager manager;
        std::unique_ptr<QAttachmentRemoteStorage> remote(
            httpRemote(http2 ? m_server->http2Url(QStringLiteral("small/"))
                             : m_server->url(QStringLiteral("small/")),
                       http2 ? &manager : nullptr));
        env.queue->setRemoteStorage(remote.get());
        env.queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id, 'dat' AS file_extension FROM items "
                           "WHERE photo_id IS NOT NULL"));
        env.queue->setWatchTables({QStringLiteral("items")});
        if (!env.queue->startSync()) {
            m_report.fail(figureName, QStringLiteral("the queue did not start"));
            return -1;
        }
        Completion completion(env.queue.get(), count, QAttachmentTransfer::Download);
        if (probe)
            probe->start();
        completion.start();
        {
            // The app references every file at once, in one transaction of its own.
            QSqlDatabase db = env.database();
            db.transaction();
            QSqlQuery insert(db);
            insert.prepare(QStringLiteral("INSERT INTO items (photo_id) VALUES (?)"));
            for (int i = 0; i < count; ++i) {
                insert.addBindValue(smallName(i).chopped(4));
                insert.exec();
            }
            db.commit();
        }
        waitFor([&] { return completion.done(); }, timeout);
        if (probe)
            probe->stop();
        QString failure = completion.problem();
        if (failure.isEmpty() && filesOfSize(env.filesDir(), size) != count)
            failure = QStringLiteral("not every downloaded file has its size");
        if (failure.isEmpty()
            && !sameContent(env.filesDir() + QLatin1Char('/') + smallName(count / 2),
                            www + QLatin1Char('/') + smallName(count / 2)))
            failure = QStringLiteral("a downloaded file differs from the source");
        if (!failure.isEmpty()) {
            m_report.fail(figureName, failure);
            return -1;
        }
        env.queue->stopSyncing();
        *retries += completion.failures;
        return completion.seconds();
    };
    const auto best = [&](bool http2, StallProbe *probe) {
        const QString figureName = http2 ? name + QStringLiteral("_http2") : name;
        double seconds = -1;
        int retries = 0;
        for (int run = 0; run < m_config.repeat; ++run) {
            // The stall probe watches the first run only.
            const double attempt = project(http2, run == 0 ? probe : nullptr, &retries);
            if (attempt < 0)
                return false;
            if (seconds < 0 || attempt < seconds)
                seconds = attempt;
        }
        Figure figure
            = makeFigure(figureName, count / seconds, count / curl.seconds,
                         QStringLiteral("files/s"), Figure::Higher, 0.5, QStringLiteral("curl"));
        figure.extra = {{QStringLiteral("project_s"), seconds},
                        {QStringLiteral("curl_s"), curl.seconds},
                        {QStringLiteral("qnam_http1_files_per_s"), count / qnamSeconds},
                        {QStringLiteral("bare_pool_files_per_s"), count / poolSeconds[http2]},
                        {QStringLiteral("ratio_bare_pool"), poolSeconds[http2] / seconds},
                        {QStringLiteral("retries"), double(retries)}};
        m_report.add(figure);
        return true;
    };

    StallProbe probe;
    if (!best(false, &probe))
        return;
    Figure stallMax
        = makeFigure(QStringLiteral("stall_max_during_download"), probe.maxGapMs(), 50,
                     QStringLiteral("ms"), Figure::Lower, 1.0, QStringLiteral("target"));
    stallMax.extra = {{QStringLiteral("ticks"), double(probe.samples())}};
    m_report.add(stallMax);
    Figure stallP99
        = makeFigure(QStringLiteral("stall_p99_during_download"), probe.percentileGapMs(99), 16,
                     QStringLiteral("ms"), Figure::Lower, 1.0, QStringLiteral("target"));
    stallP99.extra = {{QStringLiteral("p50_ms"), probe.percentileGapMs(50)},
                      {QStringLiteral("p999_ms"), probe.percentileGapMs(99.9)}};
    m_report.add(stallP99);
    best(true, nullptr);
}

void Benchmarks::runSmallUploads()
{
    if (!ensureServer())
        return;
    const int count = m_config.smallCount;
    const qint64 size = m_config.smallSize;
    const QString label = QStringLiteral("%1x%2").arg(countLabel(count), sizeLabel(size));
    const QString name = QStringLiteral("upload_%1").arg(label);
    const QString www = m_server->rootPath();
    QTemporaryDir work;
    const QString sourceDir = work.path() + QStringLiteral("/source");
    QDir().mkpath(sourceDir);
    QString problem;
    for (int i = 0; i < count; ++i) {
        if (!writeDataFile(sourceDir + QLatin1Char('/') + smallName(i), size, 5000 + i, &problem)) {
            m_report.fail(name, problem);
            return;
        }
    }
    const int timeout = transferTimeoutMs(m_config);

    progress(QStringLiteral("upload: curl, %1 connections").arg(m_config.curlParallel));
    const QString curlConfig = work.path() + QStringLiteral("/upload.curl");
    {
        QFile file(curlConfig);
        if (!file.open(QIODevice::WriteOnly)) {
            m_report.fail(name, QStringLiteral("cannot write the curl config"));
            return;
        }
        QTextStream out(&file);
        for (int i = 0; i < count; ++i) {
            out << "upload-file = \"" << sourceDir << '/' << smallName(i) << "\"\n"
                << "url = \"" << m_server->url(QStringLiteral("up-curl/") + smallName(i)).toString()
                << "\"\n"
                << "output = \"/dev/null\"\n";
        }
    }
    ChildRun curl;
    for (int run = 0; run < m_config.repeat; ++run) {
        const ChildRun attempt = runMeasured(
            QStringLiteral("curl"),
            {QStringLiteral("-s"), QStringLiteral("-S"), QStringLiteral("--fail"),
             QStringLiteral("--parallel"), QStringLiteral("--parallel-max"),
             QString::number(m_config.curlParallel), QStringLiteral("-K"), curlConfig},
            timeout);
        if (!attempt.ok() || filesOfSize(www + QStringLiteral("/up-curl"), size) != count) {
            m_report.fail(name,
                          QStringLiteral("curl failed: %1")
                              .arg(QString::fromLocal8Bit(attempt.standardError)));
            return;
        }
        if (run == 0 || attempt.seconds < curl.seconds)
            curl = attempt;
        QDir(www + QStringLiteral("/up-curl")).removeRecursively();
    }

    progress(QStringLiteral("upload: bare QNetworkAccessManager"));
    QList<QnamTransfer> qnamTransfers;
    for (int i = 0; i < count; ++i)
        qnamTransfers.append({m_server->url(QStringLiteral("up-qnam/") + smallName(i)),
                              sourceDir + QLatin1Char('/') + smallName(i)});
    double qnamSeconds = -1;
    for (int run = 0; run < m_config.repeat; ++run) {
        const double seconds
            = runQnam(qnamTransfers, true, m_config.curlParallel, timeout, &problem);
        if (seconds < 0 || filesOfSize(www + QStringLiteral("/up-qnam"), size) != count) {
            m_report.fail(name, QStringLiteral("QNetworkAccessManager failed: %1").arg(problem));
            return;
        }
        if (qnamSeconds < 0 || seconds < qnamSeconds)
            qnamSeconds = seconds;
        QDir(www + QStringLiteral("/up-qnam")).removeRecursively();
    }
    double poolSeconds[2] = {-1, -1};
    for (int http2 = 0; http2 < 2; ++http2) {
        progress(QStringLiteral("upload: bare QNetworkAccessManager pool over %1")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        QList<QnamTransfer> pooled = qnamTransfers;
        for (int i = 0; i < count; ++i)
            pooled[i].url = http2 ? m_server->http2Url(QStringLiteral("up-qnam/") + smallName(i))
                                  : m_server->url(QStringLiteral("up-qnam/") + smallName(i));
        for (int run = 0; run < m_config.repeat; ++run) {
            const double seconds
                = runQnamPool(pooled, true, queueLikePool(http2), timeout, &problem);
            if (seconds < 0 || filesOfSize(www + QStringLiteral("/up-qnam"), size) != count) {
                m_report.fail(name,
                              QStringLiteral("QNetworkAccessManager pool failed: %1").arg(problem));
                return;
            }
            if (poolSeconds[http2] < 0 || seconds < poolSeconds[http2])
                poolSeconds[http2] = seconds;
            QDir(www + QStringLiteral("/up-qnam")).removeRecursively();
        }
    }

    const auto project = [&](bool http2, double *saveSeconds, int *retries) -> double {
        progress(QStringLiteral("upload: project over %1, saveFile while the queue runs")
                     .arg(http2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1")));
        const QString figureName = http2 ? name + QStringLiteral("_http2") : name;
        const QString target
            = http2 ? QStringLiteral("up-project-h2") : QStringLiteral("up-project");
        QueueEnv env(m_config.synchronous);
        Http2DirectManager manager;
        std::unique_ptr<QAttachmentRemoteStorage> remote(
            httpRemote(http2 ? m_server->http2Url(target + QLatin1Char('/'))
                             : m_server->url(target + QLatin1Char('/')),
                       http2 ? &manager : nullptr));
        // For comparisons: PSA_BENCH_STREAMING_UPLOAD_THRESHOLD=-1 sends every
        // upload through the manager, as before small uploads were streamed.
        if (qEnvironmentVariableIsSet("PSA_BENCH_STREAMING_UPLOAD_THRESHOLD"))
            static_cast<QHttpRemoteStorage *>(remote.get())
                ->setStreamingUploadThreshold(
                    qEnvironmentVariableIntValue("PSA_BENCH_STREAMING_UPLOAD_THRESHOLD"));
        env.queue->setRemoteStorage(remote.get());
        if (!env.isOpen() || !env.queue->startSync()) {
            m_report.fail(figureName, QStringLiteral("the queue did not start"));
            return -1.0;
        }
        QList<QByteArray> payloads;
        payloads.reserve(count);
        for (int i = 0; i < count; ++i)
            payloads.append(dataBytes(size, 9000 + i));
        Completion completion(env.queue.get(), count, QAttachmentTransfer::Upload);
        // One save per turn of the event loop, as an app saving photos one
        // after another would: transfers run in between.
        int saved = 0;
        qint64 saveNanos = 0; // inside saveFile(): the app's own cost
        QString saveProblem;
        QTimer saver;
        saver.setInterval(0);
        QObject::connect(&saver, &QTimer::timeout, [&] {
            if (saved >= count) {
                saver.stop();
                return;
            }
            QElapsedTimer saveClock;
            saveClock.start();
            const QAttachment attachment = env.queue->saveFile(
                payloads.at(saved), QStringLiteral("application/octet-stream"),
                QStringLiteral("dat"), {}, {}, &saveProblem);
            saveNanos += saveClock.nsecsElapsed();
            if (!attachment.isValid()) {
                saver.stop();
                completion.givenUp++;
                return;
            }
            payloads[saved] = QByteArray();
            ++saved;
        });
        completion.start();
        saver.start();
        waitFor([&] { return completion.done(); }, timeout);
        saver.stop();
        QString failure = saveProblem.isEmpty()
            ? completion.problem()
            : QStringLiteral("saveFile failed: %1").arg(saveProblem);
        if (failure.isEmpty() && filesOfSize(www + QLatin1Char('/') + target, size) != count)
            failure = QStringLiteral("not every uploaded file reached the server with its size");
        if (!failure.isEmpty()) {
            m_report.fail(figureName, failure);
            return -1.0;
        }
        env.queue->stopSyncing();
        QDir(www + QLatin1Char('/') + target).removeRecursively();
        *saveSeconds = double(saveNanos) / 1e9;
        *retries += completion.failures;
        return completion.seconds();
    };
    const auto best = [&](bool http2) {
        const QString figureName = http2 ? name + QStringLiteral("_http2") : name;
        double seconds = -1;
        double saveSeconds = 0;
        int retries = 0;
        for (int run = 0; run < m_config.repeat; ++run) {
            double attemptSave = 0;
            const double attempt = project(http2, &attemptSave, &retries);
            if (attempt < 0)
                return;
            if (seconds < 0 || attempt < seconds) {
                seconds = attempt;
                saveSeconds = attemptSave;
            }
        }
        Figure figure
            = makeFigure(figureName, count / seconds, count / curl.seconds,
                         QStringLiteral("files/s"), Figure::Higher, 0.5, QStringLiteral("curl"));
        figure.extra = {{QStringLiteral("project_s"), seconds},
                        {QStringLiteral("curl_s"), curl.seconds},
                        {QStringLiteral("qnam_http1_files_per_s"), count / qnamSeconds},
                        {QStringLiteral("bare_pool_files_per_s"), count / poolSeconds[http2]},
                        {QStringLiteral("ratio_bare_pool"), poolSeconds[http2] / seconds},
                        {QStringLiteral("save_file_total_s"), saveSeconds},
                        {QStringLiteral("retries"), double(retries)}};
        m_report.add(figure);
    };
    best(false);
    best(true);
}

void Benchmarks::runOverhead()
{
    const int count = m_config.smallCount;
    const qint64 size = m_config.smallSize;
    const QString label = QStringLiteral("%1x%2").arg(countLabel(count), sizeLabel(size));
    const int timeout = transferTimeoutMs(m_config);
    // The queue's share of a per-file budget: curl moves about 8,000 small files
    // a second here, so half of that leaves 250 us per file for everything in
    // the process; the queue keeps at most 100 of them.
    constexpr double BudgetMicros = 100;

    progress(
        QStringLiteral("overhead: %1 downloads from a remote that answers at once").arg(label));
    {
        const QString name = QStringLiteral("overhead_download_%1").arg(label);
        QueueEnv env(m_config.synchronous);
        QString problem;
        if (!env.isOpen()
            || !env.exec(
                QStringLiteral("CREATE TABLE items (id INTEGER PRIMARY KEY, photo_id TEXT)"),
                &problem)) {
            m_report.fail(name, QStringLiteral("database: %1").arg(problem));
            return;
        }
        InstantRemoteStorage remote(size);
        env.queue->setRemoteStorage(&remote);
        env.queue->setWatchQuery(
            QStringLiteral("SELECT photo_id AS id, 'dat' AS file_extension FROM items "
                           "WHERE photo_id IS NOT NULL"));
        env.queue->setWatchTables({QStringLiteral("items")});
        if (!env.queue->startSync()) {
            m_report.fail(name, QStringLiteral("the queue did not start"));
            return;
        }
        Completion completion(env.queue.get(), count, QAttachmentTransfer::Download);
        completion.start();
        {
            QSqlDatabase db = env.database();
            db.transaction();
            QSqlQuery insert(db);
            insert.prepare(QStringLiteral("INSERT INTO items (photo_id) VALUES (?)"));
            for (int i = 0; i < count; ++i) {
                insert.addBindValue(smallName(i).chopped(4));
                insert.exec();
            }
            db.commit();
        }
        waitFor([&] { return completion.done(); }, timeout);
        problem = completion.problem();
        if (problem.isEmpty() && filesOfSize(env.filesDir(), size) != count)
            problem = QStringLiteral("not every downloaded file has its size");
        if (!problem.isEmpty()) {
            m_report.fail(name, problem);
            return;
        }
        env.queue->stopSyncing();
        const double micros = completion.seconds() * 1e6 / count;
        // Measured after the queue's run, in the same directory: the part of
        // the figure that is the file system's (it varies much between
        // machines and disks).
        const double fileSystem = fileSystemMicrosPerFile(env.filesDir(), count, size);
        Figure figure = makeFigure(name, micros, BudgetMicros, QStringLiteral("us/file"),
                                   Figure::Lower, 1.0, QStringLiteral("budget"));
        figure.extra = {{QStringLiteral("files_per_s"), count / completion.seconds()},
                        {QStringLiteral("file_system_us_per_file"), fileSystem},
                        {QStringLiteral("beyond_file_system_us_per_file"),
                         fileSystem < 0 ? -1 : micros - fileSystem}};
        m_report.add(figure);
    }

    progress(QStringLiteral("overhead: %1 saveFile calls and uploads to a remote that answers "
                            "at once")
                 .arg(label));
    {
        const QString name = QStringLiteral("overhead_upload_%1").arg(label);
        QueueEnv env(m_config.synchronous);
        InstantRemoteStorage remote(0);
        env.queue->setRemoteStorage(&remote);
        if (!env.isOpen() || !env.queue->startSync()) {
            m_report.fail(name, QStringLiteral("the queue did not start"));
            return;
        }
        const QByteArray payload = dataBytes(size, 13);
        Completion completion(env.queue.get(), count, QAttachmentTransfer::Upload);
        int saved = 0;
        qint64 saveNanos = 0;
        QString saveProblem;
        QTimer saver;
        saver.setInterval(0);
        QObject::connect(&saver, &QTimer::timeout, [&] {
            if (saved >= count) {
                saver.stop();
                return;
            }
            QElapsedTimer clock;
            clock.start();
            const QAttachment attachment
                = env.queue->saveFile(payload, QStringLiteral("application/octet-stream"),
                                      QStringLiteral("dat"), {}, {}, &saveProblem);
            saveNanos += clock.nsecsElapsed();
            if (!attachment.isValid()) {
                saver.stop();
                completion.givenUp++;
                return;
            }
            ++saved;
        });
        completion.start();
        saver.start();
        waitFor([&] { return completion.done(); }, timeout);
        saver.stop();
        const QString problem = saveProblem.isEmpty()
            ? completion.problem()
            : QStringLiteral("saveFile failed: %1").arg(saveProblem);
        if (!problem.isEmpty()) {
            m_report.fail(name, problem);
            return;
        }
        env.queue->stopSyncing();
        // saveFile() is mostly the file system (QSaveFile flushes to disk); it
        // is reported apart so that the figure is the queue's own work.
        const double queueSeconds = completion.seconds() - double(saveNanos) / 1e9;
        Figure figure
            = makeFigure(name, queueSeconds * 1e6 / count, BudgetMicros, QStringLiteral("us/file"),
                         Figure::Lower, 1.0, QStringLiteral("budget"));
        figure.extra = {{QStringLiteral("total_s"), completion.seconds()},
                        {QStringLiteral("save_file_us_per_file"), saveNanos / 1e3 / count}};
        m_report.add(figure);
    }
}

void Benchmarks::runReconcile()
{
    const int count = m_config.reconcileCount;
    const QString label = countLabel(count);
    progress(QStringLiteral("reconcile: %1 watched ids").arg(label));
    QueueEnv env(m_config.synchronous);
    UnusedRemoteStorage remote;
    env.queue->setRemoteStorage(&remote);
    // Offline: the rows reconciliation inserts stay queued, so only the
    // reconciliation itself is measured.
    env.queue->setOnline(false);
    if (!env.isOpen() || !env.queue->startSync()) {
        m_report.fail(QStringLiteral("reconcile"), QStringLiteral("the queue did not start"));
        return;
    }
    QList<QWatchedAttachmentItem> items;
    items.reserve(count);
    for (int i = 0; i < count; ++i)
        items.append(QWatchedAttachmentItem(QStringLiteral("r%1").arg(i, 7, 10, QLatin1Char('0')),
                                            QStringLiteral("jpg")));
    const QString table = env.queue->tableName();

    const auto measure = [&](const QString &name, qint64 expectedRows, const QString &check,
                             qint64 expectedMatching) {
        QElapsedTimer clock;
        clock.start();
        env.queue->setWatchedAttachments(items);
        // Thousands of changes are written in slices from the event loop; what
        // reconciliation deferred (counts, scheduling) is part of it too.
        waitFor([&] { return env.queue->isIdle(); }, 120000);
        QCoreApplication::processEvents();
        const double seconds = double(clock.nsecsElapsed()) / 1e9;
        const qint64 rows = env.count(QStringLiteral("SELECT COUNT(*) FROM %1").arg(table));
        const qint64 matching = env.count(check.arg(table));
        if (rows != expectedRows || matching != expectedMatching) {
            m_report.fail(name,
                          QStringLiteral("table has %1 rows, %2 as expected; want %3")
                              .arg(rows)
                              .arg(matching)
                              .arg(expectedMatching));
            return false;
        }
        Figure figure = makeFigure(name, seconds, 1.0, QStringLiteral("s"), Figure::Lower, 1.0,
                                   QStringLiteral("target"));
        figure.extra = {{QStringLiteral("rows_per_s"), count / seconds}};
        m_report.add(figure);
        return true;
    };

    if (!measure(QStringLiteral("reconcile_%1_empty_table").arg(label), count,
                 QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 0"), count))
        return;
    // Every row synced and watched: the common case of a periodic sync, where
    // nothing changes. (A restart would archive these rows, which have no
    // local files; the startup benchmark covers that path with real files.)
    QString problem;
    if (!env.exec(QStringLiteral("UPDATE %1 SET state = 3, has_synced = 1, local_uri = filename")
                      .arg(table),
                  &problem)) {
        m_report.fail(QStringLiteral("reconcile"), problem);
        return;
    }
    if (!measure(QStringLiteral("reconcile_%1_full_table").arg(label), count,
                 QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 3"), count))
        return;
    if (remote.started != 0)
        m_report.fail(QStringLiteral("reconcile"), QStringLiteral("transfers were started"));
}

void Benchmarks::runStartup()
{
    const int count = m_config.startupCount;
    const QString label = countLabel(count);
    const QString name = QStringLiteral("startup_%1_rows").arg(label);
    progress(QStringLiteral("startup: preparing %1 synced rows and their files").arg(label));
    QueueEnv env(m_config.synchronous);
    UnusedRemoteStorage remote;
    QString problem;
    if (!env.isOpen()
        || !env.exec(QStringLiteral("CREATE TABLE items (id INTEGER PRIMARY KEY, photo_id TEXT)"),
                     &problem)) {
        m_report.fail(name, QStringLiteral("database: %1").arg(problem));
        return;
    }
    // The first use creates the queue table.
    env.queue->attachments();
    const QString table = env.queue->tableName();
    QDir().mkpath(env.filesDir());
    const QByteArray content = dataBytes(1024, 3);
    {
        QSqlDatabase db = env.database();
        db.transaction();
        QSqlQuery row(db);
        row.prepare(QStringLiteral("INSERT INTO %1 (id, filename, local_uri, timestamp, size, "
                                   "media_type, state, has_synced) "
                                   "VALUES (?, ?, ?, ?, ?, 'image/jpeg', 3, 1)")
                        .arg(table));
        QSqlQuery item(db);
        item.prepare(QStringLiteral("INSERT INTO items (photo_id) VALUES (?)"));
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (int i = 0; i < count; ++i) {
            const QString id = QStringLiteral("s%1").arg(i, 7, 10, QLatin1Char('0'));
            const QString filename = id + QStringLiteral(".jpg");
            QFile file(env.filesDir() + QLatin1Char('/') + filename);
            if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size()) {
                m_report.fail(name, QStringLiteral("cannot write %1").arg(file.fileName()));
                db.rollback();
                return;
            }
            row.addBindValue(id);
            row.addBindValue(filename);
            row.addBindValue(filename);
            row.addBindValue(now + i);
            row.addBindValue(content.size());
            item.addBindValue(id);
            if (!row.exec() || !item.exec()) {
                m_report.fail(name, row.lastError().text() + item.lastError().text());
                db.rollback();
                return;
            }
        }
        db.commit();
    }

    // A fresh queue, as after the app started.
    env.makeQueue();
    env.queue->setRemoteStorage(&remote);
    env.queue->setWatchQuery(QStringLiteral(
        "SELECT photo_id AS id, 'jpg' AS file_extension FROM items WHERE photo_id IS NOT NULL"));
    env.queue->setWatchTables({QStringLiteral("items")});
    progress(QStringLiteral("startup: startSync"));
    QElapsedTimer clock;
    clock.start();
    if (!env.queue->startSync()) {
        m_report.fail(name, QStringLiteral("the queue did not start"));
        return;
    }
    const bool idle = waitFor([&] { return env.queue->isIdle(); }, 60000);
    QCoreApplication::processEvents();
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    const qint64 synced
        = env.count(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 3").arg(table));
    if (!idle || synced != count || remote.started != 0) {
        m_report.fail(name,
                      QStringLiteral("idle %1, %2 of %3 rows synced, %4 transfers started")
                          .arg(idle)
                          .arg(synced)
                          .arg(count)
                          .arg(remote.started));
        return;
    }
    Figure figure = makeFigure(name, seconds, 2.0, QStringLiteral("s"), Figure::Lower, 1.0,
                               QStringLiteral("target"));
    figure.extra = {{QStringLiteral("rows_per_s"), count / seconds}};
    m_report.add(figure);
}

} // namespace Bench
