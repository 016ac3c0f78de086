// psa_bench_powersync: the queue on a PowerSync database (its table a
// local-only PowerSync view, written through the core's triggers) beside the
// same work on a plain table of the same SQLite. Figures:
//  - reconciling N watched ids into an empty table, then against a full one;
//  - the CPU time one check for other connections' commits costs when nothing
//    changed (pollInterval at 1 ms for a second).
// One JSON line per figure on stdout, a table at the end.

#include "benchharness.h"
#include "fakeremotestorage.h"

#include <qattachmentqueue.h>
#include <qpowersynccore.h>
#include <qpowersyncschema.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qelapsedtimer.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/quuid.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#include <sys/resource.h>

#include <cstdio>

using namespace Bench;

namespace {

void progress(const QString &text)
{
    std::fprintf(stderr, "# %s\n", qPrintable(text));
}

double cpuSeconds()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

Figure figure(const QString &name, double value, double limit, const QString &unit)
{
    Figure f;
    f.name = name;
    f.project = value;
    f.limit = limit;
    f.unit = unit;
    f.better = Figure::Lower;
    f.targetRatio = 1.0;
    f.limitSource = QStringLiteral("target");
    return f;
}

// A database file with the queue's table: a PowerSync view, or a plain table.
class Env
{
public:
    explicit Env(bool powerSync)
        : connection(QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(dir.path() + QStringLiteral("/app.db"));
        if (!db.open()) {
            problem = db.lastError().text();
            return;
        }
        QSqlQuery(db).exec(QStringLiteral("PRAGMA journal_mode=WAL"));
        QSqlQuery(db).exec(QStringLiteral("PRAGMA synchronous=NORMAL"));
        QAttachmentQueueTable table;
        if (powerSync) {
            table.setViewName(QStringLiteral("attachments"));
            if (!QPowerSyncCore::applySchema(db, QPowerSyncSchema({table.toPowerSyncTable()}),
                                             &problem))
                return;
        }
        queue = std::make_unique<QAttachmentQueue>();
        queue->setConnectionName(connection);
        queue->setTable(table);
        queue->setLocalDirectory(dir.path() + QStringLiteral("/files"));
        queue->setSyncInterval(0);
        queue->setRemoteStorage(&remote);
        // Offline: the rows reconciliation inserts stay queued, so only the
        // reconciliation itself is measured.
        queue->setOnline(false);
        if (!queue->startSync())
            problem = QStringLiteral("the queue did not start");
        target = powerSync ? QStringLiteral("attachments") : table.name();
    }
    ~Env()
    {
        queue.reset();
        {
            QSqlDatabase db = QSqlDatabase::database(connection, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    }
    qint64 count(const QString &sql) const
    {
        QSqlQuery query(QSqlDatabase::database(connection, false));
        return query.exec(sql.arg(target)) && query.next() ? query.value(0).toLongLong() : -1;
    }
    bool exec(const QString &sql)
    {
        QSqlQuery query(QSqlDatabase::database(connection, false));
        if (query.exec(sql.arg(target)))
            return true;
        problem = query.lastError().text();
        return false;
    }

    QTemporaryDir dir;
    QString connection;
    QString target;
    QString problem;
    FakeRemoteStorage remote;
    std::unique_ptr<QAttachmentQueue> queue;
};

bool runReconcile(Report &report, bool powerSync, int count)
{
    const QString kind = powerSync ? QStringLiteral("view") : QStringLiteral("table");
    const QString label
        = count % 1000 == 0 ? QStringLiteral("%1k").arg(count / 1000) : QString::number(count);
    progress(QStringLiteral("reconcile: %1 watched ids, PowerSync %2").arg(label, kind));
    Env env(powerSync);
    if (!env.problem.isEmpty()) {
        report.fail(QStringLiteral("reconcile_") + kind, env.problem);
        return false;
    }
    QList<QWatchedAttachmentItem> items;
    items.reserve(count);
    for (int i = 0; i < count; ++i)
        items.append(QWatchedAttachmentItem(QStringLiteral("r%1").arg(i, 7, 10, QLatin1Char('0')),
                                            QStringLiteral("jpg")));
    const auto measure = [&](const QString &name, const QString &check) {
        QElapsedTimer clock;
        const double cpuBefore = cpuSeconds();
        clock.start();
        env.queue->setWatchedAttachments(items);
        // Large watched sets are written in slices from the event loop.
        waitFor([&] { return env.queue->isIdle(); }, 120000);
        QCoreApplication::processEvents();
        const double seconds = double(clock.nsecsElapsed()) / 1e9;
        // On a shared machine the process's own CPU time varies less.
        const double cpu = cpuSeconds() - cpuBefore;
        const qint64 rows = env.count(QStringLiteral("SELECT COUNT(*) FROM %1"));
        const qint64 matching = env.count(check);
        if (rows != count || matching != count) {
            report.fail(name,
                        QStringLiteral("%1 rows, %2 as expected; want %3")
                            .arg(rows)
                            .arg(matching)
                            .arg(count));
            return false;
        }
        Figure f = figure(name, seconds, 1.0, QStringLiteral("s"));
        f.extra = {{QStringLiteral("rows_per_s"), count / seconds}, {QStringLiteral("cpu_s"), cpu}};
        report.add(f);
        return true;
    };
    const QString prefix = QStringLiteral("reconcile_%1_").arg(label)
        + (powerSync ? QStringLiteral("powersync_view") : QStringLiteral("plain_table"));
    if (!measure(prefix + QStringLiteral("_empty"),
                 QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 0")))
        return false;
    // Every row synced and watched: a periodic sync where nothing changes.
    if (!env.exec(
            QStringLiteral("UPDATE %1 SET state = 3, has_synced = 1, local_uri = filename"))) {
        report.fail(prefix, env.problem);
        return false;
    }
    if (!measure(prefix + QStringLiteral("_full"),
                 QStringLiteral("SELECT COUNT(*) FROM %1 WHERE state = 3")))
        return false;

    // The checks for other connections' commits, with nothing committed: the
    // queue's CPU time over a second of 1 ms checks, less that of a second
    // without checks, per check (at most 1,000 checks ran: an upper bound).
    env.queue->setWatchQuery(QStringLiteral("SELECT id FROM %1").arg(env.target));
    const auto cpuOverASecond = [&](int pollInterval) {
        env.queue->setPollInterval(pollInterval);
        QCoreApplication::processEvents();
        const double before = cpuSeconds();
        waitFor([] { return false; }, 1000);
        return cpuSeconds() - before;
    };
    const double idle = cpuOverASecond(0);
    const double polling = cpuOverASecond(1);
    Figure f = figure(QStringLiteral("poll_idle_") + kind + QStringLiteral("_cpu_us_per_check"),
                      qMax(0.0, polling - idle) * 1e6 / 1000, 100, QStringLiteral("us"));
    f.extra = {{QStringLiteral("cpu_ms_per_s_polling_1ms"), polling * 1e3},
               {QStringLiteral("cpu_ms_per_s_not_polling"), idle * 1e3}};
    report.add(f);
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The attachment queue on a PowerSync database beside a plain table."));
    parser.addHelpOption();
    const QCommandLineOption rows(QStringLiteral("rows"),
                                  QStringLiteral("Watched ids reconciled (default 100000)."),
                                  QStringLiteral("n"), QStringLiteral("100000"));
    const QCommandLineOption quick(QStringLiteral("quick"), QStringLiteral("2,000 ids."));
    const QCommandLineOption core(
        QStringLiteral("core"), QStringLiteral("The PowerSync core library."),
        QStringLiteral("path"),
        QStringLiteral(PSA_POWERSYNC_LIB_DIR "/") + QPowerSyncCore::platformFileName());
    parser.addOptions({rows, quick, core});
    parser.process(app);

    QString error;
    if (!QPowerSyncCore::load(parser.value(core), {}, &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    progress(QStringLiteral("PowerSync core %1, SQLite %2")
                 .arg(QPowerSyncCore::version(), QPowerSyncCore::sqliteVersion()));
    const int count = parser.isSet(quick) ? 2000 : parser.value(rows).toInt();
    Report report;
    runReconcile(report, false, count);
    runReconcile(report, true, count);
    report.printTable();
    return report.hasFailures() ? 1 : 0;
}
