#include "benchharness.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qeventloop.h>
#include <QtCore/qfile.h>
#include <QtCore/qtextstream.h>
#include <QtNetwork/qnetworkaccessmanager.h>
#include <QtNetwork/qnetworkreply.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace Bench {

bool Figure::passes() const
{
    if (limit <= 0)
        return false;
    return better == Higher ? ratio() >= targetRatio : ratio() <= targetRatio;
}

QString Figure::targetText() const
{
    return QStringLiteral("ratio %1 %2")
        .arg(better == Higher ? QStringLiteral(">=") : QStringLiteral("<="),
             QString::number(targetRatio));
}

QString formatNumber(double value)
{
    if (std::isnan(value) || std::isinf(value))
        return QStringLiteral("null");
    const double magnitude = std::fabs(value);
    if (magnitude >= 1000)
        return QString::number(value, 'f', 0);
    if (magnitude >= 10)
        return QString::number(value, 'f', 1);
    return QString::number(value, 'f', 3);
}

static QString jsonString(const QString &text)
{
    QString out = QStringLiteral("\"");
    for (const QChar c : text) {
        if (c == QLatin1Char('"') || c == QLatin1Char('\\'))
            out += QLatin1Char('\\');
        out += c;
    }
    return out + QLatin1Char('"');
}

void Report::add(const Figure &figure)
{
    m_figures.append(figure);
    // Hand-written so that the fields come in a fixed, readable order.
    QString line
        = QStringLiteral("{\"name\":%1,\"project\":%2,\"limit\":%3,\"unit\":%4,\"ratio\":%5")
              .arg(jsonString(figure.name), formatNumber(figure.project),
                   formatNumber(figure.limit), jsonString(figure.unit),
                   formatNumber(figure.ratio()));
    line += QStringLiteral(",\"limit_source\":%1,\"target\":%2,\"pass\":%3")
                .arg(jsonString(figure.limitSource), jsonString(figure.targetText()),
                     figure.passes() ? QStringLiteral("true") : QStringLiteral("false"));
    for (const auto &[key, value] : figure.extra)
        line += QStringLiteral(",%1:%2").arg(jsonString(key), formatNumber(value));
    line += QLatin1Char('}');
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}

void Report::fail(const QString &benchmark, const QString &reason)
{
    m_failures.append(benchmark + QStringLiteral(": ") + reason);
    std::fprintf(stdout, "{\"name\":%s,\"error\":%s}\n", qPrintable(jsonString(benchmark)),
                 qPrintable(jsonString(reason)));
    std::fflush(stdout);
}

bool Report::allTargetsMet() const
{
    return std::all_of(m_figures.cbegin(), m_figures.cend(),
                       [](const Figure &figure) { return figure.passes(); });
}

void Report::printTable() const
{
    QTextStream out(stdout);
    const QStringList header
        = {QStringLiteral("figure"), QStringLiteral("project"), QStringLiteral("limit"),
           QStringLiteral("unit"),   QStringLiteral("ratio"),   QStringLiteral("target"),
           QStringLiteral("result")};
    QList<QStringList> rows;
    rows.append(header);
    for (const Figure &figure : m_figures) {
        rows.append({figure.name, formatNumber(figure.project),
                     formatNumber(figure.limit) + QStringLiteral(" (") + figure.limitSource
                         + QLatin1Char(')'),
                     figure.unit, formatNumber(figure.ratio()), figure.targetText(),
                     figure.passes() ? QStringLiteral("ok") : QStringLiteral("MISSED")});
    }
    QList<int> widths(header.size(), 0);
    for (const QStringList &row : std::as_const(rows))
        for (int i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], int(row.at(i).size()));
    out << '\n';
    for (int r = 0; r < rows.size(); ++r) {
        for (int i = 0; i < rows.at(r).size(); ++i)
            out << rows.at(r).at(i).leftJustified(widths.at(i) + 2);
        out << '\n';
        if (r == 0) {
            int total = 0;
            for (int w : std::as_const(widths))
                total += w + 2;
            out << QString(total, QLatin1Char('-')) << '\n';
        }
    }
    for (const QString &failure : m_failures)
        out << "FAILED " << failure << '\n';
    out.flush();
}

