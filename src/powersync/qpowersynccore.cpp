#include "qpowersynccore.h"
#include "qpowersyncschema.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qcryptographichash.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qloggingcategory.h>
#include <QtCore/qmutex.h>
#include <QtCore/qsysinfo.h>
#include <QtCore/quuid.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>

#if defined(Q_OS_UNIX)
#include <dlfcn.h>
#define PSA_HAVE_DLOPEN 1
#endif

Q_LOGGING_CATEGORY(lcPowerSync, "powersync.attachments.powersync", QtWarningMsg)

namespace {

constexpr int MinimumSqliteVersionNumber = 3044000;
constexpr auto MinimumSqliteVersion = "3.44.0";
// The largest file load() reads to check its hash.
constexpr qint64 MaximumCoreSize = 256 * 1024 * 1024;

// The parts of SQLite's C API load() uses, resolved at run time in the SQLite
// library Qt's QSQLITE driver loaded: the library does not link SQLite itself,
// so it can never register the core with a different copy than the driver's.
struct sqlite3;
struct sqlite3_stmt;
using EntryPoint = void (*)();
struct SqliteApi
{
    const char *(*libversion)() = nullptr;
    int (*libversion_number)() = nullptr;
    int (*auto_extension)(EntryPoint) = nullptr;
    int (*cancel_auto_extension)(EntryPoint) = nullptr;
    int (*open_v2)(const char *, sqlite3 **, int, const char *) = nullptr;
    int (*close)(sqlite3 *) = nullptr;
    const char *(*errmsg)(sqlite3 *) = nullptr;
    int (*prepare_v2)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **) = nullptr;
    int (*step)(sqlite3_stmt *) = nullptr;
    const unsigned char *(*column_text)(sqlite3_stmt *, int) = nullptr;
    int (*finalize)(sqlite3_stmt *) = nullptr;
};
constexpr int SQLITE_OK = 0;
constexpr int SQLITE_ROW = 100;
constexpr int SQLITE_OPEN_READWRITE = 0x00000002;
constexpr int SQLITE_OPEN_CREATE = 0x00000004;
constexpr int SQLITE_OPEN_MEMORY = 0x00000080;

struct CoreState
{
    QMutex mutex;
    bool loaded = false;
    QString path;
    QString version;
    QString sqliteVersion;
    QString error;
};

CoreState &state()
{
    static CoreState s;
    return s;
}

bool failLoad(CoreState &s, const QString &message, QString *errorString)
{
    s.error = message;
    if (errorString)
        *errorString = message;
    qCWarning(lcPowerSync).noquote() << message;
    return false;
}

#if PSA_HAVE_DLOPEN
template<typename F>
bool resolve(void *library, const char *name, F *function)
{
    void *symbol = library ? dlsym(library, name) : dlsym(RTLD_DEFAULT, name);
    *function = reinterpret_cast<F>(symbol);
    return symbol != nullptr;
}

// The SQLite library the QSQLITE driver uses, already loaded by the driver
// (RTLD_DEFAULT when SQLite is part of the executable). Returns false and sets
// *error when there is none to use.
bool findSqlite(void **library, QString *error)
{
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE"))) {
        *error = QStringLiteral("Qt's QSQLITE driver is not available");
        return false;
    }
    {
        // Creating a driver loads the plugin, and with it its libsqlite3.
        const QString name = QStringLiteral("powersync-core-probe-")
            + QUuid::createUuid().toString(QUuid::WithoutBraces);
        QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        QSqlDatabase::removeDatabase(name);
    }
    for (const char *name : {"libsqlite3.so.0", "libsqlite3.so", "libsqlite3.0.dylib"}) {
        *library = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
        if (*library)
            return true;
    }
    // SQLite linked into the application and exported.
    if (dlsym(RTLD_DEFAULT, "sqlite3_auto_extension")) {
        *library = RTLD_DEFAULT;
        return true;
    }
    *error = QStringLiteral(
        "the QSQLITE driver does not use a shared SQLite library (Qt's own binary "
        "builds bundle SQLite into the plugin, where extensions cannot be registered); "
        "use a QSQLITE plugin built against a system SQLite (FEATURE_system_sqlite)");
    return false;
}

QString libraryFileOf(void *symbol)
{
    Dl_info info;
    if (symbol && dladdr(symbol, &info) && info.dli_fname)
        return QFile::decodeName(info.dli_fname);
    return QString();
}
#endif

} // namespace

