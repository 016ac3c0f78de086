#include "linkbench.h"

#include "benchmarks.h"
#include "benchqueue.h"
#include "linkshaper.h"

#include <nginxserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtextstream.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qtcpsocket.h>

namespace Bench {

namespace {

bool runTool(const QString &program, const QStringList &arguments, const QString &workDir,
             QString *errorString)
{
    QProcess process;
    process.setWorkingDirectory(workDir);
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForFinished(60000) || process.exitStatus() != QProcess::NormalExit
        || process.exitCode() != 0) {
        *errorString = QStringLiteral("%1 failed: %2")
                           .arg(program, QString::fromLocal8Bit(process.readAll()));
        return false;
    }
    return true;
}

// nginx WebDAV with TLS on two ports: port() speaks HTTP/2 with clients that
// offer it by ALPN (HTTP/1.1 with the others), http1Port() only HTTP/1.1. Its certificate (for
// 127.0.0.1) is signed by a CA made for this run, which the clients are told to trust.
class TlsNginx
{
public:
    ~TlsNginx() { stop(); }

    bool start(QString *errorString)
    {
        if (!m_dir.isValid()) {
            *errorString = QStringLiteral("no temporary directory");
            return false;
        }
        const QString d = m_dir.path();
        if (!makeCertificates(errorString))
            return false;
        for (int attempt = 0; attempt < 5; ++attempt) {
            const quint16 port = TestSupport::freePort();
            quint16 http1Port = TestSupport::freePort();
            while (http1Port == port)
                http1Port = TestSupport::freePort();
            NginxConfig config;
            config.dir = d;
            config.forBenchmarks = true;
            config.listen = {QStringLiteral("%1 ssl http2").arg(port),
                             QStringLiteral("%1 ssl").arg(http1Port)};
            config.tlsCertificate = d + QStringLiteral("/server.crt");
            config.tlsKey = d + QStringLiteral("/server.key");
            if (!config.write(errorString))
                return false;
            config.setUpProcess(m_process);
            m_process.start();
            if (!m_process.waitForStarted(5000)) {
                *errorString = QStringLiteral("cannot run nginx: ") + m_process.errorString();
                return false;
            }
            bool accepted = false;
            waitFor(
                [&] {
                    if (m_process.state() != QProcess::Running)
                        return true;
                    QTcpSocket probe;
                    probe.connectToHost(QHostAddress::LocalHost, port);
                    accepted = probe.waitForConnected(500);
                    return accepted;
                },
                10000);
            if (accepted) {
                m_port = port;
                m_http1Port = http1Port;
                return true;
            }
            QFile log(d + QStringLiteral("/error.log"));
            const QString text
                = log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll()) : QString();
            stop();
            if (!text.contains(QStringLiteral("Address already in use"))) {
                *errorString = QStringLiteral("nginx did not start: ") + text;
                return false;
            }
        }
        *errorString = QStringLiteral("nginx found no free port");
        return false;
    }

    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
    }

    quint16 port() const { return m_port; }
    quint16 http1Port() const { return m_http1Port; }
    QString rootPath() const { return m_dir.path() + QStringLiteral("/root"); }
    QString caPath() const { return m_dir.path() + QStringLiteral("/ca.crt"); }

