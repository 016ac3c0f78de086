#include "stallbench.h"

#include "benchmarks.h"
#include "benchqueue.h"

#include <qattachmentqueue.h>
#include <qattachmentremotestorage.h>
#include <qattachmenttransaction.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qfile.h>
#include <QtCore/qtimer.h>

namespace Bench {

namespace {

// A remote that never finishes anything: these benchmarks measure the queue's
// own work on its thread, not transfers.
class SilentTransfer : public QAttachmentTransfer
{
public:
    using QAttachmentTransfer::QAttachmentTransfer;
};

class SilentRemoteStorage : public QAttachmentRemoteStorage
{
public:
    QAttachmentTransfer *upload(const QAttachment &, QIODevice *) override
    {
        return new SilentTransfer(QAttachmentTransfer::Upload);
    }
    QAttachmentTransfer *download(const QAttachment &, QIODevice *) override
    {
        return new SilentTransfer(QAttachmentTransfer::Download);
    }
    QAttachmentTransfer *remove(const QAttachment &) override
    {
        return new SilentTransfer(QAttachmentTransfer::Delete);
    }
};

Figure stallFigure(const QString &name, const StallProbe &probe, double seconds)
{
    Figure figure = makeFigure(name, probe.maxGapMs(), 50, QStringLiteral("ms"), Figure::Lower, 1.0,
                               QStringLiteral("target"));
    figure.extra = {{QStringLiteral("p99_ms"), probe.percentileGapMs(99)},
                    {QStringLiteral("total_s"), seconds},
                    {QStringLiteral("ticks"), double(probe.samples())}};
    return figure;
}

// Runs `action` from the event loop while the probe ticks, then waits for
// `done`; returns the seconds from the action to done.
double probed(StallProbe &probe, const std::function<void()> &action,
              const std::function<bool()> &done, int timeoutMs, bool *finished)
{
    probe.start();
    QElapsedTimer clock;
    // Let the probe tick a few times first, so that the action starts from
    // a running event loop, as it does in an app.
    QTimer::singleShot(5, [&] {
        clock.start();
        action();
    });
    waitFor([&] { return clock.isValid() && done(); }, timeoutMs);
    probe.stop();
    *finished = clock.isValid() && done();
    return clock.isValid() ? double(clock.nsecsElapsed()) / 1e9 : 0;
}

// A remote whose downloads never finish, counting those that started.
class CountingSilentRemote : public SilentRemoteStorage
{
public:
    int downloads = 0;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override
    {
        ++downloads;
        return SilentRemoteStorage::download(attachment, sink);
    }
};

// The scheduler starting over `count` pending downloads: the queue comes
// online with every row queued, reads its pending work and starts as many
// transfers as it has slots (against a remote that never answers).
void runSchedulerStartStall(const Config &config, Report &report)
{
    const int count = config.reconcileCount;
    const QString label = countLabel(count);
    const int timeout = 120000;
    QueueEnv env(config.synchronous);
    CountingSilentRemote remote;
    env.queue->setRemoteStorage(&remote);
    env.queue->setOnline(false);
    if (!env.isOpen() || !env.queue->startSync()) {
        report.fail(QStringLiteral("stall_scheduler_start"),
                    QStringLiteral("the queue did not start"));
        return;
    }
    QList<QWatchedAttachmentItem> items;
    items.reserve(count);
    for (int i = 0; i < count; ++i)
        items.append(QWatchedAttachmentItem(QStringLiteral("s%1").arg(i, 7, 10, QLatin1Char('0')),
                                            QStringLiteral("jpg")));
    progress(QStringLiteral("stall: the scheduler starting over %1 pending downloads").arg(label));
    env.queue->setWatchedAttachments(items);
    if (!waitFor([&] { return env.queue->isIdle(); }, timeout)
        || env.count(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 0")
                         .arg(env.queue->tableName()))
            != count) {
        report.fail(QStringLiteral("stall_scheduler_start"),
                    QStringLiteral("the pending rows did not appear"));
        return;
    }
    const int slotCount = env.queue->maxConcurrentTransfers();
    StallProbe probe;
    bool finished = false;
    const double seconds = probed(
        probe, [&] { env.queue->setOnline(true); },
        [&] { return remote.downloads >= slotCount && env.queue->activeTransfers() >= slotCount; },
        timeout, &finished);
    if (!finished || remote.downloads != slotCount) {
        report.fail(
            QStringLiteral("stall_scheduler_start"),
            QStringLiteral("%1 downloads started, not %2").arg(remote.downloads).arg(slotCount));
        return;
    }
    report.add(
        stallFigure(QStringLiteral("stall_max_scheduler_start_%1").arg(label), probe, seconds));
    env.queue->stopSyncing();
}

// With a rollback journal a commit waits for every reader of the file: another
// connection reads for a second while the app saves, once with an update hook
// (a transaction of the queue's own) and once without (one statement).
void runReaderStall(const Config &config, Report &report)
{
    const QString name = QStringLiteral("stall_max_read_database");
    QueueEnv env(config.synchronous);
    {
        QSqlQuery mode(env.database());
        if (!env.isOpen() || !mode.exec(QStringLiteral("PRAGMA journal_mode=DELETE"))
            || !mode.next() || mode.value(0).toString() != QLatin1String("delete")) {
            report.fail(name,
                        QStringLiteral("no rollback journal: %1").arg(mode.lastError().text()));
            return;
        }
    }
    SilentRemoteStorage remote;
    env.queue->setRemoteStorage(&remote);
    env.queue->setOnline(false);
    if (!env.queue->startSync()
        || !env.queue->saveFile(QByteArray("first"), {}, QStringLiteral("txt")).isValid()) {
        report.fail(name, QStringLiteral("the queue did not start"));
        return;
    }
    progress(QStringLiteral("stall: a rollback-journal database read by another connection "
                            "for 1 s"));
    const QString other = env.connection + QStringLiteral("-reader");
    QSqlDatabase readDb = env.openAnother(other);
    QSqlQuery read(readDb);
    if (!readDb.isOpen() || !read.exec(QStringLiteral("BEGIN"))
        || !read.exec(QStringLiteral("SELECT COUNT(*) FROM %1").arg(env.queue->tableName()))
        || !read.next()) {
        report.fail(name, read.lastError().text());
        return;
    }
    StallProbe probe;
    bool readEnded = false;
    int savesOk = 0;
    double saveSeconds = 0;
    bool finished = false;
    const auto save = [&](bool withHook) {
        QElapsedTimer saveClock;
        saveClock.start();
        const auto hook = [](QAttachmentTransaction &, const QAttachment &) { return true; };
        if (env.queue
                ->saveFile(
                    QByteArray("read over"), QStringLiteral("text/plain"), QStringLiteral("txt"),
                    withHook ? QAttachmentQueue::UpdateHook(hook) : QAttachmentQueue::UpdateHook(),
                    {}, nullptr)
                .isValid())
            ++savesOk;
        saveSeconds = qMax(saveSeconds, double(saveClock.nsecsElapsed()) / 1e9);
    };
    const double seconds = probed(
        probe,
        [&] {
            save(true);
            // The next save a moment later, as an app's come: two calls in a
            // row would be one stall of both waits.
            QTimer::singleShot(100, [&] {
                save(false);
                QTimer::singleShot(1000, [&] {
                    read.finish();
                    QSqlQuery(readDb).exec(QStringLiteral("ROLLBACK"));
                    readEnded = true;
                });
            });
        },
        [&] { return readEnded; }, 30000, &finished);
    read = QSqlQuery();
    readDb.close();
    readDb = QSqlDatabase();
    QSqlDatabase::removeDatabase(other);
    if (!finished) {
        report.fail(name, QStringLiteral("the read never ended"));
        return;
    }
    Figure figure = stallFigure(name, probe, seconds);
    figure.extra.append({QStringLiteral("save_file_max_s"), saveSeconds});
    figure.extra.append({QStringLiteral("saves_ok"), double(savesOk)});
    report.add(figure);
    env.queue->stopSyncing();
}

} // namespace

void runStallBenchmarks(const Config &config, Report &report)
{
    runSchedulerStartStall(config, report);
    runReaderStall(config, report);

    const int count = config.reconcileCount;
    const QString label = countLabel(count);
    const int timeout = 120000;
    QueueEnv env(config.synchronous);
    // For comparisons: PSA_BENCH_BG_CHECKPOINTS=1 runs checkpoints on the
    // queue's checkpoint thread, =0 (the default) SQLite's own, inside commits.
    env.queue->setBackgroundCheckpoints(qEnvironmentVariableIntValue("PSA_BENCH_BG_CHECKPOINTS"));
    SilentRemoteStorage remote;
    env.queue->setRemoteStorage(&remote);
    env.queue->setOnline(false); // nothing transfers; only the queue's own work runs
    if (!env.isOpen() || !env.queue->startSync()) {
        report.fail(QStringLiteral("stall"), QStringLiteral("the queue did not start"));
        return;
    }
    const QString table = env.queue->tableName();
    // PSA_BENCH_STALL_PROBES=1,2 runs only those probes (numbered below).
    const QStringList probes = qEnvironmentVariable("PSA_BENCH_STALL_PROBES")
                                   .split(QLatin1Char(','), Qt::SkipEmptyParts);
    const auto wanted
        = [&](int n) { return probes.isEmpty() || probes.contains(QString::number(n)); };
    QList<QWatchedAttachmentItem> items;
    items.reserve(count);
    for (int i = 0; i < count; ++i)
        items.append(QWatchedAttachmentItem(QStringLiteral("w%1").arg(i, 7, 10, QLatin1Char('0')),
                                            QStringLiteral("jpg")));

    // 1. Reconciliation of `count` new ids into an empty table.
    if (wanted(1) || wanted(2)) {
        progress(QStringLiteral("stall: reconciling %1 watched ids").arg(label));
        StallProbe probe;
        bool finished = false;
        const double seconds = probed(
            probe, [&] { env.queue->setWatchedAttachments(items); },
            // Polled every few milliseconds on the probed thread: it must be
            // cheap. The result is checked once it holds.
            [&] { return env.queue->isIdle(); }, timeout, &finished);
        if (finished
            && env.count(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 0").arg(table))
                != count)
            finished = false;
        if (!finished) {
            report.fail(QStringLiteral("stall_reconcile"), QStringLiteral("rows did not appear"));
            return;
        }
        report.add(
            stallFigure(QStringLiteral("stall_max_reconcile_%1").arg(label), probe, seconds));
    }

    // 2. Unwatching them all after they synced: archive, then expire down to
    //    the cache limit, deleting their local files.
    if (wanted(2)) {
        progress(QStringLiteral("stall: unwatching %1 synced ids with their files").arg(label));
        QString problem;
        QDir().mkpath(env.filesDir());
        const QByteArray content = dataBytes(1024, 5);
        for (int i = 0; i < count; ++i) {
            QFile file(env.filesDir() + QLatin1Char('/') + items.at(i).id()
                       + QStringLiteral(".jpg"));
            if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size()) {
                report.fail(QStringLiteral("stall_unwatch"), file.errorString());
                return;
            }
        }
        if (!env.exec(QStringLiteral("UPDATE %1 SET state = 3, has_synced = 1, local_uri = "
                                     "filename, size = 1024")
                          .arg(table),
                      &problem)) {
            report.fail(QStringLiteral("stall_unwatch"), problem);
            return;
        }
        const int limit = env.queue->archivedCacheLimit();
        StallProbe probe;
        bool finished = false;
        const double seconds = probed(
            probe, [&] { env.queue->setWatchedAttachments({}); },
            [&] { return env.queue->isIdle(); }, timeout, &finished);
        if (finished
            && (env.count(QStringLiteral("SELECT COUNT(*) FROM %1").arg(table)) != limit
                || filesOfSize(env.filesDir(), 1024) != limit))
            finished = false;
        if (!finished) {
            report.fail(QStringLiteral("stall_unwatch"),
                        QStringLiteral("the table did not shrink to the cache limit"));
            return;
        }
        report.add(stallFigure(QStringLiteral("stall_max_unwatch_%1").arg(label), probe, seconds));
    }

    // 3. Another connection holds the write lock for a second while the app
    //    saves a file and the watched set changes.
    if (wanted(3)) {
        progress(QStringLiteral("stall: a database locked by another connection for 1 s"));
        const QString other = env.connection + QStringLiteral("-other");
        QSqlDatabase lockDb = env.openAnother(other);
        QSqlQuery lock(lockDb);
        if (!lockDb.isOpen() || !lock.exec(QStringLiteral("BEGIN IMMEDIATE"))) {
            report.fail(QStringLiteral("stall_locked"), lock.lastError().text());
            return;
        }
        StallProbe probe;
        bool lockReleased = false;
        bool saved = false;
        double saveSeconds = 0;
        QString saveProblem;
        bool finished = false;
        const double seconds = probed(
            probe,
            [&] {
                QElapsedTimer saveClock;
                saveClock.start();
                saved = env.queue
                            ->saveFile(QByteArray("locked"), QStringLiteral("text/plain"),
                                       QStringLiteral("txt"), {}, {}, &saveProblem)
                            .isValid();
                saveSeconds = double(saveClock.nsecsElapsed()) / 1e9;
                // The next call in a turn of its own, as an app's calls come.
                QTimer::singleShot(0, [&] {
                    env.queue->setWatchedAttachments(items.mid(0, 10));
                    QTimer::singleShot(1000, [&] {
                        QSqlQuery(lockDb).exec(QStringLiteral("ROLLBACK"));
                        lockReleased = true;
                    });
                });
            },
            // Done once the watched set's rows are written after the lock went.
            [&] { return lockReleased && env.queue->isIdle(); }, timeout, &finished);
        if (finished
            && env.count(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 0").arg(table))
                != 10)
            finished = false;
        lock.finish();
        lockDb.close();
        lockDb = QSqlDatabase();
        QSqlDatabase::removeDatabase(other);
        if (!finished) {
            report.fail(QStringLiteral("stall_locked"),
                        QStringLiteral("the watched rows never appeared after the lock went"));
            return;
        }
        Figure figure = stallFigure(QStringLiteral("stall_max_locked_database"), probe, seconds);
        figure.extra.append({QStringLiteral("save_file_s"), saveSeconds});
        figure.extra.append({QStringLiteral("save_file_ok"), saved ? 1.0 : 0.0});
        report.add(figure);
        if (!saved)
            progress(QStringLiteral("stall: saveFile under the lock: %1").arg(saveProblem));
    }

    // `count` rows in `state` (archived or synced), each with a local file of
    // 1 KiB, in place of what the table held.
    const auto fillRows = [&](int state, const QString &figure) {
        QString problem;
        if (!env.exec(QStringLiteral("DELETE FROM %1").arg(table), &problem)) {
            report.fail(figure, problem);
            return false;
        }
        const QByteArray content = dataBytes(1024, 7);
        for (int i = 0; i < count; ++i) {
            QFile file(env.filesDir() + QStringLiteral("/f%1.jpg").arg(i));
            if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size()) {
                report.fail(figure, file.errorString());
                return false;
            }
        }
        if (!env.exec(QStringLiteral("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 "
                                     "FROM n WHERE i < %1) INSERT INTO %2 (id, filename, "
                                     "local_uri, timestamp, size, media_type, state, has_synced, "
                                     "meta_data) SELECT 'f' || i, 'f' || i || '.jpg', 'f' || i "
                                     "|| '.jpg', 1000 + i, 1024, NULL, %3, 1, NULL FROM n")
                          .arg(count - 1)
                          .arg(table)
                          .arg(state),
                      &problem)) {
            report.fail(figure, problem);
            return false;
        }
        return true;
    };

    // 4. expireCache() over `count` archived rows, down to the cache limit.
    if (wanted(4)) {
        progress(QStringLiteral("stall: expireCache() over %1 archived rows").arg(label));
        if (!fillRows(4, QStringLiteral("stall_expire")))
            return;
        const int limit = env.queue->archivedCacheLimit();
        StallProbe probe;
        bool finished = false;
        int returned = 0;
        const double seconds = probed(
            probe, [&] { returned = env.queue->expireCache(); },
            [&] { return env.queue->isIdle(); }, timeout, &finished);
        if (finished && env.count(QStringLiteral("SELECT COUNT(*) FROM %1").arg(table)) != limit)
            finished = false;
        if (!finished || returned < 0) {
            report.fail(QStringLiteral("stall_expire"),
                        QStringLiteral("the table did not shrink to the cache limit"));
            return;
        }
        Figure figure
            = stallFigure(QStringLiteral("stall_max_expire_cache_%1").arg(label), probe, seconds);
        figure.extra.append({QStringLiteral("returned"), double(returned)});
        report.add(figure);
    }

    // 5. clearQueue() of `count` synced rows and their files.
    if (wanted(5)) {
        progress(QStringLiteral("stall: clearQueue() of %1 rows with their files").arg(label));
        if (!fillRows(3, QStringLiteral("stall_clear")))
            return;
        StallProbe probe;
        bool finished = false;
        bool cleared = false;
        const double seconds = probed(
            probe, [&] { cleared = env.queue->clearQueue(); }, [&] { return env.queue->isIdle(); },
            timeout, &finished);
        if (finished
            && (env.count(QStringLiteral("SELECT COUNT(*) FROM %1").arg(table)) != 0
                || filesOfSize(env.filesDir(), 1024) != 0))
            finished = false;
        if (!finished || !cleared) {
            report.fail(QStringLiteral("stall_clear"),
                        QStringLiteral("the table and its files were not cleared"));
            return;
        }
        report.add(
            stallFigure(QStringLiteral("stall_max_clear_queue_%1").arg(label), probe, seconds));
    }

    // 6. startSync() over `count` synced rows: the start-up check of their
    //    files (one in a hundred gone), then reconciliation.
    if (wanted(6)) {
        progress(QStringLiteral("stall: startSync() over %1 synced rows").arg(label));
        env.queue->stopSyncing();
        if (!fillRows(3, QStringLiteral("stall_startup")))
            return;
        for (int i = 0; i < count; i += 100)
            QFile::remove(env.filesDir() + QStringLiteral("/f%1.jpg").arg(i));
        // Every row stays watched: only the check changes rows.
        QList<QWatchedAttachmentItem> all;
        all.reserve(count);
        for (int i = 0; i < count; ++i)
            all.append(QWatchedAttachmentItem(QStringLiteral("f%1").arg(i), QStringLiteral("jpg")));
        env.queue->setWatchedAttachments(all);
        StallProbe probe;
        bool finished = false;
        bool started = false;
        const double seconds = probed(
            probe, [&] { started = env.queue->startSync(); }, [&] { return env.queue->isIdle(); },
            timeout, &finished);
        const int missing = (count + 99) / 100;
        if (finished
            && env.count(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 3").arg(table))
                != count - missing)
            finished = false;
        if (!finished || !started) {
            report.fail(QStringLiteral("stall_startup"),
                        QStringLiteral("the rows without a file stayed synced"));
            return;
        }
        report.add(
            stallFigure(QStringLiteral("stall_max_startup_check_%1").arg(label), probe, seconds));
    }
    env.queue->stopSyncing();
}

} // namespace Bench
