#ifndef BENCHMARKS_H
#define BENCHMARKS_H

#include "benchharness.h"

#include <QtCore/qstringlist.h>

namespace Bench {

struct Config
{
    bool quick = false;
    int smallCount = 2000;
    qint64 smallSize = 64 * 1024;
    qint64 bigSize = qint64(1) << 30;
    int reconcileCount = 100000;
    int startupCount = 100000;
    int curlParallel = 6;
    int repeat = 1; // small-file runs: the best of this many, for curl and the queue alike
    // PRAGMA synchronous of the app's database. NORMAL is what apps in WAL
    // mode usually run with; FULL adds a flush to every commit.
    QString synchronous = QStringLiteral("NORMAL");
    QStringList only; // benchmark names to run; empty: all
    // The realistic-link profile: the link, and what goes over it.
    int linkDelayMs = 20; // each way
    double linkMbit = 100;
    int linkHttp2Streams = 32; // transfers in flight over HTTP/2, for curl and the queue
    int linkPhotos = 200;
    qint64 linkPhotoSize = 1024 * 1024;
    int linkThumbs = 2000;
    qint64 linkThumbSize = 16 * 1024;
    qint64 linkBigSize = qint64(256) * 1024 * 1024;

    static Config full();
    static Config quickRun();
    bool wants(const QString &name) const { return only.isEmpty() || only.contains(name); }
};

// Every benchmark's names, in the order they run.
QStringList benchmarkNames();

class Benchmarks
{
public:
    Benchmarks(const Config &config, Report &report);
    ~Benchmarks();

    void run();

private:
    bool ensureServer();
    void runBig();
    void runSmallDownloads();
    void runSmallUploads();
    void runOverhead();
    void runReconcile();
    void runStartup();

    Config m_config;
    Report &m_report;
    std::unique_ptr<NginxServer> m_server;
    bool m_serverFailed = false;
};

} // namespace Bench

#endif // BENCHMARKS_H