// --- child processes ----------------------------------------------------------

int measureChildMain(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "--measure-child OUTFILE PROGRAM [ARGS...]\n");
        return 127;
    }
    const pid_t pid = ::fork();
    if (pid < 0)
        return 127;
    if (pid == 0) {
        ::execvp(argv[1], argv + 1);
        std::fprintf(stderr, "cannot run %s: %s\n", argv[1], std::strerror(errno));
        ::_exit(127);
    }
    int status = 0;
    struct rusage usage;
    std::memset(&usage, 0, sizeof usage);
    if (::wait4(pid, &status, 0, &usage) < 0)
        return 127;
    if (FILE *out = std::fopen(argv[0], "w")) {
        std::fprintf(out, "%ld\n", usage.ru_maxrss);
        std::fclose(out);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ChildRun runMeasured(const QString &program, const QStringList &arguments, int timeoutMs)
{
    ChildRun run;
    QTemporaryDir dir;
    const QString rssFile = dir.path() + QStringLiteral("/maxrss");
    QProcess process;
    process.setProcessChannelMode(QProcess::SeparateChannels);
    process.setStandardOutputFile(QProcess::nullDevice());
    QStringList args = {QStringLiteral("--measure-child"), rssFile, program};
    args += arguments;
    QElapsedTimer clock;
    clock.start();
    process.start(QCoreApplication::applicationFilePath(), args);
    if (!process.waitForStarted(10000))
        return run;
    run.started = true;
    waitFor([&] { return process.state() == QProcess::NotRunning; }, timeoutMs);
    run.seconds = double(clock.nsecsElapsed()) / 1e9;
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished(5000);
        run.exitCode = -2;
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.standardError = process.readAllStandardError();
    QFile rss(rssFile);
    if (rss.open(QIODevice::ReadOnly))
        run.maxRssBytes = rss.readAll().trimmed().toLongLong() * 1024;
    return run;
}

double runQnam(const QList<QnamTransfer> &transfers, bool upload, int parallel, int timeoutMs,
               QString *errorString)
{
    QnamPool pool;
    pool.parallel = parallel;
    return runQnamPool(transfers, upload, pool, timeoutMs, errorString);
}

double runQnamPool(const QList<QnamTransfer> &transfers, bool upload, const QnamPool &pool,
                   int timeoutMs, QString *errorString)
{
    std::vector<std::unique_ptr<QNetworkAccessManager>> managers;
    for (int i = 0; i < qMax(1, pool.managers); ++i)
        managers.push_back(std::make_unique<QNetworkAccessManager>());
    std::vector<int> inFlight(managers.size(), 0);
    qsizetype next = 0;
    qsizetype finished = 0;
    bool failed = false;
    std::function<void()> startNext = [&] {
        if (next >= transfers.size() || failed)
            return;
        const QnamTransfer &transfer = transfers.at(next++);
        QNetworkRequest request(transfer.url);
        request.setRawHeader("Accept-Encoding", "identity");
        if (pool.http2Direct) {
            request.setAttribute(QNetworkRequest::Http2DirectAttribute, true);
            if (!upload)
                request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
        }
        size_t slot = 0;
        for (size_t i = 1; i < managers.size(); ++i) {
            if (inFlight[i] < inFlight[slot])
                slot = i;
        }
        QNetworkAccessManager &manager = *managers[slot];
        auto *file = new QFile(transfer.path);
        QNetworkReply *reply = nullptr;
        if (upload) {
            if (!file->open(QIODevice::ReadOnly)) {
                failed = true;
                *errorString = file->errorString();
                delete file;
                return;
            }
            request.setHeader(QNetworkRequest::ContentLengthHeader, file->size());
            reply = manager.put(request, file);
        } else {
            if (!file->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                failed = true;
                *errorString = file->errorString();
                delete file;
                return;
            }
            reply = manager.get(request);
            reply->setReadBufferSize(256 * 1024);
            QObject::connect(reply, &QIODevice::readyRead, reply,
                             [reply, file] { file->write(reply->readAll()); });
        }
        ++inFlight[slot];
        file->setParent(reply);
        QObject::connect(reply, &QNetworkReply::finished, reply, [&, reply, file, slot] {
            if (!upload)
                file->write(reply->readAll());
            if (reply->error() != QNetworkReply::NoError) {
                failed = true;
                *errorString = reply->errorString();
            }
            reply->deleteLater();
            --inFlight[slot];
            ++finished;
            startNext();
        });
    };
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < pool.parallel; ++i)
        startNext();
    waitFor([&] { return failed || finished == transfers.size(); }, timeoutMs);
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    if (failed || finished != transfers.size()) {
        if (errorString->isEmpty())
            *errorString = QStringLiteral("timed out");
        return -1;
    }
    return seconds;
}

