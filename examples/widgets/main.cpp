// A Qt Widgets app on the attachment queue. Interactive by default; with
// --smoke it adds two documents, waits until both are uploaded, deletes one,
// waits until the server has forgotten it, checks the table and exits.

#include "demoserver.h"
#include "mainwindow.h"

#include <qattachmentmodel.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qtimer.h>
#include <QtSql/qsqldatabase.h>
#include <QtWidgets/qapplication.h>

#include <memory>

namespace {

// The --smoke run, one step after the other as the queue's signals arrive.
class SmokeRun : public QObject
{
public:
    // `serverRoot`: the embedded server's folder, to check what it holds; empty
    // for another server.
    SmokeRun(MainWindow *window, QAttachmentQueue *queue, const QString &serverRoot,
             const QString &screenshotPath)
        : m_window(window)
        , m_queue(queue)
        , m_serverRoot(serverRoot)
        , m_screenshotPath(screenshotPath)
    {
        // A generous bound for a loopback server; the run normally takes well under a second.
        QTimer::singleShot(60000, this, [this] { fail(QStringLiteral("timed out")); });
        connect(queue, &QAttachmentQueue::uploadFinished, this, [this](const QAttachment &a) {
            if (m_uploaded.contains(a.id()))
                return;
            m_uploaded << a.id();
            if (m_uploaded.size() == 2 && !m_deleteRequested) {
                m_deleteRequested = true;
                if (!m_window->deleteDocument(m_first))
                    fail(QStringLiteral("deleteFile failed"));
            }
        });
        // The row goes once the server has confirmed the deletion; the counts
        // follow.
        connect(queue, &QAttachmentQueue::attachmentRemoved, this, [this](const QString &id) {
            if (id != m_first)
                return;
            m_removed = true;
            maybeCheck();
        });
        // Counts are refreshed together, at most every 50 ms: either may be
        // the last to settle.
        connect(queue, &QAttachmentQueue::pendingDeletesChanged, this, &SmokeRun::maybeCheck);
        connect(queue, &QAttachmentQueue::pendingUploadsChanged, this, &SmokeRun::maybeCheck);
    }

    void start()
    {
        m_first = m_window->addDocument(QStringLiteral("first.txt"),
                                        QByteArray("the first document\n").repeated(100),
                                        QStringLiteral("text/plain"));
        m_second = m_window->addDocument(QStringLiteral("second.txt"),
                                         QByteArray("the second document\n").repeated(200),
                                         QStringLiteral("text/plain"));
        if (m_first.isEmpty() || m_second.isEmpty())
            fail(QStringLiteral("saveFile failed"));
    }

private:
    void maybeCheck()
    {
        if (m_removed && !m_checked && m_queue->pendingDeletes() == 0
            && m_queue->pendingUploads() == 0) {
            m_checked = true;
            check();
        }
    }
    void check()
    {
        const QAttachmentModel *model = m_window->model();
        if (model->rowCount() != 1 || model->rowOf(m_second) != 0) {
            fail(QStringLiteral("the table shows %1 rows").arg(model->rowCount()));
            return;
        }
        const QAttachment remaining = model->attachmentAt(0);
        if (remaining.state() != QAttachmentState::Synced) {
            fail(QStringLiteral("%1 is %2, not synced")
                     .arg(remaining.id(), QAttachmentState::name(remaining.state())));
            return;
        }
        if (!m_serverRoot.isEmpty()) {
            // The deleted document is gone from the server, the other one is there.
            const QDir root(m_serverRoot);
            if (!root.exists(remaining.filename())
                || !root.entryList({m_first + QStringLiteral(".*")}, QDir::Files).isEmpty()) {
                fail(QStringLiteral("the server does not hold exactly the remaining file"));
                return;
            }
        }
        m_window->log(QStringLiteral("smoke: ok"));
        if (!m_screenshotPath.isEmpty() && !m_window->grab().save(m_screenshotPath))
            m_window->log(QStringLiteral("could not save %1").arg(m_screenshotPath));
        QCoreApplication::exit(0);
    }
    void fail(const QString &why)
    {
        m_window->log(QStringLiteral("smoke: FAILED: ") + why);
        QCoreApplication::exit(1);
    }

