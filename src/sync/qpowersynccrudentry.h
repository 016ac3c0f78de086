#ifndef QPOWERSYNCCRUDENTRY_H
#define QPOWERSYNCCRUDENTRY_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qlist.h>
#include <QtCore/qmetatype.h>
#include <QtCore/qobject.h>
#include <QtCore/qstring.h>
#include <QtCore/qvariant.h>

// One local write waiting for upload (a row of PowerSync's ps_crud table):
// `op` is "PUT" (insert or replace the whole row), "PATCH" (update of the
// columns in `data`) or "DELETE"; `table` is the synced table's name, `id`
// the row's id.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncCrudEntry
{
    Q_GADGET
    Q_PROPERTY(qint64 clientId READ clientId FINAL)
    Q_PROPERTY(qint64 transactionId READ transactionId FINAL)
    Q_PROPERTY(QString op READ op FINAL)
    Q_PROPERTY(QString table READ table FINAL)
    Q_PROPERTY(QString id READ id FINAL)
    Q_PROPERTY(QVariantMap data READ data FINAL)

public:
    QPowerSyncCrudEntry() = default;
    QPowerSyncCrudEntry(qint64 clientId, qint64 transactionId, const QString &op,
                        const QString &table, const QString &id, const QVariantMap &data);

    // Parses one ps_crud row; false (and *errorString) if `json` is not a
    // {"op","type","id","data"?} object.
    static bool fromCrudRow(qint64 clientId, qint64 transactionId, const QByteArray &json,
                            QPowerSyncCrudEntry *entry, QString *errorString = nullptr);

    // ps_crud.id: increasing, unique.
    qint64 clientId() const { return m_clientId; }
    // ps_crud.tx_id: entries written in one local transaction share it.
    qint64 transactionId() const { return m_transactionId; }
    QString op() const { return m_op; }
    QString table() const { return m_table; }
    QString id() const { return m_id; }
    QVariantMap data() const { return m_data; }

    // {"op","type","id","data"}: the form PowerSync's SDKs send to their backends.
    QVariantMap toVariantMap() const;

    bool operator==(const QPowerSyncCrudEntry &other) const;
    bool operator!=(const QPowerSyncCrudEntry &other) const { return !(*this == other); }

private:
    qint64 m_clientId = 0;
    qint64 m_transactionId = 0;
    QString m_op;
    QString m_table;
    QString m_id;
    QVariantMap m_data;
};

Q_DECLARE_METATYPE(QPowerSyncCrudEntry)

#endif // QPOWERSYNCCRUDENTRY_H
