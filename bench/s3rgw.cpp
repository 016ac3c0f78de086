// psa_bench_s3: QS3RemoteStorage against Ceph's RADOS Gateway on 127.0.0.1,
// beside `curl --aws-sigv4` doing the same transfers with the same
// parallelism. Many small objects up and down: 200 x 1 MiB and 2,000 x 64 KiB.
//
// The cluster is the one the tests use (tests/support/rgw/rgwcluster.sh,
// Debian packages ceph-mon, ceph-osd, radosgw, ceph-common).

#include "benchharness.h"
#include "rgwprocess.h"

#include "qattachment.h"
#include "qattachmenttransfer.h"
#include "qs3remotestorage.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtextstream.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

using namespace Bench;

namespace {

constexpr int Parallel = 6; // QNetworkAccessManager's connections per host; curl --parallel-max
constexpr int TimeoutMs = 600000;

void progress(const QString &text)
{
    std::fprintf(stderr, "%s\n", qPrintable(text));
}

QString objectName(int i)
{
    return QStringLiteral("obj-%1.bin").arg(i, 5, 10, QLatin1Char('0'));
}

// Runs `count` transfers, `Parallel` at a time, each a file of its own;
// returns the wall time in seconds or a negative value on the first failure.
double runStorage(QS3RemoteStorage &storage, QAttachmentTransfer::Kind kind, const QString &dir,
                  int count, QString *errorString)
{
    int next = 0;
    int done = 0;
    bool failed = false;
    std::function<void()> startNext = [&] {
        if (next >= count || failed)
            return;
        const int i = next++;
        auto *file = new QFile(dir + QLatin1Char('/') + objectName(i));
        const bool up = kind == QAttachmentTransfer::Upload;
        if (!file->open(up ? QIODevice::ReadOnly : (QIODevice::ReadWrite | QIODevice::Truncate))) {
            failed = true;
            *errorString = file->errorString();
            delete file;
            return;
        }
        const QAttachment attachment(QString::number(i), objectName(i));
        QAttachmentTransfer *transfer
            = up ? storage.upload(attachment, file) : storage.download(attachment, file);
        QObject::connect(transfer, &QAttachmentTransfer::finished, transfer, [&, transfer, file] {
            if (transfer->error().isError() && !failed) {
                failed = true;
                *errorString = transfer->error().message();
            }
            ++done;
            transfer->deleteLater();
            delete file;
            startNext();
        });
    };
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < Parallel; ++i)
        startNext();
    if (!waitFor([&] { return done == next && (next == count || failed); }, TimeoutMs)) {
        *errorString = QStringLiteral("timed out");
        return -1;
    }
    return failed ? -1 : double(clock.nsecsElapsed()) / 1e9;
}

