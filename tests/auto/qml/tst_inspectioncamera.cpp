// The inspection example's camera page on a machine without a camera: it says
// so and the device keeps working; a photo the camera wrote to a file (a file
// stands in for it here) reaches the attachment queue linked to its item.

#include <qattachment.h>

#include "quickitems.h"

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtGui/qimage.h>
#include <QtQml/qqmlcomponent.h>
#include <QtQml/qqmlengine.h>
#include <QtQuick/qquickitem.h>
#include <QtQuick/qquickwindow.h>
#include <QtTest/qtest.h>

#include <memory>

namespace {

QVariant call(QObject *object, const char *method, const QVariantList &arguments = {})
{
    QVariant result;
    bool ok = false;
    switch (arguments.size()) {
    case 0:
        ok = QMetaObject::invokeMethod(object, method, Q_RETURN_ARG(QVariant, result));
        break;
    case 2:
        ok = QMetaObject::invokeMethod(object, method, Q_RETURN_ARG(QVariant, result),
                                       Q_ARG(QVariant, arguments.at(0)),
                                       Q_ARG(QVariant, arguments.at(1)));
        break;
    case 3:
        ok = QMetaObject::invokeMethod(
            object, method, Q_RETURN_ARG(QVariant, result), Q_ARG(QVariant, arguments.at(0)),
            Q_ARG(QVariant, arguments.at(1)), Q_ARG(QVariant, arguments.at(2)));
        break;
    default:
        break;
    }
    if (!ok)
        qWarning("cannot call %s", method);
    return result;
}

} // namespace

