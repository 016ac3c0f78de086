// Two devices share a folder standing in for the server. Device A saves three
// photos (each in one transaction with its checklist item) and uploads them;
// device B receives the checklist rows and downloads the photos; A deletes one.
//
// Usage: attachments-console [work directory]

#include "folderremotestorage.h"

#include <qattachmentqueue.h>

#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlquery.h>

#include <cstdio>
#include <functional>

namespace {

void say(const QString &line)
{
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}

QString openDevice(const QString &name, const QString &dir)
{
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(dir + QLatin1Char('/') + name + QStringLiteral(".db"));
    db.open();
    QSqlQuery(db).exec(QStringLiteral("CREATE TABLE IF NOT EXISTS checklist "
                                      "(id TEXT PRIMARY KEY, title TEXT, photo_id TEXT)"));
    return name;
}

void setUp(QAttachmentQueue &queue, const QString &device, const QString &dir,
           QAttachmentRemoteStorage *remote)
{
    queue.setConnectionName(device);
    queue.setLocalDirectory(dir + QLatin1Char('/') + device + QStringLiteral("-files"));
    queue.setRemoteStorage(remote);
    queue.setWatchQuery(
        QStringLiteral("SELECT photo_id AS id, 'jpg' AS file_extension FROM checklist "
                       "WHERE photo_id IS NOT NULL"));
    queue.setWatchTables({QStringLiteral("checklist")});
    QObject::connect(&queue, &QAttachmentQueue::attachmentChanged, &queue,
                     [device](const QAttachment &a) {
                         say(QStringLiteral("[%1] %2 -> %3")
                                 .arg(device, a.filename(), QAttachmentState::name(a.state())));
                     });
    QObject::connect(
        &queue, &QAttachmentQueue::attachmentRemoved, &queue,
        [device](const QString &id) { say(QStringLiteral("[%1] %2 removed").arg(device, id)); });
}

// Runs `then` once `queue` has nothing left to do.
void whenIdle(QAttachmentQueue &queue, std::function<void()> then)
{
    auto *timer = new QTimer(&queue);
    QObject::connect(timer, &QTimer::timeout, &queue, [&queue, timer, then] {
        if (!queue.isIdle()
            || queue.pendingUploads() + queue.pendingDownloads() + queue.pendingDeletes() > 0)
            return;
        timer->deleteLater();
        then();
    });
    timer->start(20);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTemporaryDir temporary;
    const QString dir
        = argc > 1 ? QDir(QString::fromLocal8Bit(argv[1])).absolutePath() : temporary.path();
    QDir().mkpath(dir);
    say(QStringLiteral("working in %1").arg(dir));

    FolderRemoteStorage server(dir + QStringLiteral("/server"));
    const QString a = openDevice(QStringLiteral("deviceA"), dir);
    const QString b = openDevice(QStringLiteral("deviceB"), dir);
    QAttachmentQueue queueA, queueB;
    setUp(queueA, a, dir, &server);
    setUp(queueB, b, dir, &server);
    queueA.startSync();
    queueB.startSync();

    say(QStringLiteral("-- device A saves three photos"));
    QStringList ids;
    for (int i = 1; i <= 3; ++i) {
        const QByteArray photo
            = QByteArray("photo #") + QByteArray::number(i) + QByteArray(100000, char('a' + i));
        const QString item = QStringLiteral("item%1").arg(i);
        QString error;
        const QAttachment saved = queueA.saveFile(
            photo, QStringLiteral("image/jpeg"), QStringLiteral("jpg"),
            [&](QAttachmentTransaction &tx, const QAttachment &attachment) {
                tx.execute(QStringLiteral("INSERT INTO checklist VALUES (?, ?, ?)"),
                           {item, QStringLiteral("Check %1").arg(i), attachment.id()});
                return true;
            },
            {}, &error);
        if (!saved.isValid()) {
            say(QStringLiteral("save failed: %1").arg(error));
            return 1;
        }
        ids << saved.id();
    }

    whenIdle(queueA, [&] {
        say(QStringLiteral("-- device B receives the checklist rows"));
        QSqlDatabase dbA = QSqlDatabase::database(a);
        QSqlQuery rows(dbA);
        rows.exec(QStringLiteral("SELECT id, title, photo_id FROM checklist"));
        while (rows.next()) {
            QSqlQuery insert(QSqlDatabase::database(b));
            insert.prepare(QStringLiteral("INSERT INTO checklist VALUES (?, ?, ?)"));
            insert.addBindValue(rows.value(0));
            insert.addBindValue(rows.value(1));
            insert.addBindValue(rows.value(2));
            insert.exec();
        }
        whenIdle(queueB, [&] {
            for (const QAttachment &row : queueB.attachments())
                say(QStringLiteral("[deviceB] %1 is %2 at %3")
                        .arg(row.filename(), QAttachmentState::name(row.state()),
                             queueB.localUrl(row).toString()));
            say(QStringLiteral("-- device A deletes the first photo"));
            queueA.deleteFile(
                ids.first(), [](QAttachmentTransaction &tx, const QAttachment &attachment) {
                    tx.execute(
                        QStringLiteral("UPDATE checklist SET photo_id = NULL WHERE photo_id = ?"),
                        {attachment.id()});
                    return true;
                });
            whenIdle(queueA, [&] {
                const bool gone = !QFile::exists(server.folder() + QLatin1Char('/') + ids.first()
                                                 + QStringLiteral(".jpg"));
                say(QStringLiteral("server copy of the deleted photo gone: %1")
                        .arg(gone ? "yes" : "no"));
                say(QStringLiteral("done"));
                QCoreApplication::exit(gone && queueB.attachments().size() == 3 ? 0 : 1);
            });
        });
    });
    QTimer::singleShot(60000, &app, [] {
        say(QStringLiteral("timed out"));
        QCoreApplication::exit(1);
    });
    return app.exec();
}
