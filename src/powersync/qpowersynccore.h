#ifndef QPOWERSYNCCORE_H
#define QPOWERSYNCCORE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

class QSqlDatabase;
class QPowerSyncSchema;

// The PowerSync SQLite core extension (powersync-sqlite-core), loaded once per
// process and registered with the SQLite that Qt's QSQLITE driver uses, so that
// every connection opened afterwards, on any thread, has PowerSync's functions.
//
// The core needs SQLite 3.44.0 or later, and a QSQLITE driver that uses a
// shared libsqlite3 (as Debian's and most Linux distributions' Qt do);
// doc/powersync.md shows how to get both. All functions are thread-safe.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncCore
{
public:
    QPowerSyncCore() = delete;

    // Loads the core from path (defaultPath() if empty) and registers it for
    // every connection opened from now on; connections already open do not
    // get it. If expectedSha256 (hex) is given, the file must have it.
    // Loading the same file again does nothing; another file fails.
    // Returns false and sets errorString() (and *errorString) on failure: file
    // missing, hash mismatch, not a PowerSync core, no usable SQLite, SQLite
    // too old (the message names both versions).
    static bool load(const QString &path = QString(),
                     const QByteArray &expectedSha256 = QByteArray(),
                     QString *errorString = nullptr);
    static bool isLoaded();
    // The file load() loaded, absolute.
    static QString loadedPath();
    // The last load() failure; empty after a success.
    static QString errorString();

    // powersync_rs_version() of the loaded core, e.g. "0.5.3/2ba6b280".
    static QString version();
    // The version of the SQLite library the process uses, e.g. "3.48.0";
    // known once load() found it, even when it was too old.
    static QString sqliteVersion();
    // "3.44.0": the oldest SQLite the core accepts.
    static QString minimumSqliteVersion();

    // The core's file name for this platform, e.g. "libpowersync_x64.linux.so"
    // (as PowerSync's npm package @powersync/node names it).
    static QString platformFileName();
    // $POWERSYNC_CORE_LIBRARY if set, else platformFileName() in the
    // application's directory.
    static QString defaultPath();

    // Runs powersync_init() and powersync_replace_schema() with schema in one
    // transaction on db, an open QSQLITE connection opened after load().
    // Creates the schema's views, or replaces them when it changed; synced
    // rows are kept. On failure rolls back and returns false with *errorString set.
    static bool applySchema(const QSqlDatabase &db, const QPowerSyncSchema &schema,
                            QString *errorString = nullptr);
};

#endif // QPOWERSYNCCORE_H
