#ifndef TESTSUPPORT_H
#define TESTSUPPORT_H

#include <QtCore/qstring.h>
#include <QtSql/qsqldatabase.h>
#include <QtTest/qtest.h>

namespace TestSupport {

// Opens a fresh SQLite database file under `dir` on a connection of its own
// name; returns the connection name.
QString openDatabase(const QString &dir, const QString &connectionName = {});
// Closes and removes the connection.
void closeDatabase(const QString &connectionName);

// Runs `sql` on a connection of its own to the SQLite file `databaseFile`, as
// another thread or process would write it, then closes that connection;
// false when it does not open or the statement fails.
bool execOnAnotherConnection(const QString &databaseFile, const QString &sql);

// A free TCP port on 127.0.0.1 (bound and released).
quint16 freePort();

// Resident memory of this process, from /proc/self/status: current and peak (VmHWM), in bytes.
qint64 currentRss();
qint64 peakRss();
// Peak resident memory (VmHWM) of another process, in bytes; -1 when unknown.
qint64 peakRssOf(qint64 pid);
// Resets the peak (writes 5 to /proc/self/clear_refs); false where not permitted.
bool resetPeakRss();

// The whole content of a file; empty when it cannot be read.
QByteArray readFile(const QString &path);
// Writes `data` as the whole content of `path`, making its folders first;
// false when any of it could not be written.
bool writeFile(const QString &path, const QByteArray &data);

// Deterministic pseudo-random bytes.
QByteArray randomBytes(qint64 size, quint32 seed = 1);

} // namespace TestSupport

// Waits (processing events) until `expr` holds, failing the test after three
// times `timeoutMs`. The times the tests give are what an idle machine needs;
// CI runs two tests at a time beside a build, and again under sanitizers. A
// wait ends as soon as its condition holds: only a failing test waits longer.
#define PSA_WAIT(expr, timeoutMs) QTRY_VERIFY_WITH_TIMEOUT(expr, (3 * (timeoutMs)))

#endif // TESTSUPPORT_H
