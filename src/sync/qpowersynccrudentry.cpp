#include "qpowersynccrudentry.h"

#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>

QPowerSyncCrudEntry::QPowerSyncCrudEntry(qint64 clientId, qint64 transactionId, const QString &op,
                                         const QString &table, const QString &id,
                                         const QVariantMap &data)
    : m_clientId(clientId)
    , m_transactionId(transactionId)
    , m_op(op)
    , m_table(table)
    , m_id(id)
    , m_data(data)
{ }

bool QPowerSyncCrudEntry::fromCrudRow(qint64 clientId, qint64 transactionId, const QByteArray &json,
                                      QPowerSyncCrudEntry *entry, QString *errorString)
{
    auto fail = [errorString](const QString &message) {
        if (errorString)
            *errorString = message;
        return false;
    };
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject())
        return fail(QStringLiteral("ps_crud row %1 is not a JSON object").arg(clientId));
    const QJsonObject object = doc.object();
    const QString op = object.value(QLatin1String("op")).toString();
    if (op != QLatin1String("PUT") && op != QLatin1String("PATCH") && op != QLatin1String("DELETE"))
        return fail(QStringLiteral("ps_crud row %1 has an unknown op").arg(clientId));
    const QString table = object.value(QLatin1String("type")).toString();
    const QString id = object.value(QLatin1String("id")).toString();
    if (table.isEmpty() || id.isEmpty())
        return fail(QStringLiteral("ps_crud row %1 has no type or id").arg(clientId));
    const QJsonValue data = object.value(QLatin1String("data"));
    if (!data.isUndefined() && !data.isNull() && !data.isObject())
        return fail(QStringLiteral("ps_crud row %1 has data that is not an object").arg(clientId));
    *entry = QPowerSyncCrudEntry(clientId, transactionId, op, table, id,
                                 data.toObject().toVariantMap());
    return true;
}

QVariantMap QPowerSyncCrudEntry::toVariantMap() const
{
    QVariantMap map {{QStringLiteral("op"), m_op},
                     {QStringLiteral("type"), m_table},
                     {QStringLiteral("id"), m_id}};
    if (m_op != QLatin1String("DELETE"))
        map.insert(QStringLiteral("data"), m_data);
    return map;
}

bool QPowerSyncCrudEntry::operator==(const QPowerSyncCrudEntry &other) const
{
    return m_clientId == other.m_clientId && m_transactionId == other.m_transactionId
        && m_op == other.m_op && m_table == other.m_table && m_id == other.m_id
        && m_data == other.m_data;
}
