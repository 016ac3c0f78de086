// The inspection example's UI against the embedded server: after the second
// device downloads the photos, its delegates show the downloaded pictures
// (checked on the rendered window, pixel by pixel) and say "synced".

#include "quickitems.h"

#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtGui/qimage.h>
#include <QtQml/qqmlapplicationengine.h>
#include <QtQuick/qquickitem.h>
#include <QtQuick/qquickwindow.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

namespace {

bool near(QColor a, QColor b)
{
    // The software renderer may smooth the scaled image a little.
    return qAbs(a.red() - b.red()) <= 12 && qAbs(a.green() - b.green()) <= 12
        && qAbs(a.blue() - b.blue()) <= 12;
}

} // namespace

class tst_Inspection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void downloadedPhotosAreShown()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QQmlApplicationEngine engine;
        engine.addImportPath(QStringLiteral(PSA_QML_DIR));
        engine.setInitialProperties({{QStringLiteral("scripted"), true},
                                     {QStringLiteral("exitWhenDone"), false},
                                     {QStringLiteral("dataPath"), dir.path()}});
        engine.loadData("import Inspection\nMain {}\n",
                        QUrl(QStringLiteral("qrc:/tst_inspection/main.qml")));
        QCOMPARE(engine.rootObjects().size(), 1);
        auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().first());
        QVERIFY(window);

        QSignalSpy finished(window, SIGNAL(scriptFinished(bool)));
        QVERIFY(finished.wait(150000));
        QCOMPARE(finished.first().first().toBool(), true);

        QQuickItem *office = findItem(window->contentItem(), QStringLiteral("office"));
        QVERIFY(office);
        const QImage frame = window->grabWindow();
        QVERIFY(!frame.isNull());
        const qreal dpr = frame.devicePixelRatio();

        // The colours DemoScript.qml gives the photos; "Fire exits" was removed.
        const QList<std::pair<QString, QColor>> shown {
            {QStringLiteral("Roof and gutters"), QColor(0x15, 0x65, 0xc0)},
            {QStringLiteral("Boiler room"), QColor(0x2e, 0x7d, 0x32)},
        };
        for (const auto &[title, color] : shown) {
            QQuickItem *delegate = findItem(office, QStringLiteral("item-") + title);
            QVERIFY2(delegate, qPrintable(title));
            QQuickItem *thumbnail = findItem(delegate, QStringLiteral("thumbnail"));
            QVERIFY(thumbnail);
            QCOMPARE(thumbnail->property("status").toInt(), 1); // Image.Ready

            // The picture comes from the office device's own folder.
            const QUrl source = thumbnail->property("source").toUrl();
            QVERIFY2(source.toLocalFile().startsWith(
                         QDir(dir.path()).filePath(QStringLiteral("office/"))),
                     qPrintable(source.toString()));

            QQuickItem *status = findItem(delegate, QStringLiteral("status"));
            QVERIFY(status);
            QCOMPARE(status->property("text").toString(), QStringLiteral("synced"));

            // Near a corner of the thumbnail the photo is its solid colour; the
            // placeholder frame around it is grey.
            const QPointF inside = thumbnail->mapToScene(QPointF(6, 6)) * dpr;
            const QPointF frameEdge = thumbnail->mapToScene(QPointF(-1, -1)) * dpr;
            const QColor pixel = frame.pixelColor(inside.toPoint());
            QVERIFY2(
                near(pixel, color),
                qPrintable(
                    QStringLiteral("%1: %2 instead of %3").arg(title, pixel.name(), color.name())));
            QVERIFY(!near(frame.pixelColor(frameEdge.toPoint()), color));
        }

        // The removed photo is shown nowhere on the office device.
        QQuickItem *removed = findItem(office, QStringLiteral("item-Fire exits"));
        QVERIFY(removed);
        QQuickItem *emptyThumbnail = findItem(removed, QStringLiteral("thumbnail"));
        QVERIFY(emptyThumbnail);
        QVERIFY(emptyThumbnail->property("source").toUrl().isEmpty());
        QCOMPARE(findItem(removed, QStringLiteral("status"))->property("text").toString(),
                 QStringLiteral("open"));
    }
};

QTEST_MAIN(tst_Inspection)

#include "tst_inspection.moc"
