#include "qqmlpowersync_p.h"

#include <qattachmentqueue.h>
#include <qpowersyncschema.h>

#include <QtQml/qqmlengine.h>
#include <QtQml/qqmlinfo.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlquery.h>
#include <QtSql/qsqlrecord.h>

QQmlPowerSyncConnector::QQmlPowerSyncConnector(QObject *parent)
    : QPowerSyncBackendConnector(parent)
{ }

void QQmlPowerSyncConnector::fetchCredentials(QPowerSyncCredentialsRequest *request)
{
    QQmlEngine::setObjectOwnership(request, QQmlEngine::CppOwnership);
    emit credentialsRequested(request);
}

void QQmlPowerSyncConnector::uploadData(QPowerSyncUploadBatch *batch)
{
    QQmlEngine::setObjectOwnership(batch, QQmlEngine::CppOwnership);
    emit uploadRequested(batch);
}

QQmlPowerSyncDatabase::QQmlPowerSyncDatabase(QObject *parent)
    : QPowerSyncDatabase(parent)
{ }

void QQmlPowerSyncDatabase::setPath(const QString &path)
{
    if (m_path == path)
        return;
    m_path = path;
    emit pathChanged();
    openIfReady();
}

void QQmlPowerSyncDatabase::setSchema(const QString &json)
{
    if (m_schema == json)
        return;
    m_schema = json;
    emit schemaChanged();
    openIfReady();
}

void QQmlPowerSyncDatabase::setName(const QString &name)
{
    if (m_name == name)
        return;
    m_name = name;
    emit nameChanged();
}

void QQmlPowerSyncDatabase::setConnector(QPowerSyncBackendConnector *connector)
{
    if (m_connector == connector)
        return;
    m_connector = connector;
    emit connectorChanged();
    updateConnection();
}

void QQmlPowerSyncDatabase::setSyncing(bool syncing)
{
    if (m_syncing == syncing)
        return;
    m_syncing = syncing;
    emit syncingChanged();
    updateConnection();
}

void QQmlPowerSyncDatabase::classBegin()
{
    m_complete = false;
}

void QQmlPowerSyncDatabase::componentComplete()
{
    m_complete = true;
    openIfReady();
}

void QQmlPowerSyncDatabase::openIfReady()
{
    if (!m_complete || m_path.isEmpty() || m_schema.isEmpty())
        return;
    QString error;
    const QPowerSyncSchema schema = QPowerSyncSchema::fromJson(m_schema.toUtf8(), &error);
    if (!error.isEmpty()) {
        qmlWarning(this) << "invalid schema: " << error;
        emit errorStringChanged();
        return;
    }
    if (!open(m_path, schema, m_name))
        qmlWarning(this) << errorString();
    emit errorStringChanged();
    updateConnection();
}

void QQmlPowerSyncDatabase::updateConnection()
{
    if (!m_complete || !isOpen())
        return;
    const bool want = m_syncing && m_connector;
    if (want && connector() != m_connector)
        connect(m_connector);
    else if (!want && connector())
        disconnect();
}

void QQmlPowerSyncDatabase::waitForFirstSync(const QJSValue &callback)
{
    if (!callback.isCallable())
        return;
    QPowerSyncDatabase::waitForFirstSync(this, [callback]() mutable { callback.call(); });
}

QJSValue QQmlPowerSyncDatabase::execute(const QString &sql, const QVariantList &parameters)
{
    QQmlEngine *engine = qmlEngine(this);
    if (!engine)
        return {};
    QSqlQuery query(QSqlDatabase::database(connectionName(), false));
    query.setForwardOnly(true);
    bool ok = query.prepare(sql);
    if (ok) {
        for (const QVariant &parameter : parameters)
            query.addBindValue(parameter);
        ok = query.exec();
    }
    if (!ok) {
        engine->throwError(query.lastError().text());
        return {};
    }
    if (!query.isSelect())
        return QJSValue(query.numRowsAffected());
    const QSqlRecord record = query.record();
    QVariantList rows;
    while (query.next()) {
        QVariantMap row;
        for (int i = 0; i < record.count(); ++i)
            row.insert(record.fieldName(i), query.value(i));
        rows.append(row);
    }
    return engine->toScriptValue(rows);
}