bool QPowerSyncCore::load(const QString &path, const QByteArray &expectedSha256,
                          QString *errorString)
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);

    const QString requested = path.isEmpty() ? defaultPath() : path;
    const QFileInfo file(requested);
    if (!file.exists() || !file.isFile())
        return failLoad(
            s,
            QStringLiteral("The PowerSync core is not at %1 (scripts/fetch-powersync.sh "
                           "fetches it; see doc/powersync.md)")
                .arg(QDir::toNativeSeparators(file.absoluteFilePath())),
            errorString);
    const QString absolute = file.canonicalFilePath();

    if (!expectedSha256.isEmpty()) {
        QFile f(absolute);
        if (f.size() > MaximumCoreSize || !f.open(QIODevice::ReadOnly))
            return failLoad(s, QStringLiteral("Cannot read the PowerSync core %1").arg(absolute),
                            errorString);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        if (!hash.addData(&f))
            return failLoad(s, QStringLiteral("Cannot read the PowerSync core %1").arg(absolute),
                            errorString);
        const QByteArray actual = hash.result().toHex();
        if (actual != expectedSha256.trimmed().toLower())
            return failLoad(s,
                            QStringLiteral("The PowerSync core %1 has SHA-256 %2, expected %3")
                                .arg(absolute, QString::fromLatin1(actual),
                                     QString::fromLatin1(expectedSha256.trimmed())),
                            errorString);
    }

    if (s.loaded) {
        if (absolute == s.path) {
            s.error.clear();
            return true;
        }
        return failLoad(s,
                        QStringLiteral("The PowerSync core is already loaded from %1; a process "
                                       "loads it once (not again from %2)")
                            .arg(s.path, absolute),
                        errorString);
    }

#if PSA_HAVE_DLOPEN
    QString error;
    void *sqlite = nullptr;
    if (!findSqlite(&sqlite, &error))
        return failLoad(s, QStringLiteral("Cannot load the PowerSync core: %1").arg(error),
                        errorString);

    SqliteApi api;
    const bool resolved = resolve(sqlite, "sqlite3_libversion", &api.libversion)
        && resolve(sqlite, "sqlite3_libversion_number", &api.libversion_number)
        && resolve(sqlite, "sqlite3_auto_extension", &api.auto_extension)
        && resolve(sqlite, "sqlite3_cancel_auto_extension", &api.cancel_auto_extension)
        && resolve(sqlite, "sqlite3_open_v2", &api.open_v2)
        && resolve(sqlite, "sqlite3_close", &api.close)
        && resolve(sqlite, "sqlite3_errmsg", &api.errmsg)
        && resolve(sqlite, "sqlite3_prepare_v2", &api.prepare_v2)
        && resolve(sqlite, "sqlite3_step", &api.step)
        && resolve(sqlite, "sqlite3_column_text", &api.column_text)
        && resolve(sqlite, "sqlite3_finalize", &api.finalize);
    if (!resolved)
        return failLoad(s,
                        QStringLiteral("Cannot load the PowerSync core: the SQLite library of the "
                                       "QSQLITE driver lacks the functions needed to register "
                                       "extensions"),
                        errorString);

    s.sqliteVersion = QString::fromLatin1(api.libversion());
    const QString sqliteFile = libraryFileOf(reinterpret_cast<void *>(api.libversion));
    qCDebug(lcPowerSync) << "SQLite" << s.sqliteVersion << "from" << sqliteFile;
    if (api.libversion_number() < MinimumSqliteVersionNumber)
        return failLoad(
            s,
            QStringLiteral("The PowerSync core needs SQLite %1 or later, but this "
                           "process uses SQLite %2%3; make the process load a newer "
                           "libsqlite3 (see doc/powersync.md)")
                .arg(QLatin1String(MinimumSqliteVersion), s.sqliteVersion,
                     sqliteFile.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(sqliteFile)),
            errorString);

    void *core = dlopen(QFile::encodeName(absolute).constData(), RTLD_NOW | RTLD_LOCAL);
    if (!core)
        return failLoad(s,
                        QStringLiteral("Cannot load the PowerSync core %1: %2")
                            .arg(absolute, QString::fromLocal8Bit(dlerror())),
                        errorString);
    EntryPoint init = nullptr;
    if (!resolve(core, "sqlite3_powersync_init", &init)) {
        dlclose(core);
        return failLoad(s,
                        QStringLiteral("%1 is not a PowerSync core: it has no "
                                       "sqlite3_powersync_init")
                            .arg(absolute),
                        errorString);
    }
    const int rc = api.auto_extension(init);
    if (rc != SQLITE_OK) {
        dlclose(core);
        return failLoad(
            s, QStringLiteral("SQLite refused to register the PowerSync core (error %1)").arg(rc),
            errorString);
    }

    // A first connection runs the core's own checks and reports its version.
    sqlite3 *db = nullptr;
    QString version;
    QString openError;
    if (api.open_v2(":memory:", &db,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY, nullptr)
        != SQLITE_OK) {
        openError = db ? QString::fromUtf8(api.errmsg(db)) : QStringLiteral("out of memory");
    } else {
        sqlite3_stmt *statement = nullptr;
        if (api.prepare_v2(db, "SELECT powersync_rs_version()", -1, &statement, nullptr)
                == SQLITE_OK
            && api.step(statement) == SQLITE_ROW) {
            version
                = QString::fromUtf8(reinterpret_cast<const char *>(api.column_text(statement, 0)));
        } else {
            openError = QString::fromUtf8(api.errmsg(db));
        }
        api.finalize(statement);
    }
    api.close(db);
    if (version.isEmpty()) {
        api.cancel_auto_extension(init);
        dlclose(core);
        return failLoad(s,
                        QStringLiteral("The PowerSync core %1 does not work with SQLite %2: %3")
                            .arg(absolute, s.sqliteVersion, openError),
                        errorString);
    }

    s.loaded = true;
    s.path = absolute;
    s.version = version;
    s.error.clear();
    qCInfo(lcPowerSync).noquote() << "PowerSync core" << version << "with SQLite"
                                  << s.sqliteVersion;
    return true;
