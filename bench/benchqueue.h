#ifndef BENCHQUEUE_H
#define BENCHQUEUE_H

// What the benchmarks that run a queue share: its environment, the counting
// of what it finished, file checks and the names of figures.

#include "benchharness.h"

#include <qattachmentqueue.h>
#include <qattachmenttransfer.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/quuid.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#include <cstdio>
#include <memory>

namespace Bench {

constexpr double MiB = 1024.0 * 1024.0;

// A queue as an app sets it up: its own file-backed SQLite database (WAL) and
// a file-system storage, both in a temp directory.
class QueueEnv
{
public:
    explicit QueueEnv(const QString &synchronous)
        : connection(QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(dir.path() + QStringLiteral("/app.db"));
        if (db.open()) {
            QSqlQuery(db).exec(QStringLiteral("PRAGMA journal_mode=WAL"));
            QSqlQuery(db).exec(QStringLiteral("PRAGMA synchronous=") + synchronous);
        }
        makeQueue();
    }
    ~QueueEnv()
    {
        queue.reset();
        {
            QSqlDatabase db = QSqlDatabase::database(connection, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(connection);
    }

    void makeQueue()
    {
        queue = std::make_unique<QAttachmentQueue>();
        queue->setConnectionName(connection);
        queue->setLocalDirectory(filesDir());
        queue->setSyncInterval(0);
    }
    bool isOpen() const { return dir.isValid() && database().isOpen(); }
    // Another connection to the same file, named `name` (the caller closes
    // and removes it); check isOpen() on what it returns.
    QSqlDatabase openAnother(const QString &name) const
    {
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        other.setDatabaseName(database().databaseName());
        other.open();
        return other;
    }
    QSqlDatabase database() const { return QSqlDatabase::database(connection, false); }
    QString filesDir() const { return dir.path() + QStringLiteral("/files"); }
    bool exec(const QString &sql, QString *errorString) const
    {
        QSqlQuery query(database());
        if (query.exec(sql))
            return true;
        *errorString = query.lastError().text();
        return false;
    }
    qint64 count(const QString &sql) const
    {
        QSqlQuery query(database());
        if (!query.exec(sql) || !query.next())
            return -1;
        return query.value(0).toLongLong();
    }

    QTemporaryDir dir;
    QString connection;
    std::unique_ptr<QAttachmentQueue> queue;
};

// Counts what a queue finished and failed, and when the last expected one came.
struct Completion
{
    Completion(QAttachmentQueue *queue, int expected, QAttachmentTransfer::Kind kind)
        : expected(expected)
    {
        // The signal handlers take the figures; waiting only polls done().
        const auto done = [this] {
            if (++finished == this->expected)
                nanos = clock.nsecsElapsed();
        };
        if (kind == QAttachmentTransfer::Download)
            QObject::connect(queue, &QAttachmentQueue::downloadFinished, &context, done);
        else
            QObject::connect(queue, &QAttachmentQueue::uploadFinished, &context, done);
        QObject::connect(queue, &QAttachmentQueue::transferFailed, &context,
                         [this](const QString &id, QAttachmentTransfer::Kind,
                                const QAttachmentError &error, bool willRetry) {
                             ++failures;
                             if (lastError.isEmpty())
                                 lastError = id + QStringLiteral(": ") + error.message();
                             if (!willRetry)
                                 ++givenUp;
                         });
        QObject::connect(queue, &QAttachmentQueue::errorOccurred, &context,
                         [this](const QAttachmentError &error) {
                             ++failures;
                             ++givenUp;
                             if (lastError.isEmpty())
                                 lastError = error.message();
                         });
    }
    void start() { clock.start(); }
    bool done() const { return finished >= expected || givenUp > 0; }
    double seconds() const { return double(nanos) / 1e9; }
    QString problem() const
    {
        if (finished >= expected && givenUp == 0)
            return {};
        return QStringLiteral("%1 of %2 finished, %3 failures (%4)")
            .arg(finished)
            .arg(expected)
            .arg(failures)
            .arg(lastError.isEmpty() ? QStringLiteral("timed out") : lastError);
    }

    QObject context; // the connections end with this object
    int expected;
    int finished = 0;
    int failures = 0;
    int givenUp = 0;
    QString lastError;
    QElapsedTimer clock;
    qint64 nanos = 0;
};

// How many files of `dir` have exactly `size` bytes.
inline int filesOfSize(const QString &dir, qint64 size)
{
    int matching = 0;
    const QFileInfoList entries = QDir(dir).entryInfoList(QDir::Files);
    for (const QFileInfo &info : entries)
        matching += info.size() == size ? 1 : 0;
    return matching;
}

inline bool sameContent(const QString &a, const QString &b)
{
    QFile fa(a), fb(b);
    if (!fa.open(QIODevice::ReadOnly) || !fb.open(QIODevice::ReadOnly) || fa.size() != fb.size())
        return false;
    constexpr qint64 Chunk = 1 << 20;
    while (!fa.atEnd()) {
        if (fa.read(Chunk) != fb.read(Chunk))
            return false;
    }
    return true;
}

inline QString smallName(int index)
{
    return QStringLiteral("f%1.dat").arg(index, 6, 10, QLatin1Char('0'));
}

inline QString sizeLabel(qint64 bytes)
{
    if (bytes >= (qint64(1) << 30) && bytes % (qint64(1) << 30) == 0)
        return QString::number(bytes >> 30) + QStringLiteral("GiB");
    if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
        return QString::number(bytes >> 20) + QStringLiteral("MiB");
    return QString::number(bytes >> 10) + QStringLiteral("KiB");
}

inline QString countLabel(int count)
{
    return count % 1000 == 0 ? QString::number(count / 1000) + QLatin1Char('k')
                             : QString::number(count);
}

inline void progress(const QString &text)
{
    std::fprintf(stderr, "# %s\n", qPrintable(text));
    std::fflush(stderr);
}

inline Figure makeFigure(const QString &name, double project, double limit, const QString &unit,
                         Figure::Better better, double targetRatio, const QString &limitSource)
{
    Figure figure;
    figure.name = name;
    figure.project = project;
    figure.limit = limit;
    figure.unit = unit;
    figure.better = better;
    figure.targetRatio = targetRatio;
    figure.limitSource = limitSource;
    return figure;
}

} // namespace Bench

#endif // BENCHQUEUE_H