QPowerSyncWatchedQuery *QQmlPowerSyncDatabase::watchQuery(const QString &sql,
                                                          const QVariantList &parameters,
                                                          const QStringList &tables)
{
    return watch(sql, parameters, tables, this);
}

QPowerSyncWatchedQuery *QQmlPowerSyncDatabase::watchAttachmentsOf(QObject *queue,
                                                                  const QString &sql,
                                                                  const QStringList &tables)
{
    auto *attachments = qobject_cast<QAttachmentQueue *>(queue);
    if (!attachments) {
        qmlWarning(this) << "watchAttachmentsOf() needs an AttachmentQueue";
        return nullptr;
    }
    return watchAttachments(attachments, sql, tables);
}

QQmlPowerSyncQuery::QQmlPowerSyncQuery(QObject *parent)
    : QAbstractListModel(parent)
{ }

void QQmlPowerSyncQuery::setDatabase(QPowerSyncDatabase *database)
{
    if (m_database == database)
        return;
    if (m_database)
        QObject::disconnect(m_database, nullptr, this, nullptr);
    m_database = database;
    if (m_database)
        connect(m_database, &QPowerSyncDatabase::openChanged, this, &QQmlPowerSyncQuery::rebuild);
    emit databaseChanged();
    rebuild();
}

void QQmlPowerSyncQuery::setSql(const QString &sql)
{
    if (m_sql == sql)
        return;
    m_sql = sql;
    emit sqlChanged();
    rebuild();
}

void QQmlPowerSyncQuery::setParameters(const QVariantList &parameters)
{
    if (m_parameters == parameters)
        return;
    m_parameters = parameters;
    emit parametersChanged();
    rebuild();
}

void QQmlPowerSyncQuery::setTables(const QStringList &tables)
{
    if (m_tables == tables)
        return;
    m_tables = tables;
    emit tablesChanged();
    rebuild();
}

QString QQmlPowerSyncQuery::errorString() const
{
    return m_query ? m_query->errorString() : QString();
}

void QQmlPowerSyncQuery::classBegin()
{
    m_complete = false;
}

void QQmlPowerSyncQuery::componentComplete()
{
    m_complete = true;
    rebuild();
}

void QQmlPowerSyncQuery::rebuild()
{
    if (!m_complete)
        return;
    delete m_query;
    if (!m_database || !m_database->isOpen() || m_sql.isEmpty()) {
        setRows({}, m_columns);
        return;
    }
    QPowerSyncWatchedQuery *query = m_database->watch(m_sql, m_parameters, m_tables, this);
    m_query = query;
    connect(query, &QPowerSyncWatchedQuery::resultsChanged, this,
            [this, query] { setRows(query->rows(), query->columns()); });
    connect(query, &QPowerSyncWatchedQuery::errorStringChanged, this,
            &QQmlPowerSyncQuery::errorStringChanged);
    setRows(query->rows(), query->columns());
    emit errorStringChanged();
}

void QQmlPowerSyncQuery::setRows(const QVariantList &rows, const QStringList &columns)
{
    const int oldCount = count();
    beginResetModel();
    m_rows = rows;
    m_columns = columns;
    endResetModel();
    emit rowsChanged();
    if (oldCount != count())
        emit countChanged();
}

QVariantMap QQmlPowerSyncQuery::get(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).toMap() : QVariantMap();
}

int QQmlPowerSyncQuery::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant QQmlPowerSyncQuery::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const QVariantMap row = m_rows.at(index.row()).toMap();
    if (role == Qt::UserRole)
        return row;
    const int column = role - Qt::UserRole - 1;
    if (column >= 0 && column < m_columns.size())
        return row.value(m_columns.at(column));
    return {};
}

QHash<int, QByteArray> QQmlPowerSyncQuery::roleNames() const
{
    QHash<int, QByteArray> roles {{Qt::UserRole, "row"}};
    for (int i = 0; i < m_columns.size(); ++i)
        roles.insert(Qt::UserRole + 1 + i, m_columns.at(i).toUtf8());
    return roles;
}
