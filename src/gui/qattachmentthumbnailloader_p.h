#ifndef QATTACHMENTTHUMBNAILLOADER_P_H
#define QATTACHMENTTHUMBNAILLOADER_P_H

#include <QtCore/qcache.h>
#include <QtCore/qobject.h>
#include <QtCore/qset.h>
#include <QtCore/qsize.h>
#include <QtCore/qthreadpool.h>
#include <QtGui/qimage.h>

#include <memory>

// Decodes image files into thumbnails on a pool of its own and keeps them in
// a cache bounded in kilobytes. Lives in one thread (its owner's); the pool
// threads only decode and post the result back.
class QAttachmentThumbnailLoader : public QObject
{
    Q_OBJECT

public:
    explicit QAttachmentThumbnailLoader(QObject *parent = nullptr);
    ~QAttachmentThumbnailLoader() override;

    // The thumbnail of `path` for `key`: from the cache, or null while it is
    // decoded (ready(key) follows), or null for good when it cannot be.
    QImage thumbnail(const QString &key, const QString &path, const QSize &box);
    // Decoded or failed already: thumbnail() will not start anything.
    bool isKnown(const QString &key) const;
    void clear();
    void setCacheLimit(int kilobytes) { m_cache.setMaxCost(qMax(1, kilobytes)); }

    // Runs on a pool thread: reads `path` scaled into `box`.
    static QImage decode(const QString &path, const QSize &box);

Q_SIGNALS:
    void ready(const QString &key);

private:
    struct Inbox;
    void deliver(const QString &key, const QImage &image, quint64 generation);

    QThreadPool m_pool;
    QCache<QString, QImage> m_cache;
    QSet<QString> m_failed;
    QSet<QString> m_pending;
    std::shared_ptr<Inbox> m_inbox;
    quint64 m_generation = 0; // results of a cleared cache are dropped
};

#endif // QATTACHMENTTHUMBNAILLOADER_P_H
