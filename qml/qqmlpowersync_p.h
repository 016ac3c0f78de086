#ifndef QQMLPOWERSYNC_P_H
#define QQMLPOWERSYNC_P_H

// The sync client in QML: PowerSyncDatabase, PowerSyncConnector, PowerSyncQuery.

#include <qpowersyncbackendconnector.h>
#include <qpowersynccredentialsrequest.h>
#include <qpowersynccrudentry.h>
#include <qpowersyncdatabase.h>
#include <qpowersyncuploadbatch.h>
#include <qpowersyncwatchedquery.h>

#include <QtCore/qabstractitemmodel.h>
#include <QtCore/qpointer.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqml.h>
#include <QtQml/qqmlparserstatus.h>

struct QQmlPowerSyncCredentialsRequestForeign
{
    Q_GADGET
    QML_FOREIGN(QPowerSyncCredentialsRequest)
    QML_NAMED_ELEMENT(PowerSyncCredentialsRequest)
    QML_UNCREATABLE("Passed to PowerSyncConnector's onFetchCredentials.")
};

struct QQmlPowerSyncUploadBatchForeign
{
    Q_GADGET
    QML_FOREIGN(QPowerSyncUploadBatch)
    QML_NAMED_ELEMENT(PowerSyncUploadBatch)
    QML_UNCREATABLE("Passed to PowerSyncConnector's onUploadData.")
};

struct QQmlPowerSyncWatchedQueryForeign
{
    Q_GADGET
    QML_FOREIGN(QPowerSyncWatchedQuery)
    QML_NAMED_ELEMENT(PowerSyncWatchedQuery)
    QML_UNCREATABLE("Made by PowerSyncDatabase.watch().")
};

struct QQmlPowerSyncBackendConnectorForeign
{
    Q_GADGET
    QML_FOREIGN(QPowerSyncBackendConnector)
    QML_NAMED_ELEMENT(PowerSyncBackendConnector)
    QML_UNCREATABLE("Use PowerSyncConnector, or a C++ subclass.")
};

// A backend connector written in QML: handle fetchCredentials(request) with
// request.resolve(endpoint, token) or request.fail(message), and
// uploadData(batch) (batch.entries, batch.transactions) with batch.complete()
// or batch.fail(message), now or later.
class QQmlPowerSyncConnector : public QPowerSyncBackendConnector
{
    Q_OBJECT
    QML_NAMED_ELEMENT(PowerSyncConnector)

public:
    explicit QQmlPowerSyncConnector(QObject *parent = nullptr);

    void fetchCredentials(QPowerSyncCredentialsRequest *request) override;
    void uploadData(QPowerSyncUploadBatch *batch) override;

Q_SIGNALS:
    void credentialsRequested(QPowerSyncCredentialsRequest *request);
    void uploadRequested(QPowerSyncUploadBatch *batch);
};

// PowerSyncDatabase: opens `path` with `schema` (Dart-compatible schema JSON,
// as QPowerSyncSchema::toJson() writes it) as connection `connectionName`
// once the declaration is complete (the PowerSync core must be loaded by the
// app: QPowerSyncCore::load()), and syncs while `connector` is set and
// `syncing` is true.
class QQmlPowerSyncDatabase : public QPowerSyncDatabase, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(PowerSyncDatabase)
    Q_PROPERTY(QString path READ path WRITE setPath NOTIFY pathChanged FINAL)
    Q_PROPERTY(QString schema READ schema WRITE setSchema NOTIFY schemaChanged FINAL)
    Q_PROPERTY(QString name READ name WRITE setName NOTIFY nameChanged FINAL)
    Q_PROPERTY(QPowerSyncBackendConnector *connector READ pendingConnector WRITE setConnector NOTIFY
                   connectorChanged FINAL)
    Q_PROPERTY(bool syncing READ syncing WRITE setSyncing NOTIFY syncingChanged FINAL)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged FINAL)

