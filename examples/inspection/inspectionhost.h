#ifndef INSPECTIONHOST_H
#define INSPECTIONHOST_H

#include <QtCore/qobject.h>
#include <QtCore/qurl.h>
#include <QtGui/qcolor.h>
#include <QtQml/qqml.h>

Q_MOC_INCLUDE(<QtQuick / qquickwindow.h>)
class QQuickWindow;

// What the app's QML needs from the platform: databases, generated photos
// (no camera needed), a console and screenshots.
class InspectionHost : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(Host)
    QML_SINGLETON
    // Whether the camera page was built (Qt Multimedia was found at configure time).
    Q_PROPERTY(bool cameraBuilt READ isCameraBuilt CONSTANT FINAL)

public:
    explicit InspectionHost(QObject *parent = nullptr);

    // Opens (creating) the SQLite database `path` as connection `name`.
    Q_INVOKABLE QString openDatabase(const QString &name, const QString &path);
    // A new empty directory for this run's data, unless `path` is given.
    Q_INVOKABLE QString dataDirectory(const QString &path = {});
    // A PNG "photo" of the item: a solid `color` with the title on it.
    Q_INVOKABLE QByteArray generatePhoto(const QString &title, const QColor &color, int width = 480,
                                         int height = 360) const;
    Q_INVOKABLE bool sameFile(const QUrl &a, const QUrl &b) const;
    // The file: URL of a local path.
    Q_INVOKABLE QUrl fileUrl(const QString &path) const;
    // A captured photo as a PNG file (the devices' photos are PNGs): `path`
    // itself when it is one, else a PNG written beside it, and the original
    // removed. Empty when the file is no image.
    Q_INVOKABLE QString capturedPhotoAsPng(const QString &path) const;
    Q_INVOKABLE bool removeFile(const QString &path) const;
    bool isCameraBuilt() const;
    // Prints one line on stdout (the scripted mode's narration).
    Q_INVOKABLE void print(const QString &line) const;
    Q_INVOKABLE bool saveScreenshot(QQuickWindow *window, const QString &path) const;
    Q_INVOKABLE void exit(int code) const;
};

#endif // INSPECTIONHOST_H