#else
    return failLoad(s,
                    QStringLiteral("Loading the PowerSync core is not supported on this platform "
                                   "yet"),
                    errorString);
#endif
}

bool QPowerSyncCore::isLoaded()
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);
    return s.loaded;
}

QString QPowerSyncCore::loadedPath()
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);
    return s.path;
}

QString QPowerSyncCore::errorString()
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);
    return s.error;
}

QString QPowerSyncCore::version()
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);
    return s.version;
}

QString QPowerSyncCore::sqliteVersion()
{
    CoreState &s = state();
    QMutexLocker locker(&s.mutex);
    return s.sqliteVersion;
}

QString QPowerSyncCore::minimumSqliteVersion()
{
    return QLatin1String(MinimumSqliteVersion);
}

QString QPowerSyncCore::platformFileName()
{
    const QString arch = QSysInfo::buildCpuArchitecture();
    QString name;
    if (arch == QLatin1String("x86_64"))
        name = QStringLiteral("x64");
    else if (arch == QLatin1String("arm64"))
        name = QStringLiteral("aarch64");
    else if (arch == QLatin1String("arm"))
        name = QStringLiteral("armv7");
    else if (arch == QLatin1String("riscv64"))
        name = QStringLiteral("riscv64gc");
    else if (arch == QLatin1String("i386"))
        name = QStringLiteral("x86");
    else
        name = arch;
#if defined(Q_OS_WIN)
    return QStringLiteral("powersync_%1.dll").arg(name);
#elif defined(Q_OS_DARWIN)
    return QStringLiteral("libpowersync_%1.macos.dylib").arg(name);
#else
    return QStringLiteral("libpowersync_%1.linux.so").arg(name);
#endif
}

QString QPowerSyncCore::defaultPath()
{
    const QString fromEnvironment = qEnvironmentVariable("POWERSYNC_CORE_LIBRARY");
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
    const QString directory = QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                                           : QDir::currentPath();
    return directory + QLatin1Char('/') + platformFileName();
}

bool QPowerSyncCore::applySchema(const QSqlDatabase &database, const QPowerSyncSchema &schema,
                                 QString *errorString)
{
    auto fail = [errorString](const QString &message) {
        if (errorString)
            *errorString = message;
        qCWarning(lcPowerSync).noquote() << message;
        return false;
    };
    QString invalid;
    if (!schema.validate(&invalid))
        return fail(QStringLiteral("Invalid PowerSync schema: %1").arg(invalid));
    QSqlDatabase db = database;
    if (!db.isOpen())
        return fail(QStringLiteral("Cannot apply the PowerSync schema: connection %1 is not open")
                        .arg(db.connectionName()));

    {
        QSqlQuery probe(db);
        if (!probe.exec(QStringLiteral("SELECT powersync_rs_version()")))
            return fail(QStringLiteral("Connection %1 has no PowerSync functions (%2): call "
                                       "QPowerSyncCore::load() before opening it")
                            .arg(db.connectionName(), probe.lastError().text()));
    }

    if (!db.transaction())
        return fail(
            QStringLiteral("Cannot apply the PowerSync schema: %1").arg(db.lastError().text()));
    QString error;
    {
        QSqlQuery query(db);
        if (!query.exec(QStringLiteral("SELECT powersync_init()"))) {
            error = QStringLiteral("powersync_init() failed: %1").arg(query.lastError().text());
        } else {
            query.finish();
            query.prepare(QStringLiteral("SELECT powersync_replace_schema(?)"));
            query.addBindValue(QString::fromUtf8(schema.toJson()));
            if (!query.exec())
                error = QStringLiteral("powersync_replace_schema() failed: %1")
                            .arg(query.lastError().text());
        }
    }
    if (error.isEmpty() && !db.commit())
        error = QStringLiteral("Cannot commit the PowerSync schema: %1").arg(db.lastError().text());
    if (!error.isEmpty()) {
        db.rollback();
        return fail(error);
    }
    return true;
}
