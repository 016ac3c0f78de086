#ifndef BENCHHARNESS_H
#define BENCHHARNESS_H

#include "nginxserver.h"
#include "testsupport.h"

#include <QtCore/qelapsedtimer.h>
#include <QtCore/qlist.h>
#include <QtCore/qobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtCore/qurl.h>

#include <functional>
#include <memory>

namespace Bench {

// One measured figure beside the limit it is held to. `limit` is either what
// curl achieved on the same data or an absolute target; `ratio` is
// project / limit, and the target says which side of `targetRatio` passes.
struct Figure
{
    enum Better { Higher, Lower };

    QString name;
    double project = 0;
    double limit = 0;
    QString unit;
    Better better = Lower;
    double targetRatio = 1.0; // Higher: ratio >= targetRatio; Lower: ratio <= targetRatio
    QString limitSource; // "curl" or "target"
    QList<std::pair<QString, double>> extra; // further numbers for the JSON line

    double ratio() const { return limit > 0 ? project / limit : 0; }
    bool passes() const;
    QString targetText() const;
};

// Prints each figure as one JSON line when it is added, and the table at the end.
class Report
{
public:
    void add(const Figure &figure);
    void fail(const QString &benchmark, const QString &reason);
    void printTable() const;
    bool hasFailures() const { return !m_failures.isEmpty(); }
    bool allTargetsMet() const;

private:
    QList<Figure> m_figures;
    QStringList m_failures;
};

// A child process run to completion with its wall time and peak resident
// memory (from wait4(), through this program's --measure-child mode).
struct ChildRun
{
    bool started = false;
    int exitCode = -1;
    double seconds = 0;
    qint64 maxRssBytes = -1;
    QByteArray standardError;
    bool ok() const { return started && exitCode == 0; }
};
ChildRun runMeasured(const QString &program, const QStringList &arguments, int timeoutMs);
// The --measure-child mode: `argv` is OUTFILE PROGRAM ARGS...; runs PROGRAM,
// writes its ru_maxrss (KiB) to OUTFILE and returns its exit status.
int measureChildMain(int argc, char **argv);

// The same transfers through a bare QNetworkAccessManager (six in flight, bodies
// streamed to and from files): what Qt's HTTP stack alone achieves, so that
// the queue's own cost can be told apart from the transport's.
struct QnamTransfer
{
    QUrl url;
    QString path;
};
// Returns the wall time in seconds, or a negative value when a transfer failed.
double runQnam(const QList<QnamTransfer> &transfers, bool upload, int parallel, int timeoutMs,
               QString *errorString);
// The same with the queue's concurrency: `parallel` transfers in flight
// spread over `managers` managers (each new request to the one with the
// fewest in flight, the first on a tie, as the storages' pool routes them).
// `http2Direct`: every request with Http2DirectAttribute (cleartext HTTP/2
// with prior knowledge). Downloads also carry Http2AllowedAttribute false,
// from when the queue's downloads did; they go to a port that speaks nothing
// but HTTP/2 and complete, so Qt 6.4 speaks HTTP/2 for them all the same.
struct QnamPool
{
    int managers = 1;
    int parallel = 6;
    bool http2Direct = false;
};
double runQnamPool(const QList<QnamTransfer> &transfers, bool upload, const QnamPool &pool,
                   int timeoutMs, QString *errorString);

// A 1 ms precise timer on the current thread: the gaps between its ticks are
// how long the event loop could not run anything else.
class StallProbe : public QObject
{
public:
    void start();
    void stop();
    double maxGapMs() const;
    double percentileGapMs(double percentile) const;
    qsizetype samples() const { return m_gapsNs.size(); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    QList<qint64> m_gapsNs;
};

// Runs the event loop until `condition` holds or `timeoutMs` passes.
bool waitFor(const std::function<bool()> &condition, int timeoutMs);

// Peak resident memory, and resetting it, from the tests' support library.
using TestSupport::peakRss;
using TestSupport::resetPeakRss;

// Writes `size` deterministic pseudo-random bytes to `path`.
bool writeDataFile(const QString &path, qint64 size, quint64 seed, QString *errorString);
QByteArray dataBytes(qint64 size, quint64 seed);

QString formatNumber(double value);

} // namespace Bench

#endif // BENCHHARNESS_H