private:
    bool makeCertificates(QString *errorString)
    {
        const QString d = m_dir.path();
        const QString openssl = QStringLiteral("openssl");
        QFile ext(d + QStringLiteral("/server.ext"));
        if (!ext.open(QIODevice::WriteOnly)
            || ext.write("basicConstraints=CA:FALSE\n"
                         "keyUsage=digitalSignature,keyEncipherment\n"
                         "extendedKeyUsage=serverAuth\n"
                         "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
                < 0) {
            *errorString = QStringLiteral("cannot write the certificate extensions");
            return false;
        }
        ext.close();
        const QStringList ecKey
            = {QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
               QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes")};
        return runTool(openssl,
                       QStringList {QStringLiteral("req"), QStringLiteral("-x509")} + ecKey
                           + QStringList {QStringLiteral("-keyout"), QStringLiteral("ca.key"),
                                          QStringLiteral("-out"), QStringLiteral("ca.crt"),
                                          QStringLiteral("-days"), QStringLiteral("2"),
                                          QStringLiteral("-subj"),
                                          QStringLiteral("/CN=psa_bench test CA")},
                       d, errorString)
            && runTool(openssl,
                       QStringList {QStringLiteral("req")} + ecKey
                           + QStringList {QStringLiteral("-keyout"), QStringLiteral("server.key"),
                                          QStringLiteral("-out"), QStringLiteral("server.csr"),
                                          QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1")},
                       d, errorString)
            && runTool(openssl,
                       {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                        QStringLiteral("server.csr"), QStringLiteral("-CA"),
                        QStringLiteral("ca.crt"), QStringLiteral("-CAkey"),
                        QStringLiteral("ca.key"), QStringLiteral("-CAcreateserial"),
                        QStringLiteral("-out"), QStringLiteral("server.crt"),
                        QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-extfile"),
                        QStringLiteral("server.ext")},
                       d, errorString);
    }

    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    quint16 m_http1Port = 0;
};

// Counts the replies of a storage's managers (all of them report to the
// storage's own) and those that really went over HTTP/2, so that a figure
// cannot claim the wrong protocol.
struct ProtocolCounter
{
    int http2Replies = 0;
    int replies = 0;
    QMetaObject::Connection connection;

    explicit ProtocolCounter(QNetworkAccessManager *manager)
    {
        connection = QObject::connect(
            manager, &QNetworkAccessManager::finished, [this](QNetworkReply *reply) {
                ++replies;
                if (reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool())
                    ++http2Replies;
            });
    }
    ~ProtocolCounter() { QObject::disconnect(connection); }
};

// PSA_BENCH_LINK_CONNECTIONS: the storage's maxConnectionsPerHost for the
// link runs (default: the storage's default). PSA_BENCH_LINK_WORKLOADS: the
// labels of the workloads to run, comma-separated (default: all).
int linkConnections()
{
    return qEnvironmentVariableIntValue("PSA_BENCH_LINK_CONNECTIONS");
}

struct Workload
{
    QString label; // "200x1MiB"
    int count;
    qint64 size;
    bool single; // one large file: its peak memory matters, its rate is in MiB/s
};

struct SideRun
{
    double seconds = -1;
    qint64 peakRss = 0;
    double stallMaxMs = 0;
    double stallP99Ms = 0;
    double http2Share = 0;
    int inFlight = 0; // what the storage suggested at the end
};

class LinkBench
{
public:
    LinkBench(const Config &config, Report &report)
        : m_config(config)
        , m_report(report)
    { }

    void run()
    {
        QString problem;
        if (!m_nginx.start(&problem)) {
            m_report.fail(QStringLiteral("link"), problem);
            return;
        }
        LinkProfile profile;
        profile.oneWayDelayMs = m_config.linkDelayMs;
        profile.mbitPerSecond = m_config.linkMbit;
        if (!m_shaper.start(m_nginx.port(), profile, &problem)
            || !m_shaper1.start(m_nginx.http1Port(), profile, &problem)) {
            m_report.fail(QStringLiteral("link"), problem);
            return;
        }
        m_prefix = QStringLiteral("tls_rtt%1ms").arg(profile.rttMs());
        progress(QStringLiteral("link: nginx with TLS on 127.0.0.1:%1 behind a %2 ms, %3 Mbit/s "
                                "link on 127.0.0.1:%4")
                     .arg(m_nginx.port())
                     .arg(profile.rttMs())
                     .arg(profile.mbitPerSecond)
                     .arg(m_shaper.port()));
        // The queue and every QNetworkAccessManager trust the run's CA through
        // the default configuration, as an app with a private CA would.
        const QSslConfiguration original = QSslConfiguration::defaultConfiguration();
        QSslConfiguration trusting = original;
        trusting.addCaCertificates(QSslCertificate::fromPath(m_nginx.caPath()));
        QSslConfiguration::setDefaultConfiguration(trusting);

        const QList<Workload> workloads
            = {{QStringLiteral("%1x%2").arg(countLabel(m_config.linkPhotos),
                                            sizeLabel(m_config.linkPhotoSize)),
                m_config.linkPhotos, m_config.linkPhotoSize, false},
               {QStringLiteral("%1x%2").arg(countLabel(m_config.linkThumbs),
                                            sizeLabel(m_config.linkThumbSize)),
                m_config.linkThumbs, m_config.linkThumbSize, false},
               {sizeLabel(m_config.linkBigSize), 1, m_config.linkBigSize, true}};
        const QStringList wanted = qEnvironmentVariable("PSA_BENCH_LINK_WORKLOADS")
                                       .split(QLatin1Char(','), Qt::SkipEmptyParts);
        for (const Workload &workload : workloads) {
            if (!wanted.isEmpty() && !wanted.contains(workload.label))
                continue;
            if (!runWorkload(workload, false) || !runWorkload(workload, true))
                break;
        }
        QSslConfiguration::setDefaultConfiguration(original);
        m_shaper1.stop();
        m_shaper.stop();
        m_nginx.stop();
    }

private:
    // HTTP/2 by ALPN, or the port that only speaks HTTP/1.1.
    QUrl url(const QString &path, bool http2 = true) const
    {
        return QUrl(QStringLiteral("https://127.0.0.1:%1/%2")
                        .arg(http2 ? m_shaper.port() : m_shaper1.port())
                        .arg(path));
    }

    static QString fileName(int index)
    {
        return QStringLiteral("p%1.dat").arg(index, 6, 10, QLatin1Char('0'));
    }

    bool runWorkload(const Workload &w, bool upload)
    {
        const QString direction = upload ? QStringLiteral("upload") : QStringLiteral("download");
        const QString name = QStringLiteral("%1_%2_%3").arg(m_prefix, direction, w.label);
        const int timeout = m_config.quick ? 120000 : 1800000;
        QString problem;
        // The sources: in nginx's root for downloads, in a local directory for uploads.
        QTemporaryDir work;
        const QString sources = upload
            ? QString(work.path() + QStringLiteral("/src"))
            : QString(m_nginx.rootPath() + QStringLiteral("/dl-") + w.label);
        QDir().mkpath(sources);
        progress(
            QStringLiteral("link: writing %1 files of %2").arg(w.count).arg(sizeLabel(w.size)));
        for (int i = 0; i < w.count; ++i) {
            if (!writeDataFile(sources + QLatin1Char('/') + fileName(i), w.size, 5000 + i,
                               &problem)) {
                m_report.fail(name, problem);
                return false;
            }
        }

        SideRun curl, http1, http2;
        const auto keepBest = [](SideRun &best, const SideRun &attempt) {
            if (best.seconds < 0 || attempt.seconds < best.seconds)
                best = attempt;
        };
        // Alternating, so that a neighbour's burst of load hits each side alike.
        for (int round = 0; round < m_config.repeat; ++round) {
            SideRun attempt;
            if (!runCurl(w, upload, sources, work.path(), timeout, &attempt, name))
                return false;
            keepBest(curl, attempt);
            if (!runQueue(w, upload, false, sources, timeout, &attempt, name))
                return false;
            keepBest(http1, attempt);
            if (!runQueue(w, upload, true, sources, timeout, &attempt, name))
                return false;
            keepBest(http2, attempt);
        }
        if (!upload)
            QDir(sources).removeRecursively();

        for (const bool h2 : {false, true}) {
            const SideRun &side = h2 ? http2 : http1;
            const QString figureName
                = name + (h2 ? QStringLiteral("_http2") : QStringLiteral("_http1"));
            Figure figure;
            if (w.single) {
                figure = makeFigure(figureName, w.size / MiB / side.seconds,
                                    w.size / MiB / curl.seconds, QStringLiteral("MiB/s"),
                                    Figure::Higher, 0.8, QStringLiteral("curl"));
            } else {
                figure = makeFigure(figureName, w.count / side.seconds, w.count / curl.seconds,
                                    QStringLiteral("files/s"), Figure::Higher, 0.8,
                                    QStringLiteral("curl"));
            }
            figure.extra = {{QStringLiteral("project_s"), side.seconds},
                            {QStringLiteral("curl_s"), curl.seconds},
                            {QStringLiteral("link_MiB_per_s"), m_config.linkMbit * 1e6 / 8 / MiB},
                            {QStringLiteral("project_MiB_per_s"),
                             double(w.count) * w.size / MiB / side.seconds},
                            {QStringLiteral("in_flight"), double(side.inFlight)},
                            {QStringLiteral("http2_share"), side.http2Share},
                            {QStringLiteral("peak_rss_MiB"), side.peakRss / MiB},
                            {QStringLiteral("curl_peak_rss_MiB"), curl.peakRss / MiB},
                            {QStringLiteral("stall_max_ms"), side.stallMaxMs},
                            {QStringLiteral("stall_p99_ms"), side.stallP99Ms}};
            m_report.add(figure);
        }
        return true;
    }

    bool runCurl(const Workload &w, bool upload, const QString &sources, const QString &workDir,
                 int timeout, SideRun *result, const QString &name)
    {
        progress(QStringLiteral("link: %1 %2, curl over HTTP/2, %3 in parallel")
                     .arg(upload ? QStringLiteral("upload") : QStringLiteral("download"), w.label)
                     .arg(m_config.linkHttp2Streams));
        const QString out = workDir + QStringLiteral("/curl-out");
        QDir(out).removeRecursively();
        QDir().mkpath(out);
        const QString target = QStringLiteral("up-curl-") + w.label;
        const QString configPath = workDir + QStringLiteral("/curl.config");
        {
            QFile file(configPath);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                m_report.fail(name, QStringLiteral("cannot write the curl config"));
                return false;
            }
            QTextStream config(&file);
            for (int i = 0; i < w.count; ++i) {
                if (upload) {
                    config << "upload-file = \"" << sources << '/' << fileName(i) << "\"\n"
                           << "url = \"" << url(target + QLatin1Char('/') + fileName(i)).toString()
                           << "\"\n"
                           << "output = \"/dev/null\"\n";
                } else {
                    config << "url = \""
                           << url(QStringLiteral("dl-") + w.label + QLatin1Char('/') + fileName(i))
                                  .toString()
                           << "\"\n"
                           << "output = \"" << out << '/' << fileName(i) << "\"\n";
                }
            }
        }
        const ChildRun run = runMeasured(
            QStringLiteral("curl"),
            {QStringLiteral("-s"), QStringLiteral("-S"), QStringLiteral("--fail"),
             QStringLiteral("--http2"), QStringLiteral("--cacert"), m_nginx.caPath(),
             QStringLiteral("--parallel"), QStringLiteral("--parallel-max"),
             QString::number(m_config.linkHttp2Streams), QStringLiteral("-K"), configPath},
            timeout);
        const QString arrived
            = upload ? QString(m_nginx.rootPath() + QLatin1Char('/') + target) : out;
        if (!run.ok() || filesOfSize(arrived, w.size) != w.count) {
            m_report.fail(
                name,
                QStringLiteral("curl failed: %1").arg(QString::fromLocal8Bit(run.standardError)));
            return false;
        }
        QDir(arrived).removeRecursively();
        result->seconds = run.seconds;
        result->peakRss = run.maxRssBytes;
        result->http2Share = 1;
        return true;
    }

    bool runQueue(const Workload &w, bool upload, bool h2, const QString &sources, int timeout,
                  SideRun *result, const QString &name)
    {
        // The queue's and the storage's defaults: the storage suggests how
        // many transfers run (its connections, or its HTTP/2 streams).
        QueueEnv env(m_config.synchronous);
        QHttpRemoteStorage remote;
        if (linkConnections() > 0)
            remote.setMaxConnectionsPerHost(linkConnections());
        remote.setMaxHttp2Streams(m_config.linkHttp2Streams);
        progress(QStringLiteral("link: %1 %2, queue against the %3 port, %4 connections, %5 "
                                "HTTP/2 streams")
                     .arg(upload ? QStringLiteral("upload") : QStringLiteral("download"), w.label,
                          h2 ? QStringLiteral("HTTP/2") : QStringLiteral("HTTP/1.1"))
                     .arg(remote.maxConnectionsPerHost())
                     .arg(remote.maxHttp2Streams()));
        const QString target = QStringLiteral("up-queue-") + w.label;
        ProtocolCounter counter(remote.networkAccessManager());
        remote.setBaseUrl(upload ? url(target + QLatin1Char('/'), h2)
                                 : url(QStringLiteral("dl-") + w.label + QLatin1Char('/'), h2));
        env.queue->setRemoteStorage(&remote);
        if (!env.isOpen()) {
            m_report.fail(name, QStringLiteral("the database did not open"));
            return false;
        }
        QString failure;
        if (upload) {
            // Saved before the clock starts: the link is what is measured.
            for (int i = 0; i < w.count; ++i) {
                const QAttachment saved = env.queue->saveFileFromPath(
                    sources + QLatin1Char('/') + fileName(i),
                    QStringLiteral("application/octet-stream"), {}, {}, {}, &failure);
                if (!saved.isValid()) {
                    m_report.fail(name, QStringLiteral("saveFileFromPath: ") + failure);
                    return false;
                }
            }
        }
        Completion completion(env.queue.get(), w.count,
                              upload ? QAttachmentTransfer::Upload : QAttachmentTransfer::Download);
        StallProbe probe;
        resetPeakRss();
        probe.start();
        completion.start();
        if (!env.queue->startSync()) {
            m_report.fail(name, QStringLiteral("the queue did not start"));
            return false;
        }
        if (!upload) {
            QList<QWatchedAttachmentItem> items;
            for (int i = 0; i < w.count; ++i)
                items.append(QWatchedAttachmentItem(fileName(i).chopped(4), QStringLiteral("dat")));
            env.queue->setWatchedAttachments(items);
        }
        waitFor([&] { return completion.done(); }, timeout);
        probe.stop();
        result->peakRss = peakRss();
        failure = completion.problem();
        const QString arrived
            = upload ? QString(m_nginx.rootPath() + QLatin1Char('/') + target) : env.filesDir();
        if (failure.isEmpty() && filesOfSize(arrived, w.size) != w.count)
            failure = QStringLiteral("not every file arrived with its size");
        if (failure.isEmpty() && !upload
            && !sameContent(env.filesDir() + QLatin1Char('/') + fileName(w.count / 2),
                            sources + QLatin1Char('/') + fileName(w.count / 2)))
            failure = QStringLiteral("a downloaded file differs from its source");
        if (failure.isEmpty() && upload && w.single) {
            const QStringList names = QDir(arrived).entryList(QDir::Files);
            if (names.size() != 1
                || !sameContent(arrived + QLatin1Char('/') + names.first(),
                                sources + QLatin1Char('/') + fileName(0)))
                failure = QStringLiteral("the uploaded file differs from its source");
        }
        if (!failure.isEmpty()) {
            m_report.fail(name, failure);
            return false;
        }
        env.queue->stopSyncing();
        if (upload)
            QDir(arrived).removeRecursively();
        result->seconds = completion.seconds();
        result->stallMaxMs = probe.maxGapMs();
        result->stallP99Ms = probe.percentileGapMs(99);
        result->http2Share
            = counter.replies > 0 ? double(counter.http2Replies) / counter.replies : 0;
        result->inFlight
            = qMax(env.queue->maxConcurrentTransfers(), remote.suggestedConcurrentTransfers());
        // Downloads, and uploads of more than 1 MiB, keep to HTTP/1.1 whatever
        // the server offers (doc/http.md); smaller uploads to the HTTP/2 port
        // must have used it.
        const bool http2Expected = h2 && upload && w.size <= MiB;
        if (http2Expected ? counter.http2Replies == 0 : (!h2 && counter.http2Replies > 0)) {
            m_report.fail(name, QStringLiteral("the requests did not use the protocol asked for"));
            return false;
        }
        return true;
    }

    const Config &m_config;
    Report &m_report;
    TlsNginx m_nginx;
    LinkShaper m_shaper; // to the port that speaks HTTP/2
    LinkShaper m_shaper1; // to the port that only speaks HTTP/1.1
    QString m_prefix;
};

} // namespace

void runLinkBenchmarks(const Config &config, Report &report)
{
    LinkBench bench(config, report);
    bench.run();
}

} // namespace Bench
