// Saves an attachment through the installed library and checks its row; checks
// the installed headers, version macros and (when built) the QML module.
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtQml/qqmlcomponent.h>
#include <QtQml/qqmlengine.h>
#include <QtSql/qsqldatabase.h>

#include <PowerSyncAttachments/QAttachmentQueue>
#include <PowerSyncAttachments/qattachmentqueue.h>
#include <QAttachmentQueue>
#include <QMemoryAttachmentStorage>
#include <qmemoryattachmentstorage.h>

#include <cstdio>
#include <cstring>

static_assert(POWERSYNC_ATTACHMENTS_VERSION
                  == QT_VERSION_CHECK(EXPECTED_VERSION_MAJOR, EXPECTED_VERSION_MINOR,
                                      EXPECTED_VERSION_PATCH),
              "POWERSYNC_ATTACHMENTS_VERSION matches the package version");

static int checkQmlModule()
{
#ifdef QML_IMPORT_DIR
    const QString importDir = QStringLiteral(QML_IMPORT_DIR);
    const QString qmldir = importDir + QStringLiteral("/PowerSync/Attachments/qmldir");
    if (!QFileInfo::exists(qmldir)) {
        std::fprintf(stderr, "no qmldir at %s\n", qPrintable(qmldir));
        return 1;
    }
    // qmlls, qmllint and Qt Creator read the types from the file that the
    // qmldir's typeinfo line names, beside it.
    QFile qmldirFile(qmldir);
    if (!qmldirFile.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "cannot read %s\n", qPrintable(qmldir));
        return 1;
    }
    QString typeinfo;
    for (const QByteArray &line : qmldirFile.readAll().split('\n')) {
        if (line.startsWith("typeinfo "))
            typeinfo = QString::fromUtf8(line.mid(9).trimmed());
    }
    const QString qmltypes = QFileInfo(qmldir).absolutePath() + QLatin1Char('/') + typeinfo;
    if (typeinfo.isEmpty() || !QFileInfo::exists(qmltypes)) {
        std::fprintf(stderr, "no type information for tools (typeinfo \"%s\")\n",
                     qPrintable(typeinfo));
        return 1;
    }
    const QFileInfo plugin(QStringLiteral(QML_PLUGIN_FILE));
    if (!plugin.exists() || plugin.absolutePath() != QFileInfo(qmldir).absolutePath()) {
        std::fprintf(stderr, "the plugin target points to %s\n", QML_PLUGIN_FILE);
        return 1;
    }
    QQmlEngine engine;
    engine.addImportPath(importDir);
    QQmlComponent component(&engine);
    component.setData("import QtQml\nimport PowerSync.Attachments\nQtObject {}\n", QUrl());
    if (!component.isReady()) {
        std::fprintf(stderr, "import PowerSync.Attachments: %s\n",
                     qPrintable(component.errorString()));
        return 1;
    }
    std::printf("qml %s\n", qPrintable(importDir));
#endif
    return 0;
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2)
        return 2;
    std::printf("version %s\n", POWERSYNC_ATTACHMENTS_VERSION_STR);
    if (std::strcmp(POWERSYNC_ATTACHMENTS_VERSION_STR, EXPECTED_VERSION) != 0)
        return 4;
    if (const int qml = checkQmlModule())
        return qml;

    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("app"));
    db.setDatabaseName(
        QDir(QString::fromLocal8Bit(argv[1])).filePath(QStringLiteral("consumer.db")));
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
