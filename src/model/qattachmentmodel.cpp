#include "qattachmentmodel.h"

#include "qattachmentqueue.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qhash.h>
#include <QtCore/qlocale.h>

#include <algorithm>

namespace {

struct Entry
{
    QAttachment attachment;
    QUrl localUrl;
    qint64 order = 0;
    qint64 bytesDone = -1;
    qint64 bytesTotal = -1;
    QString error;
    QDateTime nextRetry;

    bool transferring() const { return bytesDone >= 0; }
    double progress() const
    {
        if (bytesDone < 0 && attachment.state() == QAttachmentState::Synced)
            return 1.0; // nothing left to move
        if (bytesDone < 0 || bytesTotal <= 0)
            return 0.0;
        return std::clamp(double(bytesDone) / double(bytesTotal), 0.0, 1.0);
    }
};

QString errorText(const QAttachmentError &error)
{
    return error.message().isEmpty() ? QStringLiteral("transfer failed") : error.message();
}

} // namespace

class QAttachmentModelPrivate
{
public:
    explicit QAttachmentModelPrivate(QAttachmentModel *q)
        : q_ptr(q)
    { }

    bool accepts(const QAttachment &attachment) const
    {
        return filter.isEmpty() || filter.contains(int(attachment.state()));
    }
    qint64 orderOf(const QString &id)
    {
        auto it = orders.constFind(id);
        if (it != orders.constEnd())
            return *it;
        const qint64 order = nextOrder++;
        orders.insert(id, order);
        return order;
    }
    // Where a row of `order` belongs among the rows shown (kept sorted by order).
    int insertionRow(qint64 order) const
    {
        const auto it = std::lower_bound(entries.cbegin(), entries.cend(), order,
                                         [](const Entry &e, qint64 o) { return e.order < o; });
        return int(it - entries.cbegin());
    }
    // Rows are kept sorted by order, so a row is found by its id's order:
    // no id-to-row index to renumber after every insert or remove, which made
    // bulk removals (clearQueue on thousands of rows) quadratic.
    int rowOf(const QString &id) const
    {
        const auto it = orders.constFind(id);
        if (it == orders.constEnd())
            return -1;
        const int row = insertionRow(*it);
        return row < entries.size() && entries.at(row).order == *it ? row : -1;
    }
    QUrl urlOf(const QAttachment &attachment) const
    {
        return queue ? queue->localUrl(attachment) : QUrl();
    }
    int lastColumn() const { return columns ? QAttachmentModel::ColumnCount - 1 : 0; }

    void onChanged(const QAttachment &attachment);
    void onRemoved(const QString &id);
    void onStatusChanged(const QString &id);
    // Takes the transfer's bytes and the last error from the queue's status
    // of the entry's attachment; the roles that changed go to `roles`.
    void applyStatus(Entry &entry, QList<int> *roles) const;
    void insertEntry(Entry entry);
    void removeRow(int row);
    void emitRowChanged(int row, QList<int> roles);

    QAttachmentModel *q_ptr;
    Q_DECLARE_PUBLIC(QAttachmentModel)

    QPointer<QAttachmentQueue> queue;
    QList<QMetaObject::Connection> connections;
    QList<int> filter;
    bool columns = false;
    QList<Entry> entries;
    // Insertion order of every id seen, shown or filtered out, so that a row
    // coming back into the filter returns to its place.
    QHash<QString, qint64> orders;
    qint64 nextOrder = 0;
};

void QAttachmentModelPrivate::insertEntry(Entry entry)
{
    Q_Q(QAttachmentModel);
    const int row = insertionRow(entry.order);
    q->beginInsertRows(QModelIndex(), row, row);
    entries.insert(row, std::move(entry));
    q->endInsertRows();
    emit q->countChanged();
}

void QAttachmentModelPrivate::removeRow(int row)
{
    Q_Q(QAttachmentModel);
    q->beginRemoveRows(QModelIndex(), row, row);
    entries.removeAt(row);
    q->endRemoveRows();
    emit q->countChanged();
}

