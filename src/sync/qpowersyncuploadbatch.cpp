#include "qpowersyncuploadbatch.h"

QPowerSyncUploadBatch::QPowerSyncUploadBatch(const QList<QPowerSyncCrudEntry> &entries,
                                             QObject *parent)
    : QObject(parent)
    , m_entries(entries)
{ }

QList<QList<QPowerSyncCrudEntry>> QPowerSyncUploadBatch::transactions() const
{
    QList<QList<QPowerSyncCrudEntry>> result;
    for (const QPowerSyncCrudEntry &entry : m_entries) {
        if (result.isEmpty() || result.last().constFirst().transactionId() != entry.transactionId())
            result.append(QList<QPowerSyncCrudEntry>());
        result.last().append(entry);
    }
    return result;
}

QVariantList QPowerSyncUploadBatch::entriesAsVariant() const
{
    QVariantList list;
    list.reserve(m_entries.size());
    for (const QPowerSyncCrudEntry &entry : m_entries)
        list.append(entry.toVariantMap());
    return list;
}

QVariantList QPowerSyncUploadBatch::transactionsAsVariant() const
{
    QVariantList list;
    const QList<QList<QPowerSyncCrudEntry>> groups = transactions();
    for (const QList<QPowerSyncCrudEntry> &group : groups) {
        QVariantList entries;
        for (const QPowerSyncCrudEntry &entry : group)
            entries.append(entry.toVariantMap());
        list.append(
            QVariantMap {{QStringLiteral("transactionId"), group.constFirst().transactionId()},
                         {QStringLiteral("entries"), entries}});
    }
    return list;
}

void QPowerSyncUploadBatch::complete()
{
    if (m_answered)
        return;
    m_answered = true;
    emit answeredChanged();
    emit completed();
}

void QPowerSyncUploadBatch::fail(const QString &errorString)
{
    if (m_answered)
        return;
    m_answered = true;
    emit answeredChanged();
    emit failed(errorString.isEmpty() ? QStringLiteral("upload failed") : errorString);
}