class tst_InspectionCamera : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    int m_devices = 0;
    std::unique_ptr<QQmlEngine> m_engine;
    std::unique_ptr<QQuickWindow> m_window;
    QQuickItem *m_pane = nullptr;

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_engine = std::make_unique<QQmlEngine>();
        m_engine->addImportPath(QStringLiteral(PSA_QML_DIR));
        QQmlComponent component(m_engine.get());
        // One device, without a server: nothing needs the network here.
        // A device of its own for each test: its connection, database and folder.
        component.setData(QStringLiteral("import QtQuick\nimport Inspection\n"
                                         "DevicePane { deviceId: \"camera%1\"; "
                                         "deviceName: \"Camera device\" }\n")
                              .arg(++m_devices)
                              .toUtf8(),
                          QUrl(QStringLiteral("qrc:/tst_inspectioncamera/pane.qml")));
        QVERIFY2(component.isReady(), qPrintable(component.errorString()));
        QDir(m_dir->path()).mkpath(QStringLiteral("device"));
        QObject *object = component.createWithInitialProperties(
            {{QStringLiteral("databasePath"), m_dir->filePath(QStringLiteral("device.db"))},
             {QStringLiteral("directory"), m_dir->filePath(QStringLiteral("device"))}});
        m_pane = qobject_cast<QQuickItem *>(object);
        QVERIFY2(m_pane, qPrintable(component.errorString()));
        m_window = std::make_unique<QQuickWindow>();
        m_window->resize(640, 480);
        m_pane->setParentItem(m_window->contentItem());
        m_pane->setSize(QSizeF(640, 480));
        m_pane->setParent(m_window.get());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanup()
    {
        m_window.reset();
        m_pane = nullptr;
        m_engine.reset();
        m_dir.reset();
    }

    void withoutACameraThePageSaysSo()
    {
        QObject *checklist = m_pane->property("checklist").value<QObject *>();
        QVERIFY(checklist);
        int itemId = -1;
        QVERIFY(QMetaObject::invokeMethod(checklist, "addItem", Q_RETURN_ARG(int, itemId),
                                          Q_ARG(QString, QStringLiteral("Roof"))));
        QVERIFY(itemId > 0);

        QCOMPARE(call(m_pane, "openCamera", {itemId, QStringLiteral("Roof")}).toBool(), true);
        QQuickItem *status = findItem(m_pane, QStringLiteral("cameraStatus"));
        QVERIFY(status);
        QVERIFY(status->isVisible());
        QVERIFY2(status->property("text").toString().startsWith(QStringLiteral("No camera found")),
                 qPrintable(status->property("text").toString()));
        QQuickItem *capture = findItem(m_pane, QStringLiteral("captureButton"));
        QVERIFY(capture);
        QCOMPARE(capture->property("enabled").toBool(), false);

        // Going back shows the checklist again, which still works.
        QObject *page = m_pane->property("cameraPage").value<QObject *>();
        QVERIFY(page);
        QVERIFY(QMetaObject::invokeMethod(page, "cancelled"));
        QVERIFY(!findItem(m_pane, QStringLiteral("cameraStatus")));
        QQuickItem *list = m_pane->property("listView").value<QQuickItem *>();
        QVERIFY(list);
        QVERIFY(list->isVisible());
        QCOMPARE(checklist->property("count").toInt(), 1);
    }

    void capturedFileReachesTheQueue_data()
    {
        QTest::addColumn<QByteArray>("format");
        QTest::newRow("png") << QByteArray("png");
        QTest::newRow("jpeg, converted") << QByteArray("jpg");
    }

    void capturedFileReachesTheQueue()
    {
        QFETCH(QByteArray, format);
        QObject *checklist = m_pane->property("checklist").value<QObject *>();
        QObject *queue = m_pane->property("queue").value<QObject *>();
        QVERIFY(checklist);
        QVERIFY(queue);
        int itemId = -1;
        QVERIFY(QMetaObject::invokeMethod(checklist, "addItem", Q_RETURN_ARG(int, itemId),
                                          Q_ARG(QString, QStringLiteral("Boiler"))));
        QCOMPARE(call(m_pane, "openCamera", {itemId, QStringLiteral("Boiler")}).toBool(), true);
        QObject *page = m_pane->property("cameraPage").value<QObject *>();
        QVERIFY(page);

        // What the camera would have written: a file in the page's folder.
        QImage photo(64, 48, QImage::Format_RGB32);
        photo.fill(QColor(0x15, 0x65, 0xc0));
        const QString captured = m_dir->filePath(QStringLiteral("device/capture-1.") + format);
        QVERIFY(photo.save(captured, format.constData()));
        QVERIFY(QMetaObject::invokeMethod(page, "captured", Q_ARG(QString, captured)));

        // The page closed; the item has its photo, queued for upload.
        QVERIFY(!findItem(m_pane, QStringLiteral("cameraStatus")));
        int row = -1;
        QVERIFY(QMetaObject::invokeMethod(checklist, "rowOfTitle", Q_RETURN_ARG(int, row),
                                          Q_ARG(QString, QStringLiteral("Boiler"))));
        QVariantMap item;
        QVERIFY(QMetaObject::invokeMethod(checklist, "get", Q_RETURN_ARG(QVariantMap, item),
                                          Q_ARG(int, row)));
        const QString photoId = item.value(QStringLiteral("photoId")).toString();
        QVERIFY2(!photoId.isEmpty(), qPrintable(QVariant(item).toString()));
        QCOMPARE(item.value(QStringLiteral("done")).toBool(), true);

        QAttachment attachment;
        QVERIFY(QMetaObject::invokeMethod(
            queue, "attachment", Q_RETURN_ARG(QAttachment, attachment), Q_ARG(QString, photoId)));
        QCOMPARE(attachment.state(), QAttachmentState::QueuedUpload);
        QCOMPARE(attachment.mediaType(), QStringLiteral("image/png"));
        QUrl localUrl;
        QVERIFY(QMetaObject::invokeMethod(queue, "localUrl", Q_RETURN_ARG(QUrl, localUrl),
                                          Q_ARG(QString, photoId)));
        QVERIFY2(localUrl.isLocalFile(), qPrintable(localUrl.toString()));
        QVERIFY(localUrl.toLocalFile().endsWith(QStringLiteral(".png")));
        QFile stored(localUrl.toLocalFile());
        QVERIFY(stored.open(QIODevice::ReadOnly));
        const QByteArray bytes = stored.readAll();
        QVERIFY(bytes.startsWith("\x89PNG")); // the devices' photos are PNGs
        QCOMPARE(attachment.size(), bytes.size());
        const QImage read = QImage::fromData(bytes, "png");
        QCOMPARE(read.size(), photo.size());
        const QColor centre = read.pixelColor(32, 24);
        QVERIFY2(qAbs(centre.blue() - 0xc0) <= 8 && qAbs(centre.red() - 0x15) <= 8,
                 qPrintable(centre.name()));

        // The camera's file is gone: the queue keeps its own copy.
        QVERIFY(!QFile::exists(captured));
        QVERIFY(!QFile::exists(captured + QStringLiteral(".png")));
    }
};

QTEST_MAIN(tst_InspectionCamera)

#include "tst_inspectioncamera.moc"
