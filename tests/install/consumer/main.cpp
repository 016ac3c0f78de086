// Saves an attachment through the installed library and checks its row.
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtSql/qsqldatabase.h>

#include <PowerSyncAttachments/qattachmentqueue.h> // also reachable as <qattachmentqueue.h>
#include <qmemoryattachmentstorage.h>

#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2)
        return 2;
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("app"));
    db.setDatabaseName(QDir(QString::fromLocal8Bit(argv[1])).filePath(QStringLiteral("consumer.db")));
    if (!db.open())
        return 3;

    QMemoryAttachmentStorage storage;
    QAttachmentQueue queue;
    queue.setConnectionName(QStringLiteral("app"));
    queue.setLocalStorage(&storage);
    QString error;
    const QAttachment saved = queue.saveFile("consumer bytes", QStringLiteral("text/plain"),
                                             QStringLiteral("txt"), {}, {}, &error);
    if (!saved.isValid()) {
        std::fprintf(stderr, "saveFile failed: %s\n", qPrintable(error));
        return 1;
    }
    const QAttachment row = queue.attachment(saved.id());
    std::printf("%s %s %lld\n", qPrintable(row.id()),
                qPrintable(QAttachmentState::name(row.state())), row.size());
    return row.state() == QAttachmentState::QueuedUpload && row.size() == 14 ? 0 : 1;
}