void QAttachmentModelPrivate::emitRowChanged(int row, QList<int> roles)
{
    Q_Q(QAttachmentModel);
    // Views and proxies refresh only the roles named, and some roles are
    // shown again as the tooltip and the progress column.
    if (roles.contains(QAttachmentModel::ErrorRole)) {
        if (!roles.contains(Qt::ToolTipRole))
            roles << Qt::ToolTipRole;
        if (!roles.contains(QAttachmentModel::FailingRole))
            roles << QAttachmentModel::FailingRole;
    }
    if (columns && !roles.contains(Qt::DisplayRole)
        && (roles.contains(QAttachmentModel::ErrorRole)
            || roles.contains(QAttachmentModel::ProgressRole)
            || roles.contains(QAttachmentModel::TransferringRole)))
        roles << Qt::DisplayRole;
    emit q->dataChanged(q->index(row, 0), q->index(row, lastColumn()), roles);
}

void QAttachmentModelPrivate::applyStatus(Entry &entry, QList<int> *roles) const
{
    if (!queue)
        return;
    const QAttachmentStatus status = queue->status(entry.attachment.id());
    const bool wasTransferring = entry.transferring();
    if (status.bytesDone() != entry.bytesDone || status.bytesTotal() != entry.bytesTotal) {
        entry.bytesDone = status.bytesDone();
        entry.bytesTotal = status.bytesTotal();
        *roles << QAttachmentModel::ProgressRole;
        if (wasTransferring != entry.transferring())
            *roles << QAttachmentModel::TransferringRole;
    }
    // Until the operation succeeds or the row changes state, its failure is news.
    const QAttachmentError error = status.lastError();
    const QString text = error.isError() ? errorText(error) : QString();
    if (text != entry.error) {
        entry.error = text;
        *roles << QAttachmentModel::ErrorRole;
    }
    if (status.nextRetry() != entry.nextRetry) {
        entry.nextRetry = status.nextRetry();
        *roles << QAttachmentModel::NextRetryRole;
    }
}

void QAttachmentModelPrivate::onChanged(const QAttachment &attachment)
{
    const QString id = attachment.id();
    const int row = rowOf(id);
    if (!accepts(attachment)) {
        orderOf(id);
        if (row >= 0)
            removeRow(row);
        return;
    }
    if (row < 0) {
        Entry entry;
        entry.attachment = attachment;
        entry.localUrl = urlOf(attachment);
        entry.order = orderOf(id);
        QList<int> roles;
        applyStatus(entry, &roles);
        insertEntry(std::move(entry));
        return;
    }

    Entry &entry = entries[row];
    const QAttachment old = entry.attachment;
    QList<int> roles;
    if (old.filename() != attachment.filename())
        roles << QAttachmentModel::FilenameRole;
    if (old.state() != attachment.state())
        roles << QAttachmentModel::StateRole << QAttachmentModel::StateNameRole
              << QAttachmentModel::ProgressRole;
    applyStatus(entry, &roles);
    if (old.size() != attachment.size())
        roles << QAttachmentModel::SizeRole;
    if (old.mediaType() != attachment.mediaType())
        roles << QAttachmentModel::MediaTypeRole;
    if (old.hasSynced() != attachment.hasSynced())
        roles << QAttachmentModel::HasSyncedRole;
    if (old.metaData() != attachment.metaData())
        roles << QAttachmentModel::MetaDataRole;
    if (old.timestamp() != attachment.timestamp())
        roles << QAttachmentModel::TimestampRole;
    entry.attachment = attachment;
    const QUrl url = urlOf(attachment);
    if (url != entry.localUrl) {
        entry.localUrl = url;
        roles << QAttachmentModel::LocalUrlRole;
    }
    if (roles.isEmpty())
        return;
    roles << Qt::DisplayRole;
    emitRowChanged(row, roles);
}

void QAttachmentModelPrivate::onRemoved(const QString &id)
{
    const int row = rowOf(id);
    orders.remove(id);
    if (row >= 0)
        removeRow(row);
}

