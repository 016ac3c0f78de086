// Loads the PowerSync core (path in argv[1]) in a process that uses whatever
// SQLite the system's QSQLITE driver finds, and reports what happened:
//   qtsql <sqlite_version() through QtSql>
//   loaded <0|1>
//   sqlite <QPowerSyncCore::sqliteVersion()>
//   error <QPowerSyncCore::errorString()>
#include "qpowersynccore.h"

#include <QtCore/qcoreapplication.h>
#include <QtCore/qtextstream.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlquery.h>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2)
        return 2;
    QTextStream out(stdout);
    {
        QSqlDatabase db
            = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("probe"));
        db.setDatabaseName(QStringLiteral(":memory:"));
        if (!db.open())
            return 3;
        QSqlQuery query(db);
        if (!query.exec(QStringLiteral("SELECT sqlite_version()")) || !query.next())
            return 4;
        out << "qtsql " << query.value(0).toString() << '\n';
    }
    QSqlDatabase::removeDatabase(QStringLiteral("probe"));
    const bool loaded = QPowerSyncCore::load(QString::fromLocal8Bit(argv[1]));
    out << "loaded " << (loaded ? 1 : 0) << '\n';
    out << "sqlite " << QPowerSyncCore::sqliteVersion() << '\n';
    out << "error " << QPowerSyncCore::errorString() << '\n';
    return 0;
}
