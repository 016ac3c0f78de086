// The inspection app. Interactive by default; `--demo` runs the scripted demo
// (see DemoScript.qml), prints what happens and exits.

#include <qpowersynccore.h>

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtGui/qguiapplication.h>
#include <QtQml/qqmlapplicationengine.h>
#include <QtQuick/qquickwindow.h>

#include <cstdio>

int main(int argc, char *argv[])
{
    // Headless machines (CI, containers) still render, offscreen.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");

    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("inspection"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("A site inspection checklist whose photos sync through "
                       "PowerSync Attachments."));
    parser.addHelpOption();
    const QCommandLineOption scripted({QStringLiteral("demo"), QStringLiteral("scripted")},
                                      QStringLiteral("Run the scripted demo and exit."));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Save a screenshot there at the end."),
                                        QStringLiteral("file.png"));
    const QCommandLineOption data(QStringLiteral("data"),
                                  QStringLiteral("Directory for the databases and files "
                                                 "(default: a new temporary one, kept unless "
                                                 "the demo runs)."),
                                  QStringLiteral("dir"));
    parser.addOptions({scripted, screenshot, data});
    parser.process(app);

    // With the PowerSync core, the devices' checklists sync through the
    // PowerSync client and the demo's sync service (see ChecklistModel).
#ifdef PSA_POWERSYNC_CORE
    const QString core = QStringLiteral(PSA_POWERSYNC_CORE);
#else
    const QString core = QPowerSyncCore::defaultPath();
#endif
    QString coreError;
    if (QPowerSyncCore::load(core, {}, &coreError))
        printf("checklists sync through PowerSync (core %s)\n",
               qPrintable(QPowerSyncCore::version()));
    else
        printf("checklists are copied between the devices: %s\n", qPrintable(coreError));
    fflush(stdout);

    QQmlApplicationEngine engine;
    // The build tree's QML modules, before the installed ones.
#ifdef PSA_BUILD_QML_DIR
    if (QDir(QStringLiteral(PSA_BUILD_QML_DIR)).exists())
        engine.addImportPath(QStringLiteral(PSA_BUILD_QML_DIR));
#endif
    engine.addImportPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../qml"));

    // The demo starts from nothing each time; an interactive run's files
    // stay for a look afterwards.
    QString dataPath = parser.value(data);
    QTemporaryDir temporary(QDir::tempPath() + QStringLiteral("/inspection-XXXXXX"));
    if (dataPath.isEmpty()) {
        if (!temporary.isValid())
            return 2;
        temporary.setAutoRemove(parser.isSet(scripted));
        dataPath = temporary.path();
    }

    QString screenshotPath = parser.value(screenshot);
    if (!screenshotPath.isEmpty())
        screenshotPath = QDir::current().absoluteFilePath(screenshotPath);
    engine.setInitialProperties({{QStringLiteral("scripted"), parser.isSet(scripted)},
                                 {QStringLiteral("screenshotPath"), screenshotPath},
                                 {QStringLiteral("dataPath"), dataPath}});
    // Qt 6.4 has no loadFromModule(): importing the module loads its plugin
    // (and with it the QML files compiled into it). The URL must have a scheme
    // the engine reads synchronously, or the window is created only later.
    engine.loadData("import Inspection\nMain {}\n",
                    QUrl(QStringLiteral("qrc:/inspection/main.qml")));
    if (engine.rootObjects().isEmpty())
        return 2;
    return app.exec();
}
