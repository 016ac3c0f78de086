// AttachmentQueue.databasePath and execute(): an SQLite database opened and
// used from QML alone.

#include "qqmlattachmentqueue_p.h"

#include <QtCore/qatomic.h>
#include <QtCore/qdir.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qurl.h>
#include <QtQml/qjsengine.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

#include <algorithm>

namespace {

// Owns one named QSQLITE connection; removes it when destroyed. A child of
// the queue, so destroyed by ~QObject, after the queue let go of it.
class OwnedConnection : public QObject
{
public:
    OwnedConnection(const QString &name, QObject *parent)
        : QObject(parent)
        , m_name(name)
    { }
    ~OwnedConnection() override
    {
        {
            QSqlDatabase db = QSqlDatabase::database(m_name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }
    QString name() const { return m_name; }

private:
    QString m_name;
};

QString nextConnectionName()
{
    static QAtomicInteger<quint64> counter;
    return QStringLiteral("PowerSync.Attachments.qml.%1").arg(++counter);
}

QJSValue rowsOf(QJSEngine *engine, QSqlQuery &query)
{
    QJSValue rows = engine->newArray();
    quint32 n = 0;
    while (query.next()) {
        const QSqlRecord record = query.record();
        QJSValue row = engine->newObject();
        for (int i = 0; i < record.count(); ++i)
            row.setProperty(record.fieldName(i), engine->toScriptValue(record.value(i)));
        rows.setProperty(n++, row);
    }
    return rows;
}

} // namespace

void QQmlAttachmentQueue::setDatabasePath(const QString &path)
{
    if (m_databasePath == path)
        return;
    m_databasePath = path;
    QObject *previous = m_database;
    m_database = nullptr;

    QString file = path;
    if (path.startsWith(QLatin1String("file:"), Qt::CaseInsensitive))
        file = QUrl(path).toLocalFile();
    QString problem;
    if (path.isEmpty()) {
        // No database of its own: connectionName is the app's again.
    } else if (file.isEmpty() || QDir::isRelativePath(file)) {
        problem = tr("databasePath \"%1\" is neither an absolute path nor a file: URL")
                      .arg(path.left(200));
    } else if (std::any_of(file.cbegin(), file.cend(),
                           [](QChar c) { return c.unicode() < 0x20 || c.unicode() == 0x7f; })) {
        problem = tr("databasePath contains a control character");
    } else if (!QDir().mkpath(QFileInfo(file).absolutePath())) {
        problem = tr("cannot create the folder of the database \"%1\"").arg(file);
    } else {
        const QString name = nextConnectionName();
        auto *owned = new OwnedConnection(name, this);
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(file);
        if (!db.open()) {
            problem = tr("cannot open the database \"%1\": %2").arg(file, db.lastError().text());
            db = QSqlDatabase();
            delete owned;
        } else {
            m_database = owned;
            setConnectionName(name);
        }
    }
    if (!m_database && previous)
        setConnectionName(QString());
    // The queue uses the new connection (or none) now: the old one can go.
    delete previous;
    setErrorString(problem);
    emit databasePathChanged();
}

QJSValue QQmlAttachmentQueue::execute(const QString &sql, const QVariantList &parameters)
{
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return {};
    QSqlDatabase db = QSqlDatabase::database(connectionName(), false);
    if (!db.isOpen()) {
        engine->throwError(tr("execute(): the queue has no open database (set databasePath or "
                              "connectionName)"));
        return {};
    }
    QSqlQuery query(db);
    if (!query.prepare(sql)) {
        engine->throwError(query.lastError().text());
        return {};
    }
    for (const QVariant &value : parameters) {
        // JavaScript numbers arrive as doubles; SQLite would store 1 as 1.0.
        if (value.typeId() == QMetaType::Double && value.toDouble() == qint64(value.toDouble()))
            query.addBindValue(qint64(value.toDouble()));
        else
            query.addBindValue(value);
    }
    if (!query.exec()) {
        engine->throwError(query.lastError().text());
        return {};
    }
    if (!query.isSelect())
        return QJSValue(query.numRowsAffected());
    return rowsOf(engine, query);
}