void QAttachmentModelPrivate::onStatusChanged(const QString &id)
{
    const int row = rowOf(id);
    if (row < 0)
        return;
    QList<int> roles;
    applyStatus(entries[row], &roles);
    if (!roles.isEmpty())
        emitRowChanged(row, roles);
}

QAttachmentModel::QAttachmentModel(QObject *parent)
    : QAbstractListModel(parent)
    , d_ptr(std::make_unique<QAttachmentModelPrivate>(this))
{ }

QAttachmentModel::~QAttachmentModel() = default;

QAttachmentQueue *QAttachmentModel::queue() const
{
    return d_func()->queue;
}

void QAttachmentModel::setQueue(QAttachmentQueue *queue)
{
    Q_D(QAttachmentModel);
    if (d->queue == queue)
        return;
    if (queue && queue->thread() != thread()) {
        // The model reads the queue's table and statuses directly, and an SQL
        // connection serves only the thread that opened it.
        qWarning("QAttachmentModel::setQueue: the queue lives in another thread; a model must "
                 "live in its queue's thread. The queue was not set.");
        return;
    }
    for (const auto &c : std::as_const(d->connections))
        disconnect(c);
    d->connections.clear();
    d->queue = queue;
    if (queue) {
        d->connections << connect(queue, &QAttachmentQueue::attachmentChanged, this,
                                  [d](const QAttachment &a) { d->onChanged(a); });
        d->connections << connect(queue, &QAttachmentQueue::attachmentRemoved, this,
                                  [d](const QString &id) { d->onRemoved(id); });
        // Progress and failures: the queue's status of each attachment.
        d->connections << connect(queue, &QAttachmentQueue::statusChanged, this,
                                  [d](const QString &id) { d->onStatusChanged(id); });
        // Another table (or database) is a different list altogether.
        d->connections << connect(queue, &QAttachmentQueue::tableNameChanged, this,
                                  &QAttachmentModel::reload);
        d->connections << connect(queue, &QAttachmentQueue::connectionNameChanged, this,
                                  &QAttachmentModel::reload);
        d->connections << connect(queue, &QAttachmentQueue::localDirectoryChanged, this,
                                  &QAttachmentModel::reload);
        d->connections << connect(queue, &QObject::destroyed, this, [this, d] {
            for (const auto &c : std::as_const(d->connections))
                disconnect(c);
            d->connections.clear();
            d->queue = nullptr;
            reload();
            emit queueChanged();
        });
    }
    reload();
    emit queueChanged();
}

QList<int> QAttachmentModel::stateFilter() const
{
    return d_func()->filter;
}

void QAttachmentModel::setStateFilter(const QList<int> &states)
{
    Q_D(QAttachmentModel);
    QList<int> sorted = states;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    if (sorted == d->filter)
        return;
    d->filter = sorted;
    reload();
    emit stateFilterChanged();
}

int QAttachmentModel::count() const
{
    return int(d_func()->entries.size());
}

void QAttachmentModel::setColumnsEnabled(bool enabled)
{
    Q_D(QAttachmentModel);
    if (d->columns == enabled)
        return;
    beginResetModel();
    d->columns = enabled;
    endResetModel();
}

bool QAttachmentModel::columnsEnabled() const
{
    return d_func()->columns;
}

void QAttachmentModel::reload()
{
    Q_D(QAttachmentModel);
    const int before = int(d->entries.size());
    beginResetModel();
    d->entries.clear();
    d->orders.clear();
    d->nextOrder = 0;
    // A queue still being configured has no table to read yet.
    if (d->queue && (d->queue->localStorage() || !d->queue->localDirectory().isEmpty())) {
        const QList<QAttachment> all = d->queue->attachments();
        d->entries.reserve(all.size());
        d->orders.reserve(all.size());
        for (const QAttachment &attachment : all) {
            const qint64 order = d->orderOf(attachment.id());
            if (!d->accepts(attachment))
                continue;
            Entry entry;
            entry.attachment = attachment;
            entry.localUrl = d->urlOf(attachment);
            entry.order = order;
            QList<int> roles;
            d->applyStatus(entry, &roles);
            d->entries.append(std::move(entry));
        }
    }
    endResetModel();
    if (before != int(d->entries.size()))
        emit countChanged();
}

int QAttachmentModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(d_func()->entries.size());
}

int QAttachmentModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : d_func()->lastColumn() + 1;
}

static QString displaySize(qint64 size)
{
    return size < 0 ? QString() : QLocale().formattedDataSize(size);
}

QVariant QAttachmentModel::data(const QModelIndex &index, int role) const
{
    Q_D(const QAttachmentModel);
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &entry = d->entries.at(index.row());
    const QAttachment &a = entry.attachment;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case IdColumn:
            return a.id();
        case FilenameColumn:
            return a.filename();
        case StateColumn:
            return QAttachmentState::name(a.state());
        case SizeColumn:
            return displaySize(a.size());
        case MediaTypeColumn:
            return a.mediaType();
        case ProgressColumn:
            return entry.transferring() || a.state() == QAttachmentState::Synced
                ? QVariant(qRound(entry.progress() * 100))
                : QVariant();
        case ErrorColumn:
            return entry.error;
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole)
        return entry.error.isEmpty() ? QVariant() : QVariant(entry.error);
    switch (role) {
    case AttachmentIdRole:
        return a.id();
    case FilenameRole:
        return a.filename();
    case LocalUrlRole:
        return entry.localUrl;
    case StateRole:
        return int(a.state());
    case StateNameRole:
        return QAttachmentState::name(a.state());
    case SizeRole:
        return a.size();
    case MediaTypeRole:
        return a.mediaType();
    case HasSyncedRole:
        return a.hasSynced();
    case MetaDataRole:
        return a.metaData();
    case TimestampRole:
        return a.timestamp();
    case ProgressRole:
        return entry.progress();
    case TransferringRole:
        return entry.transferring();
    case ErrorRole:
        return entry.error;
    case NextRetryRole:
        return entry.nextRetry;
    case FailingRole:
        return !entry.error.isEmpty();
    default:
        return {};
    }
}

QVariant QAttachmentModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractListModel::headerData(section, orientation, role);
    switch (section) {
    case IdColumn:
        return tr("Id");
    case FilenameColumn:
        return tr("File");
    case StateColumn:
        return tr("State");
    case SizeColumn:
        return tr("Size");
    case MediaTypeColumn:
        return tr("Type");
    case ProgressColumn:
        return tr("Progress");
    case ErrorColumn:
        return tr("Error");
    default:
        return {};
    }
}

QHash<int, QByteArray> QAttachmentModel::roleNames() const
{
    return {
        {Qt::DisplayRole, "display"},
        {AttachmentIdRole, "attachmentId"},
        {FilenameRole, "filename"},
        {LocalUrlRole, "localUrl"},
        {StateRole, "state"},
        {StateNameRole, "stateName"},
        {SizeRole, "size"},
        {MediaTypeRole, "mediaType"},
        {HasSyncedRole, "hasSynced"},
        {MetaDataRole, "metaData"},
        {TimestampRole, "timestamp"},
        {ProgressRole, "progress"},
        {TransferringRole, "transferring"},
        {ErrorRole, "error"},
        {NextRetryRole, "nextRetry"},
        {FailingRole, "failing"},
    };
}

int QAttachmentModel::rowOf(const QString &id) const
{
    return d_func()->rowOf(id);
}

QAttachment QAttachmentModel::attachmentAt(int row) const
{
    Q_D(const QAttachmentModel);
    if (row < 0 || row >= d->entries.size())
        return {};
    return d->entries.at(row).attachment;
}

QVariantMap QAttachmentModel::get(int row) const
{
    QVariantMap result;
    if (row < 0 || row >= rowCount())
        return result;
    const QModelIndex idx = index(row, 0);
    const QHash<int, QByteArray> names = roleNames();
    for (auto it = names.cbegin(); it != names.cend(); ++it)
        result.insert(QString::fromLatin1(it.value()), data(idx, it.key()));
    return result;
}
