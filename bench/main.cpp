// psa_bench: measures the attachment queue beside curl against nginx WebDAV on
// loopback, and beside the absolute targets for the local work. One JSON line
// per figure on stdout, a table at the end; progress goes to stderr.

#include "benchmarks.h"
#include "linkshaper.h"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv)
{
    // Runs a child and reports its peak memory; no Qt needed, and none wanted
    // in the measured process tree.
    if (argc >= 2 && std::strcmp(argv[1], "--measure-child") == 0)
        return Bench::measureChildMain(argc - 2, argv + 2);
    // The link shaper of the realistic-link profile, in a process of its own.
    if (argc >= 2 && std::strcmp(argv[1], "--shape-link") == 0)
        return Bench::linkShaperMain(argc, argv);

    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("psa_bench"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Benchmarks of the attachment queue. Benchmarks: %1.")
            .arg(Bench::benchmarkNames().join(QStringLiteral(", "))));
    parser.addHelpOption();
    const QCommandLineOption quick(QStringLiteral("quick"),
                                   QStringLiteral("Small sizes: a smoke run of a few seconds."));
    const QCommandLineOption only(QStringLiteral("only"),
                                  QStringLiteral("Run only these benchmarks (comma separated)."),
                                  QStringLiteral("names"));
    const QCommandLineOption strict(QStringLiteral("strict"),
                                    QStringLiteral("Exit with 2 when a figure misses its target."));
    const QCommandLineOption count(QStringLiteral("small-count"),
                                   QStringLiteral("Files in the download and upload benchmarks."),
                                   QStringLiteral("n"));
    const QCommandLineOption bigMiB(QStringLiteral("big-mib"),
                                    QStringLiteral("Size of the large file, in MiB."),
                                    QStringLiteral("n"));
    const QCommandLineOption rows(QStringLiteral("rows"),
                                  QStringLiteral("Ids and rows in the reconcile and startup "
                                                 "benchmarks."),
                                  QStringLiteral("n"));
    const QCommandLineOption synchronous(
        QStringLiteral("synchronous"),
        QStringLiteral("PRAGMA synchronous of the app database (default NORMAL)."),
        QStringLiteral("mode"), QStringLiteral("NORMAL"));
    const QCommandLineOption repeat(
        QStringLiteral("repeat"),
        QStringLiteral("Run the small-file transfers this many times and keep the best of each "
                       "side (default 1)."),
        QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption linkRtt(
        QStringLiteral("link-rtt-ms"),
        QStringLiteral("Round trip of the realistic link (default 40)."), QStringLiteral("ms"));
    const QCommandLineOption linkMbit(
        QStringLiteral("link-mbit"),
        QStringLiteral("Bit rate of the realistic link (default 100)."), QStringLiteral("n"));
    const QCommandLineOption linkStreams(
        QStringLiteral("link-streams"),
        QStringLiteral("Transfers in flight over HTTP/2 on the realistic link (default 32)."),
        QStringLiteral("n"));
    const QCommandLineOption linkPhotos(
        QStringLiteral("link-photos"),
        QStringLiteral("Photos of 1 MiB on the realistic link (default 200)."),
        QStringLiteral("n"));
    const QCommandLineOption linkThumbs(
        QStringLiteral("link-thumbs"),
        QStringLiteral("Thumbnails of 16 KiB on the realistic link (default 2000)."),
        QStringLiteral("n"));
    const QCommandLineOption linkBigMiB(
        QStringLiteral("link-big-mib"),
        QStringLiteral("Size of the large file on the realistic link, in MiB (default 256)."),
        QStringLiteral("n"));
    parser.addOptions({quick, only, strict, count, bigMiB, rows, synchronous, repeat, linkRtt,
                       linkMbit, linkStreams, linkPhotos, linkThumbs, linkBigMiB});
    parser.process(app);

    Bench::Config config = parser.isSet(quick) ? Bench::Config::quickRun() : Bench::Config::full();
    if (parser.isSet(only)) {
        config.only = parser.value(only).split(QLatin1Char(','), Qt::SkipEmptyParts);
        for (const QString &name : std::as_const(config.only)) {
            if (!Bench::benchmarkNames().contains(name)) {
                std::fprintf(stderr, "unknown benchmark %s\n", qPrintable(name));
                return 1;
            }
        }
    }
    if (parser.isSet(count))
        config.smallCount = qMax(1, parser.value(count).toInt());
    if (parser.isSet(bigMiB))
        config.bigSize = qMax<qint64>(1, parser.value(bigMiB).toLongLong()) * 1024 * 1024;
    if (parser.isSet(rows)) {
        config.reconcileCount = qMax(1, parser.value(rows).toInt());
        config.startupCount = config.reconcileCount;
    }
    config.repeat = qMax(1, parser.value(repeat).toInt());
    if (parser.isSet(linkRtt))
        config.linkDelayMs = qMax(0, parser.value(linkRtt).toInt() / 2);
    if (parser.isSet(linkMbit))
        config.linkMbit = qMax(0.1, parser.value(linkMbit).toDouble());
    if (parser.isSet(linkStreams))
        config.linkHttp2Streams = qMax(1, parser.value(linkStreams).toInt());
    if (parser.isSet(linkPhotos))
        config.linkPhotos = qMax(1, parser.value(linkPhotos).toInt());
    if (parser.isSet(linkThumbs))
        config.linkThumbs = qMax(1, parser.value(linkThumbs).toInt());
    if (parser.isSet(linkBigMiB))
        config.linkBigSize = qMax<qint64>(1, parser.value(linkBigMiB).toLongLong()) * 1024 * 1024;
    config.synchronous = parser.value(synchronous).toUpper();
    if (!QStringList {QStringLiteral("OFF"), QStringLiteral("NORMAL"), QStringLiteral("FULL"),
                      QStringLiteral("EXTRA")}
             .contains(config.synchronous)) {
        std::fprintf(stderr, "--synchronous takes OFF, NORMAL, FULL or EXTRA\n");
        return 1;
    }

    Bench::Report report;
    Bench::Benchmarks benchmarks(config, report);
    benchmarks.run();
    report.printTable();
    if (report.hasFailures())
        return 1;
    if (parser.isSet(strict) && !report.allTargetsMet())
        return 2;
    return 0;
}
