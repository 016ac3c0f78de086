// powersync-attachments-server: serves a directory as attachment storage for
// QHttpRemoteStorage (GET/HEAD with ranges, atomic PUT, DELETE).

#include "fileserver.h"

#include <QtCore/qcommandlineparser.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qfile.h>
#include <QtCore/qsocketnotifier.h>
#include <QtCore/qurl.h>

#include <csignal>
#include <cstdio>
#include <limits>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

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

// Seconds, possibly with a fraction: 30, 0.5.
bool parseSeconds(const QString &text, int *milliseconds)
{
    bool ok = false;
    const double seconds = text.trimmed().toDouble(&ok);
    if (!ok || !(seconds > 0) || seconds > 86400.0 * 365)
        return false;
    *milliseconds = qMax(1, int(seconds * 1000));
    return true;
}

bool parseCount(const QString &text, int *count)
{
    bool ok = false;
    const int value = text.trimmed().toInt(&ok);
    if (!ok || value < 1)
        return false;
    *count = value;
    return true;
}

// A token goes into an Authorization header as it is: visible ASCII only.
bool isValidToken(const QByteArray &token)
{
    for (char c : token) {
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
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
    const QCommandLineOption tokenFileOption(
        QStringLiteral("token-file"),
        QStringLiteral("Read the token from the first line of this file (instead of --token)."),
        QStringLiteral("file"));
    const QCommandLineOption maxUploadOption(
        QStringLiteral("max-upload-size"),
        QStringLiteral("Refuse uploads larger than this (bytes, or with a K, M or G suffix; "
                       "default 0: no limit)."),
        QStringLiteral("size"), QStringLiteral("0"));
    const QCommandLineOption requestLineOption(
        QStringLiteral("max-request-line"),
        QStringLiteral("Longest request line accepted (default 8K)."), QStringLiteral("size"),
        QStringLiteral("8K"));
    const QCommandLineOption headerSizeOption(
        QStringLiteral("max-header-size"),
        QStringLiteral("Largest block of request header lines accepted (default 64K)."),
        QStringLiteral("size"), QStringLiteral("64K"));
    const QCommandLineOption headerCountOption(
        QStringLiteral("max-headers"),
        QStringLiteral("Most header fields accepted in a request (default 100)."),
        QStringLiteral("count"), QStringLiteral("100"));
    const QCommandLineOption connectionsOption(
        QStringLiteral("max-connections"),
        QStringLiteral("Most connections open at once (default 256)."), QStringLiteral("count"),
        QStringLiteral("256"));
    const QCommandLineOption perClientOption(
        QStringLiteral("max-connections-per-client"),
        QStringLiteral("Most connections open at once from one IP address (default 64)."),
        QStringLiteral("count"), QStringLiteral("64"));
    const QCommandLineOption requestsOption(
        QStringLiteral("max-requests-per-connection"),
        QStringLiteral("Requests served on one connection before it is closed (default 1000)."),
        QStringLiteral("count"), QStringLiteral("1000"));
    const QCommandLineOption idleOption(
        QStringLiteral("idle-timeout"),
        QStringLiteral("Close a connection on which nothing was received or sent for this "
                       "many seconds (default 60)."),
        QStringLiteral("seconds"), QStringLiteral("60"));
    const QCommandLineOption headTimeoutOption(
        QStringLiteral("head-timeout"),
        QStringLiteral("Answer 408 and close when a request head is not complete this many "
                       "seconds after its first byte (default 10)."),
        QStringLiteral("seconds"), QStringLiteral("10"));
    const QCommandLineOption quietOption(QStringLiteral("quiet"),
                                         QStringLiteral("Do not log each request to stderr."));
    parser.addOptions({rootOption, bindOption, portOption, tokenOption, tokenFileOption,
                       maxUploadOption, requestLineOption, headerSizeOption, headerCountOption,
                       connectionsOption, perClientOption, requestsOption, idleOption,
                       headTimeoutOption, quietOption});
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

    ServerLimits limits;
    if (!parseSize(parser.value(maxUploadOption), &limits.maxUploadSize))
        return fail(QStringLiteral("not a size: %1").arg(parser.value(maxUploadOption)));
    for (const auto &[option, target] :
         {std::pair {&requestLineOption, &limits.http.maxRequestLine},
          std::pair {&headerSizeOption, &limits.http.maxHeaderBlock}}) {
        qint64 bytes = 0;
        if (!parseSize(parser.value(*option), &bytes) || bytes < 64 || bytes > (1 << 30))
            return fail(
                QStringLiteral("not a size between 64 and 1G: %1").arg(parser.value(*option)));
        *target = qsizetype(bytes);
    }
    for (const auto &[option, target] :
         {std::pair {&headerCountOption, &limits.http.maxHeaderCount},
          std::pair {&connectionsOption, &limits.maxConnections},
          std::pair {&perClientOption, &limits.maxConnectionsPerClient},
          std::pair {&requestsOption, &limits.maxRequestsPerConnection}}) {
        if (!parseCount(parser.value(*option), target))
            return fail(QStringLiteral("not a positive number: %1").arg(parser.value(*option)));
    }
    for (const auto &[option, target] : {std::pair {&idleOption, &limits.idleTimeoutMs},
                                         std::pair {&headTimeoutOption, &limits.headTimeoutMs}}) {
        if (!parseSeconds(parser.value(*option), target))
            return fail(QStringLiteral("not a number of seconds: %1").arg(parser.value(*option)));
    }

    // On the command line the token is visible to every user of the machine
    // (ps); a file or the environment keeps it to the server's user.
    QByteArray token;
    if (parser.isSet(tokenOption) && parser.isSet(tokenFileOption))
        return fail(QStringLiteral("--token and --token-file exclude each other"));
    if (parser.isSet(tokenFileOption)) {
        QFile file(parser.value(tokenFileOption));
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("cannot read the token file %1: %2")
                            .arg(file.fileName(), file.errorString()));
        token = file.read(4096).split('\n').value(0);
        if (token.endsWith('\r'))
            token.chop(1);
        if (token.isEmpty())
            return fail(QStringLiteral("the token file %1 is empty").arg(file.fileName()));
    } else if (parser.isSet(tokenOption)) {
        token = parser.value(tokenOption).toUtf8();
    } else {
        token = qgetenv("POWERSYNC_ATTACHMENTS_TOKEN");
    }
    if (!token.isEmpty() && !isValidToken(token))
        return fail(QStringLiteral("the token must be printable ASCII without blanks"));
    if (parser.isSet(quietOption)) {
        // A rule of its own, so QT_LOGGING_RULES can still turn the log back on.
        QLoggingCategory::setFilterRules(
            QStringLiteral("powersync.attachments.server.access.info=false"));
    }

    FileServer server;
    QString error;
    if (!server.setRoot(parser.value(rootOption), &error))
        return fail(error);
    server.setToken(token);
    server.setLimits(limits);
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