// curl with one config file listing every transfer, `Parallel` at a time.
ChildRun runCurl(const RgwProcess &rgw, bool upload, const QString &dir, const QString &prefix,
                 int count, const QString &configPath)
{
    QFile config(configPath);
    if (!config.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    QTextStream out(&config);
    for (int i = 0; i < count; ++i) {
        const QString url = rgw.endpoint().toString() + QLatin1Char('/') + RgwProcess::bucket()
            + QLatin1Char('/') + prefix + objectName(i);
        out << "url = \"" << url << "\"\n";
        out << (upload ? "upload-file" : "output") << " = \"" << dir << '/' << objectName(i)
            << "\"\n";
    }
    out.flush();
    config.close();
    return runMeasured(
        QStringLiteral("curl"),
        {QStringLiteral("--silent"), QStringLiteral("--show-error"), QStringLiteral("--fail"),
         QStringLiteral("--parallel"), QStringLiteral("--parallel-max"), QString::number(Parallel),
         QStringLiteral("--aws-sigv4"), QStringLiteral("aws:amz:us-east-1:s3"),
         QStringLiteral("--user"),
         RgwProcess::accessKeyId() + QLatin1Char(':') + RgwProcess::secretAccessKey(),
         // curl 7.88 does not send the payload hash it signs.
         QStringLiteral("-H"), QStringLiteral("x-amz-content-sha256: UNSIGNED-PAYLOAD"),
         QStringLiteral("--config"), configPath},
        TimeoutMs);
}

// Every file of `dir` has `size` bytes and a sample matches the source.
bool verify(const QString &sourceDir, const QString &dir, int count, qint64 size, QString *why)
{
    for (int i = 0; i < count; ++i) {
        const QString path = dir + QLatin1Char('/') + objectName(i);
        if (QFileInfo(path).size() != size) {
            *why = QStringLiteral("%1 has %2 bytes").arg(path).arg(QFileInfo(path).size());
            return false;
        }
    }
    for (int i : {0, count / 2, count - 1}) {
        QFile a(sourceDir + QLatin1Char('/') + objectName(i));
        QFile b(dir + QLatin1Char('/') + objectName(i));
        if (!a.open(QIODevice::ReadOnly) || !b.open(QIODevice::ReadOnly)
            || a.readAll() != b.readAll()) {
            *why = QStringLiteral("%1 differs from its source").arg(b.fileName());
            return false;
        }
    }
    return true;
}

void benchmark(Report &report, const RgwProcess &rgw, int count, qint64 size, const QString &label)
{
    QTemporaryDir work;
    const QString source = work.path() + QStringLiteral("/source");
    const QString ours = work.path() + QStringLiteral("/ours");
    const QString theirs = work.path() + QStringLiteral("/curl");
    for (const QString &dir : {source, ours, theirs})
        QDir().mkpath(dir);
    QString error;
    for (int i = 0; i < count; ++i) {
        if (!writeDataFile(source + QLatin1Char('/') + objectName(i), size, quint64(i) + 1,
                           &error)) {
            report.fail(label, error);
            return;
        }
    }
    QS3RemoteStorage storage;
    storage.setEndpoint(rgw.endpoint());
    storage.setBucket(RgwProcess::bucket());
    storage.setAccessKeyId(RgwProcess::accessKeyId());
    storage.setSecretAccessKey(RgwProcess::secretAccessKey());
    storage.setKeyPrefix(label + QStringLiteral("/ours/"));

    progress(QStringLiteral("%1: curl upload").arg(label));
    const ChildRun curlUp = runCurl(rgw, true, source, label + QStringLiteral("/curl/"), count,
                                    work.path() + QStringLiteral("/up.curl"));
    if (!curlUp.ok()) {
        report.fail(label,
                    QStringLiteral("curl upload: ") + QString::fromLocal8Bit(curlUp.standardError));
        return;
    }
    progress(QStringLiteral("%1: QS3RemoteStorage upload").arg(label));
    const qint64 rssBefore = peakRss();
    const double up = runStorage(storage, QAttachmentTransfer::Upload, source, count, &error);
    if (up < 0) {
        report.fail(label, QStringLiteral("upload: ") + error);
        return;
    }
    progress(QStringLiteral("%1: curl download").arg(label));
    const ChildRun curlDown = runCurl(rgw, false, theirs, label + QStringLiteral("/curl/"), count,
                                      work.path() + QStringLiteral("/down.curl"));
    if (!curlDown.ok() || !verify(source, theirs, count, size, &error)) {
        report.fail(label,
                    QStringLiteral("curl download: ")
                        + QString::fromLocal8Bit(curlDown.standardError) + error);
        return;
    }
    progress(QStringLiteral("%1: QS3RemoteStorage download").arg(label));
    const double down = runStorage(storage, QAttachmentTransfer::Download, ours, count, &error);
    if (down < 0 || !verify(source, ours, count, size, &error)) {
        report.fail(label, QStringLiteral("download: ") + error);
        return;
    }
    const double mib = double(count) * double(size) / (1024.0 * 1024.0);
    Figure upload {QStringLiteral("s3_rgw_upload_%1_time").arg(label),
                   up,
                   curlUp.seconds,
                   QStringLiteral("s"),
                   Figure::Lower,
                   1.5,
                   QStringLiteral("curl"),
                   {{QStringLiteral("objects_per_s"), count / up},
                    {QStringLiteral("curl_objects_per_s"), count / curlUp.seconds},
                    {QStringLiteral("MiB_per_s"), mib / up},
                    {QStringLiteral("parallel"), Parallel}}};
    report.add(upload);
    Figure download {QStringLiteral("s3_rgw_download_%1_time").arg(label),
                     down,
                     curlDown.seconds,
                     QStringLiteral("s"),
                     Figure::Lower,
                     1.5,
                     QStringLiteral("curl"),
                     {{QStringLiteral("objects_per_s"), count / down},
                      {QStringLiteral("curl_objects_per_s"), count / curlDown.seconds},
                      {QStringLiteral("MiB_per_s"), mib / down},
                      {QStringLiteral("parallel"), Parallel},
                      {QStringLiteral("peak_rss_MiB"), peakRss() / 1048576.0},
                      {QStringLiteral("rss_before_MiB"), rssBefore / 1048576.0}}};
    report.add(download);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc >= 2 && std::strcmp(argv[1], "--measure-child") == 0)
        return measureChildMain(argc - 2, argv + 2);
    QCoreApplication app(argc, argv);
    const bool quick = app.arguments().contains(QStringLiteral("--quick"));

    QString why;
    if (!RgwProcess::isAvailable(&why)) {
        std::fprintf(stderr, "psa_bench_s3: %s\n", qPrintable(why));
        return 1;
    }
    RgwProcess rgw;
    progress(QStringLiteral("starting the Ceph cluster"));
    if (!rgw.start(&why)) {
        std::fprintf(stderr, "psa_bench_s3: %s\n", qPrintable(why));
        return 1;
    }
    progress(QStringLiteral("RADOS Gateway ready after %1 ms").arg(rgw.startupMs()));

    Report report;
    benchmark(report, rgw, quick ? 20 : 200, 1024 * 1024, QStringLiteral("200x1MiB"));
    benchmark(report, rgw, quick ? 200 : 2000, 64 * 1024, QStringLiteral("2000x64KiB"));
    rgw.stop();
    progress(QStringLiteral("Ceph daemons, peak resident memory: %1 KiB").arg(rgw.peakMemoryKiB()));
    report.printTable();
    if (report.hasFailures())
        return 1;
    return app.arguments().contains(QStringLiteral("--strict")) && !report.allTargetsMet() ? 2 : 0;
}
