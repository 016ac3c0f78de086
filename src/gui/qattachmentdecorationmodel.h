#ifndef QATTACHMENTDECORATIONMODEL_H
#define QATTACHMENTDECORATIONMODEL_H

#include "qpowersyncattachmentsguiglobal.h"

#include <QtCore/qidentityproxymodel.h>
#include <QtCore/qsize.h>
#include <QtGui/qcolor.h>

#include <memory>

class QAttachmentDecorationModelPrivate;

// Puts a QAttachmentModel in front of Qt Widgets views with what they show
// beside the text: a thumbnail of each image attachment (Qt::DecorationRole,
// a QImage, in column 0) and a colour for rows whose last attempt failed
// (Qt::ForegroundRole, a QBrush, every column). Every other role and column is
// the source model's.
//
// A thumbnail is decoded from the local file at most thumbnailSize (aspect
// ratio kept, never enlarged) on a thread of its own pool, never on the GUI
// thread; until it is ready the role is empty, and dataChanged() names
// Qt::DecorationRole when it arrives. Thumbnails are kept in a cache of
// cacheLimit kilobytes, keyed by file and row timestamp: a replaced file is
// decoded again, a scrolled-back row is not. A file that is not an image (or
// cannot be decoded) has no thumbnail.
//
// Threads: like every model, use it from the thread it lives in (the GUI
// thread); the decoding threads only hand back images.
class POWERSYNC_ATTACHMENTS_GUI_EXPORT QAttachmentDecorationModel : public QIdentityProxyModel
{
    Q_OBJECT
    Q_PROPERTY(QSize thumbnailSize READ thumbnailSize WRITE setThumbnailSize NOTIFY
                   thumbnailSizeChanged FINAL)
    Q_PROPERTY(QColor failingColor READ failingColor WRITE setFailingColor NOTIFY
                   failingColorChanged FINAL)
    Q_PROPERTY(int cacheLimit READ cacheLimit WRITE setCacheLimit NOTIFY cacheLimitChanged FINAL)

public:
    explicit QAttachmentDecorationModel(QObject *parent = nullptr);
    ~QAttachmentDecorationModel() override;

    // The box a thumbnail fits in; 64x64 by default. Changing it drops the cache.
    QSize thumbnailSize() const;
    void setThumbnailSize(const QSize &size);

    // The foreground of failing rows; dark red by default. Invalid: none.
    QColor failingColor() const;
    void setFailingColor(const QColor &color);

    // The cache of decoded thumbnails, in kilobytes; 16384 by default.
    int cacheLimit() const;
    void setCacheLimit(int kilobytes);

    void setSourceModel(QAbstractItemModel *model) override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void thumbnailSizeChanged();
    void failingColorChanged();
    void cacheLimitChanged();

private:
    Q_DECLARE_PRIVATE(QAttachmentDecorationModel)
    std::unique_ptr<QAttachmentDecorationModelPrivate> d_ptr;
};

#endif // QATTACHMENTDECORATIONMODEL_H
