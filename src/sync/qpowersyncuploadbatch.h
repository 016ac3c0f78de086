#ifndef QPOWERSYNCUPLOADBATCH_H
#define QPOWERSYNCUPLOADBATCH_H

#include "qpowersynccrudentry.h"

#include <QtCore/qobject.h>
#include <QtCore/qvariant.h>

// Local writes handed to QPowerSyncBackendConnector::uploadData(): one or more
// whole local transactions, oldest first. The connector sends them to the
// app's backend and then calls complete() (they are removed from the upload
// queue) or fail() (they are offered again after a delay). Calls after the
// first one are ignored. The batch is deleted after it is answered.
class POWERSYNC_ATTACHMENTS_EXPORT QPowerSyncUploadBatch : public QObject
{
    Q_OBJECT
    // Every entry as {"op","type","id","data"}, oldest first.
    Q_PROPERTY(QVariantList entries READ entriesAsVariant CONSTANT FINAL)
    // [{"transactionId": N, "entries": [...]}, ...]
    Q_PROPERTY(QVariantList transactions READ transactionsAsVariant CONSTANT FINAL)
    Q_PROPERTY(bool answered READ isAnswered NOTIFY answeredChanged FINAL)

public:
    explicit QPowerSyncUploadBatch(const QList<QPowerSyncCrudEntry> &entries,
                                   QObject *parent = nullptr);

    QList<QPowerSyncCrudEntry> entries() const { return m_entries; }
    // Entries grouped by transaction, in order.
    QList<QList<QPowerSyncCrudEntry>> transactions() const;
    QVariantList entriesAsVariant() const;
    QVariantList transactionsAsVariant() const;
    bool isAnswered() const { return m_answered; }

public Q_SLOTS:
    void complete();
    void fail(const QString &errorString);

Q_SIGNALS:
    void completed();
    void failed(const QString &errorString);
    void answeredChanged();

private:
    QList<QPowerSyncCrudEntry> m_entries;
    bool m_answered = false;
};

#endif // QPOWERSYNCUPLOADBATCH_H
