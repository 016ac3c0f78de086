#include "inspectionhost.h"

#include "demosync.h"

#include <qpowersynccore.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qcoreapplication.h>
#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qtemporarydir.h>
#include <QtGui/qcolor.h>
#include <QtGui/qfont.h>
#include <QtGui/qimage.h>
#include <QtGui/qimagereader.h>
#include <QtGui/qimagewriter.h>
#include <QtGui/qpainter.h>
#include <QtQuick/qquickwindow.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlquery.h>

#include <cstdio>

InspectionHost::InspectionHost(QObject *parent)
    : QObject(parent)
{ }

QString InspectionHost::openDatabase(const QString &name, const QString &path)
{
    QSqlDatabase db = QSqlDatabase::contains(name)
        ? QSqlDatabase::database(name, false)
        : QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
    db.setDatabaseName(path);
    if (!db.isOpen() && !db.open()) {
        qWarning() << "cannot open" << path;
        return {};
    }
    QSqlQuery(db).exec(QStringLiteral("PRAGMA journal_mode=WAL"));
    // With PowerSync, the schema comes first: the attachment queue then finds
    // its table as a PowerSync view and uses it as it is.
    QString error;
    if (QPowerSyncCore::isLoaded() && DemoSync::service()
        && !QPowerSyncCore::applySchema(db, DemoSync::schema(), &error)) {
        qWarning() << "cannot apply the PowerSync schema to" << path << ":" << error;
        return {};
    }
    return name;
}

QString InspectionHost::dataDirectory(const QString &path)
{
    if (!path.isEmpty()) {
        QDir().mkpath(path);
        return QDir(path).absolutePath();
    }
    // Kept after exit, so that the files can be looked at.
    QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/inspection-XXXXXX"));
    dir.setAutoRemove(false);
    return dir.path();
}

QByteArray InspectionHost::generatePhoto(const QString &title, const QColor &color, int width,
                                         int height) const
{
    QImage image(width, height, QImage::Format_RGB32);
    image.fill(color);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    // A "subject" in the middle; the border stays the solid colour.
    painter.setPen(Qt::NoPen);
    painter.setBrush(color.lighter(150));
    painter.drawEllipse(QPointF(width / 2.0, height / 2.0), width / 4.0, height / 4.0);
    painter.setPen(Qt::white);
    QFont font = painter.font();
    font.setPixelSize(height / 9);
    font.setBold(true);
    painter.setFont(font);
    painter.drawText(image.rect(), Qt::AlignCenter, title);
    painter.end();

    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

bool InspectionHost::sameFile(const QUrl &a, const QUrl &b) const
{
    QFile fa(a.toLocalFile());
    QFile fb(b.toLocalFile());
    if (!fa.open(QIODevice::ReadOnly) || !fb.open(QIODevice::ReadOnly))
        return false;
    return fa.readAll() == fb.readAll();
}

void InspectionHost::print(const QString &line) const
{
    std::fprintf(stdout, "%s\n", line.toLocal8Bit().constData());
    std::fflush(stdout);
}

bool InspectionHost::saveScreenshot(QQuickWindow *window, const QString &path) const
{
    if (!window)
        return false;
    const QImage image = window->grabWindow();
    if (image.isNull())
        return false;
    QDir().mkpath(QFileInfo(path).absolutePath());
    return image.save(path);
}

void InspectionHost::exit(int code) const
{
    QCoreApplication::exit(code);
}

QUrl InspectionHost::fileUrl(const QString &path) const
{
    return QUrl::fromLocalFile(path);
}

QString InspectionHost::capturedPhotoAsPng(const QString &path) const
{
    QImageReader reader(path);
    reader.setDecideFormatFromContent(true);
    if (reader.format() == "png")
        return path;
    const QImage image = reader.read();
    if (image.isNull()) {
        qWarning("captured file %s is no image: %s", qPrintable(path),
                 qPrintable(reader.errorString()));
        return {};
    }
    const QString png = path + QStringLiteral(".png");
    QImageWriter writer(png, "png");
    if (!writer.write(image)) {
        qWarning("cannot write %s: %s", qPrintable(png), qPrintable(writer.errorString()));
        QFile::remove(png);
        return {};
    }
    QFile::remove(path);
    return png;
}

bool InspectionHost::removeFile(const QString &path) const
{
    return QFile::remove(path);
}

bool InspectionHost::isCameraBuilt() const
{
#ifdef PSA_INSPECTION_CAMERA
    return true;
#else
    return false;
#endif
}
