#include "qattachmentdecorationmodel.h"

#include "qattachmentmodel.h"
#include "qattachmentthumbnailloader_p.h"

#include <QtCore/qhash.h>
#include <QtCore/qurl.h>
#include <QtGui/qbrush.h>

class QAttachmentDecorationModelPrivate
{
public:
    // The row's file and version: a file replaced under the same name (a new
    // timestamp) is decoded again.
    static QString keyOf(const QModelIndex &source, QString *path)
    {
        const QUrl url = source.data(QAttachmentModel::LocalUrlRole).toUrl();
        if (!url.isLocalFile())
            return {};
        *path = url.toLocalFile();
        return *path + QLatin1Char('\n') + source.data(QAttachmentModel::TimestampRole).toString();
    }

    QAttachmentThumbnailLoader loader;
    QSize thumbnailSize {64, 64};
    QColor failingColor {0xb7, 0x1c, 0x1c};
    int cacheLimit = 16 * 1024;
    QList<QMetaObject::Connection> sourceConnections;
    // Rows shown while their thumbnail is decoded, by key: told when it is ready.
    QHash<QString, QList<QPersistentModelIndex>> waiting;
};

QAttachmentDecorationModel::QAttachmentDecorationModel(QObject *parent)
    : QIdentityProxyModel(parent)
    , d_ptr(std::make_unique<QAttachmentDecorationModelPrivate>())
{
    Q_D(QAttachmentDecorationModel);
    d->loader.setCacheLimit(d->cacheLimit);
    connect(&d->loader, &QAttachmentThumbnailLoader::ready, this, [this](const QString &key) {
        // The rows that asked for it, wherever they moved meanwhile.
        Q_D(QAttachmentDecorationModel);
        const QList<QPersistentModelIndex> waiting = d->waiting.take(key);
        for (const QPersistentModelIndex &source : waiting) {
            if (!source.isValid())
                continue;
            const QModelIndex i = mapFromSource(source);
            emit dataChanged(i, i, {Qt::DecorationRole});
        }
    });
}

QAttachmentDecorationModel::~QAttachmentDecorationModel() = default;

QSize QAttachmentDecorationModel::thumbnailSize() const
{
    return d_func()->thumbnailSize;
}

void QAttachmentDecorationModel::setThumbnailSize(const QSize &size)
{
    Q_D(QAttachmentDecorationModel);
    if (d->thumbnailSize == size)
        return;
    d->thumbnailSize = size;
    d->loader.clear();
    d->waiting.clear();
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, 0), {Qt::DecorationRole});
    emit thumbnailSizeChanged();
}

QColor QAttachmentDecorationModel::failingColor() const
{
    return d_func()->failingColor;
}

void QAttachmentDecorationModel::setFailingColor(const QColor &color)
{
    Q_D(QAttachmentDecorationModel);
    if (d->failingColor == color)
        return;
    d->failingColor = color;
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1),
                         {Qt::ForegroundRole});
    emit failingColorChanged();
}

int QAttachmentDecorationModel::cacheLimit() const
{
    return d_func()->cacheLimit;
}

void QAttachmentDecorationModel::setCacheLimit(int kilobytes)
{
    Q_D(QAttachmentDecorationModel);
    kilobytes = qMax(1, kilobytes);
    if (d->cacheLimit == kilobytes)
        return;
    d->cacheLimit = kilobytes;
    d->loader.setCacheLimit(kilobytes);
    emit cacheLimitChanged();
}

void QAttachmentDecorationModel::setSourceModel(QAbstractItemModel *model)
{
    Q_D(QAttachmentDecorationModel);
    for (const auto &c : std::as_const(d->sourceConnections))
        disconnect(c);
    d->sourceConnections.clear();
    d->waiting.clear();
    QIdentityProxyModel::setSourceModel(model);
    if (!model)
        return;
    // The roles derived here change with the source roles they come from.
    d->sourceConnections << connect(
        model, &QAbstractItemModel::dataChanged, this,
        [this](const QModelIndex &topLeft, const QModelIndex &bottomRight,
               const QList<int> &roles) {
            if (roles.isEmpty())
                return; // everything changed, and views were told so
            if (roles.contains(QAttachmentModel::FailingRole)
                || roles.contains(QAttachmentModel::ErrorRole)) {
                emit dataChanged(
                    mapFromSource(topLeft),
                    mapFromSource(bottomRight.siblingAtColumn(qMax(0, columnCount() - 1))),
                    {Qt::ForegroundRole});
            }
            if (roles.contains(QAttachmentModel::LocalUrlRole)
                || roles.contains(QAttachmentModel::TimestampRole)) {
                emit dataChanged(mapFromSource(topLeft.siblingAtColumn(0)),
                                 mapFromSource(bottomRight.siblingAtColumn(0)),
                                 {Qt::DecorationRole});
            }
        });
}

QVariant QAttachmentDecorationModel::data(const QModelIndex &index, int role) const
{
    if (role == Qt::ForegroundRole) {
        const QColor color = d_func()->failingColor;
        if (color.isValid() && index.isValid()
            && index.siblingAtColumn(0).data(QAttachmentModel::FailingRole).toBool())
            return QBrush(color);
        return QIdentityProxyModel::data(index, role);
    }
    if (role != Qt::DecorationRole || !index.isValid() || index.column() != 0)
        return QIdentityProxyModel::data(index, role);
    const QModelIndex source = mapToSource(index);
    QString path;
    const QString key = QAttachmentDecorationModelPrivate::keyOf(source, &path);
    if (key.isEmpty())
        return {};
    auto *d = const_cast<QAttachmentDecorationModelPrivate *>(d_func());
    const QImage image = d->loader.thumbnail(key, path, d->thumbnailSize);
    if (!image.isNull())
        return image;
    if (!d->loader.isKnown(key)) {
        QList<QPersistentModelIndex> &rows = d->waiting[key];
        if (!rows.contains(QPersistentModelIndex(source)))
            rows.append(QPersistentModelIndex(source));
    }
    return {};
}
