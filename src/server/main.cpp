// powersync-attachments-server: serves a directory as attachment storage for
// QHttpRemoteStorage (GET/HEAD with ranges, atomic PUT, DELETE).

#include "fileserver.h"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qurl.h>

#include <csignal>
#include <cstdio>
#include <limits>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int signalPipe[2] = {-1, -1};

void onTerminationSignal(int)
{
    const char byte = 1;
    // Only async-signal-safe work here; the event loop does the rest.
    [[maybe_unused]] const auto written = ::write(signalPipe[1], &byte, 1);
}

// SIGTERM and SIGINT end the event loop, so the process exits with status 0
// after closing its sockets.
void quitOnTerminationSignals()
{
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return;
    auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, qApp);
    QObject::connect(notifier, &QSocketNotifier::activated, qApp, [notifier] {
        notifier->setEnabled(false);
        char byte;
        [[maybe_unused]] const auto read = ::read(signalPipe[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

// A byte count, optionally with a binary suffix: 500000, 64K, 512M, 2G.
bool parseSize(const QString &text, qint64 *bytes)
{
    QString digits = text.trimmed();
    qint64 unit = 1;
    if (!digits.isEmpty()) {
        switch (digits.back().toUpper().unicode()) {
        case 'K':
            unit = qint64(1) << 10;
            break;
        case 'M':
            unit = qint64(1) << 20;
            break;
        case 'G':
            unit = qint64(1) << 30;
            break;
        }
        if (unit != 1)
            digits.chop(1);
    }
    bool ok = false;
    const qint64 value = digits.toLongLong(&ok);
    if (!ok || value < 0 || value > std::numeric_limits<qint64>::max() / unit)
        return false;
    *bytes = value * unit;
    return true;
}

int fail(const QString &message)
{
    std::fprintf(stderr, "powersync-attachments-server: %s\n", qPrintable(message));
    return 1;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("powersync-attachments-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PSA_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Serves a directory as attachment storage: GET and HEAD with byte ranges, "
                       "PUT written atomically, DELETE."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption rootOption(QStringLiteral("root"),
                                        QStringLiteral("Directory to serve (created if missing)."),
                                        QStringLiteral("dir"));
    const QCommandLineOption bindOption(QStringLiteral("bind"),
                                        QStringLiteral("Address to listen on (default 127.0.0.1)."),
                                        QStringLiteral("address"), QStringLiteral("127.0.0.1"));
    const QCommandLineOption portOption(
        QStringLiteral("port"), QStringLiteral("Port to listen on; 0 picks a free one (default)."),
        QStringLiteral("port"), QStringLiteral("0"));
    const QCommandLineOption tokenOption(
        QStringLiteral("token"),
        QStringLiteral("Require 'Authorization: Bearer <token>' (default: "
                       "$POWERSYNC_ATTACHMENTS_TOKEN, else no authorization)."),
        QStringLiteral("token"));
    const QCommandLineOption maxUploadOption(
        QStringLiteral("max-upload-size"),
        QStringLiteral("Refuse uploads larger than this (bytes, or with a K, M or G suffix; "
                       "default 0: no limit). Uploads are held in memory while they arrive."),
        QStringLiteral("size"), QStringLiteral("0"));
    const QCommandLineOption quietOption(QStringLiteral("quiet"),
                                         QStringLiteral("Do not log each request to stderr."));
    parser.addOptions(
        {rootOption, bindOption, portOption, tokenOption, maxUploadOption, quietOption});
    parser.process(app);

    if (!parser.isSet(rootOption) || parser.value(rootOption).isEmpty())
        return fail(QStringLiteral("--root is required (see --help)"));
    QHostAddress address;
    if (!address.setAddress(parser.value(bindOption)))
        return fail(QStringLiteral("not an IP address: %1").arg(parser.value(bindOption)));
    bool portOk = false;
    const uint port = parser.value(portOption).toUInt(&portOk);
    if (!portOk || port > 65535)
        return fail(QStringLiteral("not a port number: %1").arg(parser.value(portOption)));
    qint64 maxUploadSize = 0;
    if (!parseSize(parser.value(maxUploadOption), &maxUploadSize))
        return fail(QStringLiteral("not a size: %1").arg(parser.value(maxUploadOption)));
    if (parser.isSet(quietOption)) {
        // A rule of its own, so QT_LOGGING_RULES can still turn the log back on.
        QLoggingCategory::setFilterRules(
            QStringLiteral("powersync.attachments.server.access.info=false"));
    }

    FileServer server;
    QString error;
    if (!server.setRoot(parser.value(rootOption), &error))
        return fail(error);
    const QByteArray token = parser.isSet(tokenOption) ? parser.value(tokenOption).toUtf8()
                                                       : qgetenv("POWERSYNC_ATTACHMENTS_TOKEN");
    server.setToken(token);
    server.setMaxUploadSize(maxUploadSize);
    if (!server.start(address, quint16(port), &error))
        return fail(QStringLiteral("cannot listen on %1:%2: %3")
                        .arg(address.toString())
                        .arg(port)
                        .arg(error));

    quitOnTerminationSignals();

    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(address.toString());
    url.setPort(server.port());
    url.setPath(QStringLiteral("/"));
    // Launchers wait for this line to learn the port.
    std::fprintf(stdout, "listening on %s\n", url.toEncoded().constData());
    std::fflush(stdout);

    return app.exec();
}
