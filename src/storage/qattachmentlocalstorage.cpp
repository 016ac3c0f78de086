#include "qattachmentlocalstorage.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qfile.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qobject.h>

QAttachmentLocalStorage::~QAttachmentLocalStorage() = default;

qint64 QAttachmentLocalStorage::save(const QString &name, const QByteArray &data,
                                     QString *errorString)
{
    QByteArray copy = data; // QBuffer needs a non-const array; this is a shallow copy
    QBuffer buffer(&copy);
    buffer.open(QIODevice::ReadOnly);
    return save(name, &buffer, errorString);
}

qint64 QAttachmentLocalStorage::saveFromPath(const QString &name, const QString &sourcePath,
                                             QString *errorString)
{
    QFile source(sourcePath);
    if (!source.open(QIODevice::ReadOnly)) {
        if (errorString)
            *errorString
                = QStringLiteral("cannot read %1: %2").arg(sourcePath, source.errorString());
        return -1;
    }
    return save(name, &source, errorString);
}

void QAttachmentLocalStorage::commitPartialAsync(const QString &name, qint64 size, QObject *context,
                                                 CommitCallback callback)
{
    QString problem;
    const bool ok = commitPartial(name, size, &problem);
    if (!context || !callback)
        return;
    QMetaObject::invokeMethod(
        context, [callback = std::move(callback), ok, problem] { callback(ok, problem); },
        Qt::QueuedConnection);
}

QStringList QAttachmentLocalStorage::fileNames() const
{
    return {};
}

qint64 QAttachmentLocalStorage::lastModified(const QString &name) const
{
    Q_UNUSED(name);
    return -1;
}

QStringList QAttachmentLocalStorage::partialNames() const
{
    return {};
}

QUrl QAttachmentLocalStorage::url(const QString &name) const
{
    Q_UNUSED(name);
    return {};
}
