// QAttachmentDecorationModel: thumbnails decoded off the GUI thread, scaled
// once and cached; a foreground colour for failing rows.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
// The forwarding headers of PowerSync::AttachmentsGui, in both spellings.
#include <PowerSyncAttachments/QAttachmentDecorationModel>
#include <QAttachmentDecorationModel>
#include <qattachmentmodel.h>
#include <qattachmentqueue.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qtemporarydir.h>
#include <QtGui/qbrush.h>
#include <QtGui/qimage.h>
#include <QtTest/qabstractitemmodeltester.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

class tst_Decoration : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    static QByteArray png(int width, int height)
    {
        QImage image(width, height, QImage::Format_RGB32);
        image.fill(Qt::darkCyan);
        QByteArray bytes;
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        image.save(&buffer, "PNG");
        return bytes;
    }
    static bool namesDecoration(const QSignalSpy &spy, int row)
    {
        for (const auto &args : spy) {
            if (args.at(0).toModelIndex().row() == row
                && args.at(2).value<QList<int>>().contains(Qt::DecorationRole))
                return true;
        }
        return false;
    }

private Q_SLOTS:
    void propertiesNotifyAndAreFinal()
    {
        const QMetaObject &meta = QAttachmentDecorationModel::staticMetaObject;
        for (int i = meta.propertyOffset(); i < meta.propertyCount(); ++i) {
            const QMetaProperty property = meta.property(i);
            QVERIFY2(property.hasNotifySignal(), property.name());
            QVERIFY2(property.isFinal(), property.name());
        }
        QCOMPARE(meta.propertyCount() - meta.propertyOffset(), 3);
    }

    void init()
    {
        QVERIFY(openFixture());
        QueueSetup setup;
        setup.quickRetries = false;
        setUpQueue(setup);
    }
    void cleanup() { closeFixture(); }

    void thumbnailIsScaledOffTheGuiThreadAndCached()
    {
        const QAttachment photo
            = m_queue->saveFile(png(800, 600), QStringLiteral("image/png"), QStringLiteral("png"));
        const QAttachment text = m_queue->saveFile(
            QByteArray("not an image"), QStringLiteral("text/plain"), QStringLiteral("txt"));
        QAttachmentModel model;
        model.setQueue(m_queue);
        QAttachmentDecorationModel decorated;
        QAbstractItemModelTester tester(&decorated,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        decorated.setSourceModel(&model);
        QCOMPARE(decorated.thumbnailSize(), QSize(64, 64));
        QSignalSpy changed(&decorated, &QAbstractItemModel::dataChanged);

        const QModelIndex photoIndex = decorated.index(model.rowOf(photo.id()), 0);
        const QModelIndex textIndex = decorated.index(model.rowOf(text.id()), 0);
        // Not decoded in data(): empty until the pool hands the thumbnail back.
        QVERIFY(!decorated.data(photoIndex, Qt::DecorationRole).isValid());
        QVERIFY(!decorated.data(textIndex, Qt::DecorationRole).isValid());
        QTRY_VERIFY_WITH_TIMEOUT(namesDecoration(changed, photoIndex.row()), 5000);
        const QImage thumbnail = decorated.data(photoIndex, Qt::DecorationRole).value<QImage>();
        QCOMPARE(thumbnail.size(), QSize(64, 48)); // aspect ratio kept
        // From the cache: the same image, no second decode.
        QTRY_VERIFY_WITH_TIMEOUT(namesDecoration(changed, textIndex.row()), 5000);
        changed.clear();
        QCOMPARE(decorated.data(photoIndex, Qt::DecorationRole).value<QImage>().cacheKey(),
                 thumbnail.cacheKey());
        QVERIFY(!decorated.data(textIndex, Qt::DecorationRole).isValid()); // not an image
        QTest::qWait(0);
        QCOMPARE(changed.count(), 0);
        // The other roles are the source's.
        QCOMPARE(decorated.data(photoIndex, QAttachmentModel::AttachmentIdRole).toString(),
                 photo.id());

        // A new size decodes again.
        decorated.setThumbnailSize(QSize(32, 32));
        QVERIFY(!decorated.data(photoIndex, Qt::DecorationRole).isValid());
        QTRY_COMPARE_WITH_TIMEOUT(
            decorated.data(photoIndex, Qt::DecorationRole).value<QImage>().size(), QSize(32, 24),
            5000);
    }

    void smallImagesAreNotEnlarged()
    {
        const QAttachment icon
            = m_queue->saveFile(png(20, 10), QStringLiteral("image/png"), QStringLiteral("png"));
        QAttachmentModel model;
        model.setQueue(m_queue);
        QAttachmentDecorationModel decorated;
        decorated.setSourceModel(&model);
        const QModelIndex index = decorated.index(model.rowOf(icon.id()), 0);
        decorated.data(index, Qt::DecorationRole);
        QTRY_COMPARE_WITH_TIMEOUT(decorated.data(index, Qt::DecorationRole).value<QImage>().size(),
                                  QSize(20, 10), 5000);
    }

    void failingRowsHaveTheFailingColour()
    {
        QAttachmentModel model;
        model.setColumnsEnabled(true);
        model.setQueue(m_queue);
        QAttachmentDecorationModel decorated;
        decorated.setSourceModel(&model);
        QSignalSpy changed(&decorated, &QAbstractItemModel::dataChanged);
        m_queue->setRetryDelay(60000);
        m_remote->failNext(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("disk full"), 507));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        const QAttachment saved = m_queue->saveFile(QByteArray("x"), QStringLiteral("text/plain"),
                                                    QStringLiteral("txt"));
        const int row = model.rowOf(saved.id());
        QVERIFY(
            !decorated.data(decorated.index(row, QAttachmentModel::ErrorColumn), Qt::ForegroundRole)
                 .isValid());
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        const QVariant brush = decorated.data(decorated.index(row, QAttachmentModel::ErrorColumn),
                                              Qt::ForegroundRole);
        QVERIFY(brush.canConvert<QBrush>());
        QCOMPARE(brush.value<QBrush>().color(), decorated.failingColor());
        bool named = false;
        for (const auto &args : std::as_const(changed))
            named = named || args.at(2).value<QList<int>>().contains(Qt::ForegroundRole);
        QVERIFY(named);
        decorated.setFailingColor(QColor());
        QVERIFY(!decorated.data(decorated.index(row, 0), Qt::ForegroundRole).isValid());
    }
};

QTEST_MAIN(tst_Decoration)
#include "tst_decoration.moc"
