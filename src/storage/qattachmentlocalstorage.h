#ifndef QATTACHMENTLOCALSTORAGE_H
#define QATTACHMENTLOCALSTORAGE_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qiodevice.h>
#include <QtCore/qlist.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringlist.h>
#include <QtCore/qurl.h>

#include <functional>
#include <memory>

class QObject;

// Where attachment files live on the device. Names are relative to the
// storage root and are validated by the queue before they get here.
//
// Writes are atomic: save() and a committed partial file appear under their
// final name complete or not at all.
class POWERSYNC_ATTACHMENTS_EXPORT QAttachmentLocalStorage
{
public:
    virtual ~QAttachmentLocalStorage();

    // Prepares the storage (creates the root directory). Idempotent.
    virtual bool initialize(QString *errorString = nullptr) = 0;

    // Streams `source` (open for reading) into `name`, replacing any file of that
    // name. Returns the number of bytes written, or -1.
    virtual qint64 save(const QString &name, QIODevice *source, QString *errorString = nullptr) = 0;
    qint64 save(const QString &name, const QByteArray &data, QString *errorString = nullptr);
    // Copies a file of the device's file system into `name`.
    virtual qint64 saveFromPath(const QString &name, const QString &sourcePath,
                                QString *errorString = nullptr);

    // A device open for reading, or null (with errorString) when missing.
    virtual std::unique_ptr<QIODevice> openForReading(const QString &name,
                                                      QString *errorString = nullptr)
        = 0;
    // Removes `name`; removing a missing file succeeds.
    virtual bool remove(const QString &name, QString *errorString = nullptr) = 0;
    virtual bool exists(const QString &name) const = 0;
    // Size in bytes, -1 when missing.
    virtual qint64 size(const QString &name) const = 0;
    // Removes every file, keeping the (empty) storage usable.
    virtual bool clear(QString *errorString = nullptr) = 0;

    // Partial files receive downloads. They survive failed attempts so that a
    // download can resume, and only appear under `name` once committed.
    //
    // openPartial() returns a device open for read/write positioned at the end
    // of what was already received (0 for a new partial file).
    virtual std::unique_ptr<QIODevice> openPartial(const QString &name,
                                                   QString *errorString = nullptr)
        = 0;
    // Bytes received so far; 0 when there is no partial file.
    virtual qint64 partialSize(const QString &name) const = 0;
    // Truncates the partial file to `size` bytes and renames it to `name`.
    // Fails, changing nothing, when the partial file holds fewer than `size`
    // bytes: a write that never reached the disk is not padded over.
    virtual bool commitPartial(const QString &name, qint64 size, QString *errorString = nullptr)
        = 0;
    // commitPartial() without waiting for the disk: `callback` receives the
    // outcome (true, or false with the reason) later, in the thread of
    // `context`, from its event loop, never from inside this call. It is not
    // called when `context` is destroyed first; the commit itself still
    // completes. The default calls commitPartial() at once and delivers its
    // outcome queued; QFileSystemAttachmentStorage waits for the disk on a
    // thread of its own.
    using CommitCallback = std::function<void(bool ok, const QString &errorString)>;
    virtual void commitPartialAsync(const QString &name, qint64 size, QObject *context,
                                    CommitCallback callback);
    virtual bool removePartial(const QString &name) = 0;

    // What the storage holds, for the start-up sweep of files that no row
    // owns: the names of its files (links left out) and when one was last
    // written (ms since the epoch, -1 when unknown). A storage that cannot
    // list returns nothing and is not swept.
    virtual QStringList fileNames() const;
    virtual qint64 lastModified(const QString &name) const;
    virtual QStringList partialNames() const;

    // An absolute URL for the file (file:// for files on disk), or an empty URL
    // when the storage keeps no file the app could open.
    virtual QUrl url(const QString &name) const;
};

#endif // QATTACHMENTLOCALSTORAGE_H