public:
    explicit QQmlPowerSyncDatabase(QObject *parent = nullptr);

    QString path() const { return m_path; }
    void setPath(const QString &path);
    QString schema() const { return m_schema; }
    void setSchema(const QString &json);
    QString name() const { return m_name; }
    void setName(const QString &name);
    QPowerSyncBackendConnector *pendingConnector() const { return m_connector; }
    void setConnector(QPowerSyncBackendConnector *connector);
    bool syncing() const { return m_syncing; }
    void setSyncing(bool syncing);

    void classBegin() override;
    void componentComplete() override;

    using QPowerSyncDatabase::waitForFirstSync;
    // Calls `callback` once the first sync completed (at once if it has).
    Q_INVOKABLE void waitForFirstSync(const QJSValue &callback);
    // Runs `sql` on the database's connection: the rows of a SELECT as
    // objects, otherwise the number of rows changed; throws on an error.
    Q_INVOKABLE QJSValue execute(const QString &sql, const QVariantList &parameters = {});
    Q_INVOKABLE QPowerSyncWatchedQuery *
    watchQuery(const QString &sql, const QVariantList &parameters, const QStringList &tables);
    Q_INVOKABLE QPowerSyncWatchedQuery *watchAttachmentsOf(QObject *queue, const QString &sql,
                                                           const QStringList &tables);
    Q_INVOKABLE void clear() { disconnectAndClear(); }

Q_SIGNALS:
    void pathChanged();
    void schemaChanged();
    void nameChanged();
    void connectorChanged();
    void syncingChanged();
    void errorStringChanged();

private:
    void openIfReady();
    void updateConnection();

    QString m_path;
    QString m_schema;
    QString m_name = QStringLiteral("powersync");
    QPointer<QPowerSyncBackendConnector> m_connector;
    bool m_syncing = true;
    bool m_complete = true;
};

// PowerSyncQuery: a list model of `sql`'s rows (one role per column, and
// `row` for the whole row), re-run when a sync or a local write touches `tables`.
class QQmlPowerSyncQuery : public QAbstractListModel, public QQmlParserStatus
{
    Q_OBJECT
    Q_INTERFACES(QQmlParserStatus)
    QML_NAMED_ELEMENT(PowerSyncQuery)
    Q_PROPERTY(
        QPowerSyncDatabase *database READ database WRITE setDatabase NOTIFY databaseChanged FINAL)
    Q_PROPERTY(QString sql READ sql WRITE setSql NOTIFY sqlChanged FINAL)
    Q_PROPERTY(
        QVariantList parameters READ parameters WRITE setParameters NOTIFY parametersChanged FINAL)
    Q_PROPERTY(QStringList tables READ tables WRITE setTables NOTIFY tablesChanged FINAL)
    Q_PROPERTY(int count READ count NOTIFY countChanged FINAL)
    Q_PROPERTY(QVariantList rows READ rows NOTIFY rowsChanged FINAL)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged FINAL)

public:
    explicit QQmlPowerSyncQuery(QObject *parent = nullptr);

    QPowerSyncDatabase *database() const { return m_database; }
    void setDatabase(QPowerSyncDatabase *database);
    QString sql() const { return m_sql; }
    void setSql(const QString &sql);
    QVariantList parameters() const { return m_parameters; }
    void setParameters(const QVariantList &parameters);
    QStringList tables() const { return m_tables; }
    void setTables(const QStringList &tables);
    int count() const { return int(m_rows.size()); }
    QVariantList rows() const { return m_rows; }
    QString errorString() const;

    Q_INVOKABLE QVariantMap get(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void classBegin() override;
    void componentComplete() override;

Q_SIGNALS:
    void databaseChanged();
    void sqlChanged();
    void parametersChanged();
    void tablesChanged();
    void countChanged();
    void rowsChanged();
    void errorStringChanged();

private:
    void rebuild();
    void setRows(const QVariantList &rows, const QStringList &columns);

    QPointer<QPowerSyncDatabase> m_database;
    QPointer<QPowerSyncWatchedQuery> m_query;
    QString m_sql;
    QVariantList m_parameters;
    QStringList m_tables;
    QVariantList m_rows;
    QStringList m_columns;
    bool m_complete = true;
};

#endif // QQMLPOWERSYNC_P_H