// --- event loop ---------------------------------------------------------------

void StallProbe::start()
{
    m_gapsNs.clear();
    m_gapsNs.reserve(1 << 20);
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(1);
    QObject::disconnect(&m_timer, nullptr, this, nullptr);
    QObject::connect(&m_timer, &QTimer::timeout, this, [this] {
        const qint64 now = m_clock.nsecsElapsed();
        m_gapsNs.append(now - m_last);
        m_last = now;
    });
    m_clock.start();
    m_last = 0;
    m_timer.start();
}

void StallProbe::stop()
{
    // The gap that is still open counts too: a call that blocked until the
    // end would otherwise never be seen.
    if (m_timer.isActive())
        m_gapsNs.append(m_clock.nsecsElapsed() - m_last);
    m_timer.stop();
}

double StallProbe::maxGapMs() const
{
    if (m_gapsNs.isEmpty())
        return 0;
    return double(*std::max_element(m_gapsNs.cbegin(), m_gapsNs.cend())) / 1e6;
}

double StallProbe::percentileGapMs(double percentile) const
{
    if (m_gapsNs.isEmpty())
        return 0;
    QList<qint64> sorted = m_gapsNs;
    std::sort(sorted.begin(), sorted.end());
    const qsizetype index
        = std::min(sorted.size() - 1, qsizetype(std::ceil(percentile / 100.0 * sorted.size())) - 1);
    return double(sorted.at(std::max<qsizetype>(0, index))) / 1e6;
}

bool waitFor(const std::function<bool()> &condition, int timeoutMs)
{
    if (condition())
        return true;
    QEventLoop loop;
    QElapsedTimer clock;
    clock.start();
    // A cheap periodic check; the figures themselves are taken by the signal
    // handlers, so its interval does not round them.
    QTimer check;
    check.setInterval(5);
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        if (condition() || clock.elapsed() >= timeoutMs)
            loop.quit();
    });
    check.start();
    loop.exec();
    return condition();
}

// --- memory and data ------------------------------------------------------------

static void fillData(char *data, qint64 size, quint64 &state)
{
    // xorshift64: fast, and incompressible enough that no layer can cheat.
    qint64 i = 0;
    for (; i + 8 <= size; i += 8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::memcpy(data + i, &state, 8);
    }
    for (; i < size; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data[i] = char(state);
    }
}

QByteArray dataBytes(qint64 size, quint64 seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    quint64 state = seed * 0x9E3779B97F4A7C15ull + 1;
    fillData(bytes.data(), size, state);
    return bytes;
}

bool writeDataFile(const QString &path, qint64 size, quint64 seed, QString *errorString)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        *errorString = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    quint64 state = seed * 0x9E3779B97F4A7C15ull + 1;
    constexpr qint64 Chunk = 1 << 20;
    QByteArray buffer(Chunk, Qt::Uninitialized);
    for (qint64 done = 0; done < size;) {
        const qint64 n = std::min(Chunk, size - done);
        fillData(buffer.data(), n, state);
        if (file.write(buffer.constData(), n) != n) {
            *errorString = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
            return false;
        }
        done += n;
    }
    return true;
}

} // namespace Bench
