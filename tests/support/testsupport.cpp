#include "testsupport.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qrandom.h>
#include <QtCore/quuid.h>
#include <QtNetwork/qtcpserver.h>
#include <QtSql/qsqlquery.h>

#include <cstdlib> // defines __GLIBC__ where it applies
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace TestSupport {

QString openDatabase(const QString &dir, const QString &connectionName)
{
    const QString name = connectionName.isEmpty()
        ? QUuid::createUuid().toString(QUuid::WithoutBraces)
        : connectionName;
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(dir + QStringLiteral("/app-") + name + QStringLiteral(".db"));
    if (!db.open())
        qFatal("cannot open the test database");
    QSqlQuery(db).exec(QStringLiteral("PRAGMA journal_mode=WAL"));
    return name;
}

void closeDatabase(const QString &connectionName)
{
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

bool execOnAnotherConnection(const QString &databaseFile, const QString &sql)
{
    const QString name = QUuid::createUuid().toString(QUuid::WithoutBraces);
    bool done = false;
    {
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        other.setDatabaseName(databaseFile);
        done = other.open() && QSqlQuery(other).exec(sql);
    }
    closeDatabase(name);
    return done;
}

quint16 freePort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        qFatal("no free port on 127.0.0.1");
    return server.serverPort();
}

static qint64 statusField(const char *field, const QString &process = QStringLiteral("self"))
{
    QFile file(QStringLiteral("/proc/%1/status").arg(process));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray prefix = QByteArray(field) + ':';
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed().split(' ').value(0).toLongLong() * 1024;
    }
    return -1;
}

qint64 currentRss()
{
    return statusField("VmRSS");
}

qint64 peakRss()
{
    return statusField("VmHWM");
}

qint64 peakRssOf(qint64 pid)
{
    return statusField("VmHWM", QString::number(pid));
}

bool resetPeakRss()
{
#if defined(__GLIBC__)
    // Heap freed by earlier work in the same process stays resident until
    // trimmed, and would count in the next peak.
    malloc_trim(0);
#endif
    QFile file(QStringLiteral("/proc/self/clear_refs"));
    return file.open(QIODevice::WriteOnly) && file.write("5") == 1;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &data)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(data) == data.size();
}

QByteArray randomBytes(qint64 size, quint32 seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(seed);
    const qint64 words = size / 4;
    generator.fillRange(reinterpret_cast<quint32 *>(bytes.data()), words);
    for (qint64 i = words * 4; i < size; ++i)
        bytes[i] = char(generator.generate());
    return bytes;
}

} // namespace TestSupport
