#include "qmltestenvironment.h"

#include <s3rverprocess.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qdeadlinetimer.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qregularexpression.h>
#include <QtGui/qimage.h>
#include <QtQml/qqmlengine.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

QmlTestEnvironment::QmlTestEnvironment(QObject *parent)
    : QObject(parent)
    , m_dir(std::make_unique<QTemporaryDir>())
{ }

QmlTestEnvironment::~QmlTestEnvironment()
{
    for (QProcess *server : std::as_const(m_servers)) {
        server->terminate();
        if (!server->waitForFinished(5000))
            server->kill();
        server->waitForFinished(1000);
        delete server;
    }
    for (const QString &connection : std::as_const(m_connections))
        TestSupport::closeDatabase(connection);
}

QString QmlTestEnvironment::openDatabase()
{
    const QString connection = TestSupport::openDatabase(m_dir->path());
    m_connections << connection;
    exec(connection,
         QStringLiteral("CREATE TABLE checklists (id INTEGER PRIMARY KEY, title TEXT, photo_id "
                        "TEXT)"));
    return connection;
}

QString QmlTestEnvironment::newDirectory()
{
    const QString path = m_dir->filePath(QStringLiteral("dir-%1").arg(++m_counter));
    QDir().mkpath(path);
    return path;
}

QmlFakeRemote *QmlTestEnvironment::newRemote()
{
    // Kept for the whole test file: a queue holds its remote without owning it,
    // so the garbage collector must not take it away in the middle of a test.
    auto *remote = new QmlFakeRemote(this);
    QQmlEngine::setObjectOwnership(remote, QQmlEngine::CppOwnership);
    return remote;
}

static bool run(QSqlQuery &query, const QString &sql, const QVariantList &parameters)
{
    if (!query.prepare(sql)) {
        qWarning() << "prepare failed:" << sql << query.lastError().text();
        return false;
    }
    for (const QVariant &value : parameters)
        query.addBindValue(value);
    if (!query.exec()) {
        qWarning() << "exec failed:" << sql << query.lastError().text();
        return false;
    }
    return true;
}

QVariantList QmlTestEnvironment::query(const QString &connection, const QString &sql,
                                       const QVariantList &parameters)
{
    QVariantList rows;
    QSqlQuery query(QSqlDatabase::database(connection));
    if (!run(query, sql, parameters))
        return rows;
    while (query.next()) {
        QVariantMap row;
        const QSqlRecord record = query.record();
        for (int i = 0; i < record.count(); ++i)
            row.insert(record.fieldName(i),
                       record.isNull(i) ? QVariant::fromValue(nullptr) : record.value(i));
        rows.append(row);
    }
    return rows;
}

bool QmlTestEnvironment::exec(const QString &connection, const QString &sql,
                              const QVariantList &parameters)
{
    QSqlQuery query(QSqlDatabase::database(connection));
    return run(query, sql, parameters);
}

bool QmlTestEnvironment::fileExists(const QUrl &url) const
{
    return url.isLocalFile() && QFile::exists(url.toLocalFile());
}

QString QmlTestEnvironment::readFile(const QUrl &url) const
{
    QFile file(url.toLocalFile());
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll());
}

QUrl QmlTestEnvironment::writeTempFile(const QString &name, const QString &text)
{
    const QString path = newDirectory() + QLatin1Char('/') + name;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(text.toUtf8());
    return QUrl::fromLocalFile(path);
}

QByteArray QmlTestEnvironment::bytes(int size) const
{
    return TestSupport::randomBytes(size);
}

QByteArray QmlTestEnvironment::pngBytes(int width, int height) const
{
    QImage image(qBound(1, width, 4096), qBound(1, height, 4096), QImage::Format_RGB32);
    image.fill(Qt::red);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

bool QmlTestEnvironment::hasServer() const
{
#ifdef PSA_SERVER_EXECUTABLE
    return QFile::exists(QStringLiteral(PSA_SERVER_EXECUTABLE));
#else
    return false;
#endif
}

QVariant QmlTestEnvironment::startServer(const QString &token)
{
#ifdef PSA_SERVER_EXECUTABLE
    const QString root = newDirectory();
    auto *server = new QProcess;
    m_servers << server;
    QStringList arguments {QStringLiteral("--root"), root,
                           QStringLiteral("--port"), QStringLiteral("0"),
                           QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                           QStringLiteral("--quiet")};
    if (!token.isEmpty())
        arguments << QStringLiteral("--token") << token;
    server->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    server->start(QStringLiteral(PSA_SERVER_EXECUTABLE), arguments);
    // The server prints its address once it listens; waiting here keeps the
    // QML tests linear, and a local process answers at once.
    QByteArray output;
    static const QRegularExpression listening(QStringLiteral("listening on (http://\\S+)"));
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired() && server->state() != QProcess::NotRunning) {
        server->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        output += server->readAllStandardOutput();
        const QRegularExpressionMatch match = listening.match(QString::fromUtf8(output));
        if (match.hasMatch())
            return QVariantMap {{QStringLiteral("url"), match.captured(1)},
                                {QStringLiteral("root"), root}};
    }
    qWarning() << "the attachments server did not start:" << output;
    return QVariantMap();
#else
    Q_UNUSED(token);
    return QVariantMap();
#endif
}

QVariant QmlTestEnvironment::startS3()
{
    QString why;
    if (!S3rverProcess::isAvailable(&why))
        return QVariantMap {{QStringLiteral("error"), why}};
    m_s3 = std::make_unique<S3rverProcess>();
    if (!m_s3->start(&why))
        return QVariantMap {{QStringLiteral("error"), why}};
    return QVariantMap {{QStringLiteral("endpoint"), m_s3->endpoint()},
                        {QStringLiteral("bucket"), m_s3->bucket()},
                        {QStringLiteral("accessKeyId"), S3rverProcess::accessKeyId()},
                        {QStringLiteral("secretAccessKey"), S3rverProcess::secretAccessKey()}};
}

QString QmlTestEnvironment::s3ObjectText(const QString &key) const
{
    if (!m_s3)
        return {};
    QFile file(m_s3->objectFilePath(key));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll());
}