    MainWindow *m_window;
    QAttachmentQueue *m_queue;
    QString m_serverRoot;
    QString m_screenshotPath;
    QString m_first;
    QString m_second;
    QStringList m_uploaded;
    bool m_deleteRequested = false;
    bool m_removed = false;
    bool m_checked = false;
};

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("attachments-widgets"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Files kept in sync with an attachments server, in a table."));
    parser.addHelpOption();
    const QCommandLineOption smoke(QStringLiteral("smoke"),
                                   QStringLiteral("Add, sync and delete two files, then exit."));
    const QCommandLineOption server(QStringLiteral("server"),
                                    QStringLiteral("Use this server instead of starting the "
                                                   "embedded one."),
                                    QStringLiteral("url"));
    const QCommandLineOption data(QStringLiteral("data"),
                                  QStringLiteral("Directory for the database and files "
                                                 "(default: a new temporary one)."),
                                  QStringLiteral("dir"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("With --smoke: save the window there at "
                                                       "the end."),
                                        QStringLiteral("file.png"));
    parser.addOptions({smoke, server, data, screenshot});
    parser.process(app);

    std::unique_ptr<QTemporaryDir> temporary;
    QString dataPath = parser.value(data);
    if (dataPath.isEmpty()) {
        temporary = std::make_unique<QTemporaryDir>();
        dataPath = temporary->path();
    }
    QDir().mkpath(dataPath);

    const QString connection = QStringLiteral("widgets");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(QDir(dataPath).filePath(QStringLiteral("app.db")));
        if (!db.open()) {
            qCritical("cannot open the database in %s", qPrintable(dataPath));
            return 2;
        }
    }

    QHttpRemoteStorage remote;
    QAttachmentQueue queue;
    queue.setConnectionName(connection);
    queue.setLocalDirectory(QDir(dataPath).filePath(QStringLiteral("files")));
    queue.setRemoteStorage(&remote);
    queue.setWatchQuery(QStringLiteral(
        "SELECT attachment_id AS id FROM documents WHERE attachment_id IS NOT NULL"));
    queue.setWatchTables({QStringLiteral("documents")});
    queue.setRetryDelay(250);
    queue.setMaxRetryDelay(5000);

    MainWindow window(&queue, connection);
    window.show();

    DemoServer embedded;
    embedded.setRootPath(QDir(dataPath).filePath(QStringLiteral("server")));
    std::unique_ptr<SmokeRun> smokeRun;
    const auto startWith = [&](const QUrl &url) {
        remote.setBaseUrl(url);
        window.log(QStringLiteral("server: %1").arg(url.toString()));
        if (!queue.startSync()) {
            window.log(QStringLiteral("the queue could not start"));
            QCoreApplication::exit(1);
            return;
        }
        if (parser.isSet(smoke)) {
            smokeRun = std::make_unique<SmokeRun>(
                &window, &queue, parser.isSet(server) ? QString() : embedded.rootPath(),
                parser.value(screenshot));
            smokeRun->start();
        }
    };
    if (parser.isSet(server)) {
        QTimer::singleShot(0, &app, [&] { startWith(QUrl(parser.value(server))); });
    } else {
        QObject::connect(&embedded, &DemoServer::runningChanged, &app, [&] {
            if (embedded.isRunning() && !queue.isSyncing())
                startWith(embedded.url());
            else if (!embedded.isRunning())
                window.log(QStringLiteral("server: offline"));
        });
        QObject::connect(&embedded, &DemoServer::errorStringChanged, &app, [&] {
            if (embedded.errorString().isEmpty())
                return;
            window.log(QStringLiteral("server: %1").arg(embedded.errorString()));
            if (parser.isSet(smoke) && !embedded.isRunning())
                QCoreApplication::exit(1);
        });
        embedded.start();
    }

    const int code = app.exec();
    queue.close();
    return code;
}
