#include "qattachmentthumbnailloader_p.h"

#include <QtCore/qmutex.h>
#include <QtCore/qrunnable.h>
#include <QtGui/qimagereader.h>

#include <functional>

// Where a pool thread hands its result: the loader while it lives. The lock
// keeps the loader from going away between the check and the post (a posted
// event of a destroyed object is dropped with it).
struct QAttachmentThumbnailLoader::Inbox
{
    QMutex mutex;
    QAttachmentThumbnailLoader *loader = nullptr;
};

namespace {

class DecodeJob : public QRunnable
{
public:
    DecodeJob(std::function<void(const QImage &)> post, const QString &path, const QSize &box)
        : m_post(std::move(post))
        , m_path(path)
        , m_box(box)
    { }
    void run() override { m_post(QAttachmentThumbnailLoader::decode(m_path, m_box)); }

private:
    std::function<void(const QImage &)> m_post;
    QString m_path;
    QSize m_box;
};

} // namespace

QAttachmentThumbnailLoader::QAttachmentThumbnailLoader(QObject *parent)
    : QObject(parent)
    , m_inbox(std::make_shared<Inbox>())
{
    m_inbox->loader = this;
    // Decoding is CPU work: two threads keep a scrolling list busy enough
    // without starving the rest of the app.
    m_pool.setMaxThreadCount(2);
    m_cache.setMaxCost(16 * 1024);
}

QAttachmentThumbnailLoader::~QAttachmentThumbnailLoader()
{
    {
        QMutexLocker lock(&m_inbox->mutex);
        m_inbox->loader = nullptr;
    }
    m_pool.clear();
    m_pool.waitForDone();
}

QImage QAttachmentThumbnailLoader::decode(const QString &path, const QSize &box)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QSize full = reader.size();
    // Formats that can (JPEG) decode at the smaller size directly.
    if (full.isValid() && (full.width() > box.width() || full.height() > box.height()))
        reader.setScaledSize(full.scaled(box, Qt::KeepAspectRatio));
    QImage image = reader.read();
    if (image.isNull())
        return {};
    if (image.width() > box.width() || image.height() > box.height())
        image = image.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    return image;
}

bool QAttachmentThumbnailLoader::isKnown(const QString &key) const
{
    return m_cache.contains(key) || m_failed.contains(key);
}

QImage QAttachmentThumbnailLoader::thumbnail(const QString &key, const QString &path,
                                             const QSize &box)
{
    if (const QImage *image = m_cache.object(key))
        return *image;
    if (m_failed.contains(key) || m_pending.contains(key) || path.isEmpty() || box.isEmpty())
        return {};
    m_pending.insert(key);
    const std::shared_ptr<Inbox> inbox = m_inbox;
    const quint64 generation = m_generation;
    auto post = [inbox, key, generation](const QImage &image) {
        QMutexLocker lock(&inbox->mutex);
        if (QAttachmentThumbnailLoader *loader = inbox->loader) {
            QMetaObject::invokeMethod(
                loader,
                [loader, key, image, generation] { loader->deliver(key, image, generation); },
                Qt::QueuedConnection);
        }
    };
    m_pool.start(new DecodeJob(std::move(post), path, box));
    return {};
}

void QAttachmentThumbnailLoader::deliver(const QString &key, const QImage &image,
                                         quint64 generation)
{
    if (generation != m_generation)
        return;
    m_pending.remove(key);
    if (image.isNull()) {
        m_failed.insert(key);
    } else {
        const int cost = qMax(1, int(image.sizeInBytes() / 1024));
        m_cache.insert(key, new QImage(image), cost);
    }
    emit ready(key);
}

void QAttachmentThumbnailLoader::clear()
{
    ++m_generation;
    m_cache.clear();
    m_failed.clear();
    m_pending.clear();
}
