#include "qfilesystemattachmentstorage.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qcoreevent.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qmutex.h>
#include <QtCore/qobject.h>
#include <QtCore/qrandom.h>
#include <QtCore/qsavefile.h>
#include <QtCore/qset.h>
#include <QtCore/qthreadpool.h>
#include <QtCore/qwaitcondition.h>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#ifdef Q_OS_WIN
#include <io.h>
#endif

namespace {

constexpr qint64 CopyChunk = 256 * 1024;
#ifdef Q_OS_UNIX
// What save() names its file in the partial folder until it is complete.
constexpr char SavingPrefix[] = ".saving-";
#endif

bool fail(QString *errorString, const QString &message)
{
    if (errorString)
        *errorString = message;
    return false;
}

const QString &partialDirName()
{
    static const QString name = QStringLiteral(".partial");
    return name;
}

// Every name is checked here as well as by the queue: a row read back from a
// tampered table must not reach outside the root either.
bool checkName(const QString &name, QString *errorString)
{
    const QString problem = QAttachmentNames::problemWith(name, QStringLiteral("file name"));
    return problem.isEmpty() || fail(errorString, problem);
}

// Hands all that `source` holds to `write` (which answers the reason it
// failed, or nothing); the size, or -1 with the reason. A QBuffer is written
// from its bytes where they are.
template<typename Write>
qint64 copyAll(QIODevice *source, const QString &name, const QString &path, Write &&write,
               QString *errorString)
{
    if (source->metaObject() == &QBuffer::staticMetaObject
        && !source->openMode().testFlag(QIODevice::Text)) {
        auto *buffer = static_cast<QBuffer *>(source);
        const QByteArray &bytes = buffer->data();
        const qint64 from = qBound<qint64>(0, buffer->pos(), bytes.size());
        const qint64 length = bytes.size() - from;
        if (length > 0) {
            const QString problem = write(bytes.constData() + from, length);
            if (!problem.isEmpty()) {
                fail(errorString, QStringLiteral("cannot write %1: %2").arg(path, problem));
                return -1;
            }
        }
        buffer->seek(bytes.size());
        return length;
    }
    QByteArray chunk;
    qint64 total = 0;
    for (;;) {
        chunk.resize(CopyChunk);
        const qint64 n = source->read(chunk.data(), CopyChunk);
        if (n < 0) {
            fail(
                errorString,
                QStringLiteral("cannot read the data for %1: %2").arg(name, source->errorString()));
            return -1;
        }
        if (n == 0 && (source->atEnd() || !source->waitForReadyRead(-1)))
            break;
        if (n > 0) {
            const QString problem = write(chunk.constData(), n);
            if (!problem.isEmpty()) {
                fail(errorString, QStringLiteral("cannot write %1: %2").arg(path, problem));
                return -1;
            }
        }
        total += n;
    }
    return total;
}

#ifdef Q_OS_UNIX
// Flushes the data of `fd` to the disk and closes it, whatever happens; the
// reason when either failed.
QString flushAndClose(int fd)
{
#if defined(Q_OS_LINUX)
    // The size is flushed with the data; the times are not worth a write.
    const bool synced = ::fdatasync(fd) == 0;
#else
    const bool synced = ::fsync(fd) == 0;
#endif
    const int syncError = errno;
    const bool closed = ::close(fd) == 0 || errno == EINTR;
    if (!synced)
        return qt_error_string(syncError);
    return closed ? QString() : qt_error_string(errno);
}
#endif

bool isLink(const QString &path)
{
    const QFileInfo info(path);
    return info.isSymLink() || info.isJunction();
}

// Opens `path` without following a symbolic link in its last component: a
// link planted inside the root must not lead a read or a write out of it.
bool openNoFollow(QFile &file, const QString &path, QIODevice::OpenMode mode, QString *errorString)
{
#ifdef Q_OS_UNIX
    int flags = O_CLOEXEC | O_NOFOLLOW;
    if (mode & QIODevice::WriteOnly)
        flags |= ((mode & QIODevice::ReadOnly) ? O_RDWR : O_WRONLY) | O_CREAT;
    else
        flags |= O_RDONLY;
    const int fd = ::open(QFile::encodeName(path).constData(), flags, 0666);
    if (fd < 0) {
        const int error = errno;
        return fail(errorString,
                    error == ELOOP
                        ? QStringLiteral("%1 is a symbolic link").arg(path)
                        : QStringLiteral("cannot open %1: %2").arg(path, qt_error_string(error)));
    }
    if (!file.open(fd, mode, QFileDevice::AutoCloseHandle)) {
        ::close(fd);
        return fail(errorString,
                    QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    }
    return true;
#else
    if (isLink(path))
        return fail(errorString, QStringLiteral("%1 is a symbolic link").arg(path));
    file.setFileName(path);
    if (!file.open(mode))
        return fail(errorString,
                    QStringLiteral("cannot open %1: %2").arg(path, file.errorString()));
    return true;
#endif
}

#ifndef Q_OS_UNIX
// Data the file system only holds in its cache is lost with the power: a
// partial file is flushed to the disk before it takes its final name.
bool syncToDisk(QFile &file, QString *errorString)
{
    if (!file.flush())
        return fail(errorString, file.errorString());
#ifdef Q_OS_WIN
    if (::_commit(file.handle()) != 0)
        return fail(errorString, qt_error_string(errno));
#endif
    return true;
}
#endif

// Validators of partial files live beside them, one file each, in a hidden
// folder that the listing of partial files leaves out.
QString validatorPath(const QString &partialPath)
{
    const QFileInfo info(partialPath);
    return info.path() + QStringLiteral("/.validators/") + info.fileName();
}

constexpr qint64 MaxValidatorSize = 1024;
// A partial file's validator goes to the disk once the file holds this many
// bytes: a smaller one is cheap to fetch again after a crash, and a download
// that completes in one response writes no validator at all.
constexpr qint64 ValidatorOnDiskFrom = 1024 * 1024;
// Validators of incomplete partial files held in memory at most; beyond, they
// go to the disk at once.
constexpr int MaxHeldValidators = 1024;

// The folder is ours: a link put in its place is never followed.
void removeValidator(const QString &partialPath)
{
    const QString path = validatorPath(partialPath);
    if (!isLink(QFileInfo(path).path()))
        QFile::remove(path);
}

// Writes a partial file's validator to the disk; false when it could not
// (and no file of it is left). Not flushed: a validator lost or cut short by
// a power cut only makes the next attempt start over (the server answers a
// validator it does not know with the whole file), and a flush here would
// stall the thread that writes the download.
bool writeValidator(const QString &partialPath, const QByteArray &validator)
{
    const QString path = validatorPath(partialPath);
    const QString dir = QFileInfo(path).path();
    if (isLink(dir) || !QDir().mkpath(dir))
        return false;
    QFile file;
    if (!openNoFollow(file, path, QIODevice::WriteOnly, nullptr) || !file.resize(0)
        || file.write(validator) != validator.size() || !file.flush()) {
        file.close();
        QFile::remove(path);
        return false;
    }
    return true;
}

} // namespace

// What a storage knows of its partial files' validators, shared with the
// partial files it opened (which may outlive it): which may have a file on
// the disk (the folder is listed once, at the first partial file opened),
// and the validators of partial files closed incomplete, held in memory until
// the file is committed or removed (no file-system call for them), opened
// again (they resume against it), or the storage goes (written to the disk
// then, for the next run).
struct QPartialValidatorBook
{
    QMutex mutex;
    QString partialDir;
    bool listed = false;
    bool storageGone = false;
    QSet<QString> onDisk; // names whose validator may have a file
    QHash<QString, QByteArray> held; // names -> validators not on the disk

    explicit QPartialValidatorBook(QString dir)
        : partialDir(std::move(dir))
    { }

    // Under `mutex`.
    void list()
    {
        if (listed)
            return;
        listed = true;
        const QString dir = validatorPath(partialDir + QStringLiteral("/x"));
        QDirIterator it(QFileInfo(dir).path(),
                        QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
        while (it.hasNext()) {
            it.next();
            onDisk.insert(it.fileName());
        }
    }
    // The partial file of `name` went (committed or removed): so does its
    // validator, its file removed only when there may be one.
    void forget(const QString &name)
    {
        QMutexLocker locker(&mutex);
        held.remove(name);
        list();
        if (onDisk.remove(name))
            removeValidator(partialDir + QLatin1Char('/') + name);
    }
    // Writes `validator` to the disk for `name`.
    void store(const QString &name, const QByteArray &validator)
    {
        QMutexLocker locker(&mutex);
        held.remove(name);
        onDisk.insert(name); // a failed write removes what it began
        if (!writeValidator(partialDir + QLatin1Char('/') + name, validator))
            onDisk.remove(name);
    }
    // Removes the validator file of `name`, if there may be one.
    void removeFromDisk(const QString &name)
    {
        QMutexLocker locker(&mutex);
        list();
        if (onDisk.remove(name))
            removeValidator(partialDir + QLatin1Char('/') + name);
    }
    // The storage goes: the validators of incomplete partial files are
    // written for the next run.
    void close()
    {
        QMutexLocker locker(&mutex);
        storageGone = true;
        for (auto it = held.cbegin(); it != held.cend(); ++it) {
            const QString partial = partialDir + QLatin1Char('/') + it.key();
            const QFileInfo info(partial);
            if (info.isFile() && !info.isSymLink() && info.size() > 0
                && writeValidator(partial, it.value()))
                onDisk.insert(it.key());
        }
        held.clear();
    }
};

namespace {

// A partial file that keeps the validator its adapter sets on it (see
// QAttachmentRemoteStorage::download()), so that a later attempt, even after
// a restart, resumes only against the same version. The validator stays in
// memory while the download runs and while the file waits for its next
// attempt; it is written to the disk once the file is large enough to be worth
// resuming after a crash (ValidatorOnDiskFrom), or when the storage goes with
// the file incomplete. Whatever goes wrong with that file leaves no
// validator: the next attempt then starts over, which is always safe.
class PartialFile : public QIODevice
{
public:
    PartialFile(const QString &path, const QString &name,
                std::shared_ptr<QPartialValidatorBook> book)
        : m_path(path)
        , m_name(name)
        , m_book(std::move(book))
    { }
    ~PartialFile() override { PartialFile::close(); }

#ifdef Q_OS_UNIX
    // Takes `fd`, a regular file of `size` bytes, opened for reading and writing.
    // A QFile would ask the file system for its kind, position and size again,
    // three to five calls per download that the caller has answered already.
    void adopt(int fd, qint64 size)
    {
        m_fd = fd;
        m_size = size;
        // Unbuffered: a full disk fails the write that hit it, with its reason,
        // instead of a flush nobody checks.
        QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
    }
#else
    bool openPath(QString *errorString)
    {
        if (!openNoFollow(m_file, m_path, QIODevice::ReadWrite | QIODevice::Unbuffered,
                          errorString))
            return false;
        return QIODevice::open(QIODevice::ReadWrite | QIODevice::Unbuffered);
    }
#endif

    bool isSequential() const override
    {
        return false;
    }

    qint64 size() const override
    {
#ifdef Q_OS_UNIX
        return m_size;
#else
        return m_file.size();
#endif
    }

    bool resize(qint64 length)
    {
#ifdef Q_OS_UNIX
        if (m_fd < 0 || ::ftruncate(m_fd, length) != 0)
            return false;
        m_size = length;
        return true;
#else
        return m_file.resize(length);
#endif
    }

    void loadValidator()
    {
        {
            QMutexLocker locker(&m_book->mutex);
            m_book->list();
            if (size() == 0)
                return;
            const auto held = m_book->held.constFind(m_name);
            if (held != m_book->held.cend()) {
                m_validator = *held;
                m_book->held.erase(held);
            } else if (m_book->onDisk.contains(m_name)) {
                m_validator = readValidator();
                m_onDisk = !m_validator.isEmpty();
            }
        }
        if (m_validator.isEmpty())
            return;
        m_loading = true;
        setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, m_validator);
        m_loading = false;
    }

    void close() override
    {
        handOver();
        if (isOpen())
            QIODevice::close();
#ifdef Q_OS_UNIX
        // The data is flushed by the commit, which opens the file again and
        // reports what went wrong; nothing here would be read.
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
#else
        m_file.close();
#endif
    }

protected:
    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::DynamicPropertyChange && !m_loading
            && static_cast<QDynamicPropertyChangeEvent *>(e)->propertyName()
                == QAttachmentRemoteStorage::ResumeValidatorProperty)
            keepValidator();
        return QIODevice::event(e);
    }

    qint64 readData(char *data, qint64 maxSize) override
    {
#ifdef Q_OS_UNIX
        for (;;) {
            const ssize_t n = ::pread(m_fd, data, size_t(maxSize), off_t(pos()));
            if (n >= 0)
                return n;
            if (errno != EINTR) {
                setErrorString(qt_error_string(errno));
                return -1;
            }
        }
#else
        if (!m_file.seek(pos()))
            return -1;
        const qint64 n = m_file.read(data, maxSize);
        if (n < 0)
            setErrorString(m_file.errorString());
        return n;
#endif
    }

    qint64 writeData(const char *data, qint64 length) override
    {
        const qint64 written = writeAt(pos(), data, length);
        if (written > 0 && !m_onDisk && !m_validator.isEmpty()
            && pos() + written >= ValidatorOnDiskFrom) {
            m_book->store(m_name, m_validator);
            m_onDisk = true;
        }
        return written;
    }

private:
    // All of `length` at `offset`, or -1 with the reason (a full disk says so).
    qint64 writeAt(qint64 offset, const char *data, qint64 length)
    {
#ifdef Q_OS_UNIX
        qint64 done = 0;
        while (done < length) {
            const ssize_t n
                = ::pwrite(m_fd, data + done, size_t(length - done), off_t(offset + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                // A short file is never taken for a complete one: the
                // commit checks the size, and the next response cuts it.
                m_size = qMax(m_size, offset + done);
                setErrorString(n < 0 ? qt_error_string(errno)
                                     : QStringLiteral("the file system took no bytes"));
                return -1;
            }
            done += n;
        }
        m_size = qMax(m_size, offset + done);
        return done;
#else
        if (!m_file.seek(offset))
            return -1;
        const qint64 n = m_file.write(data, length);
        if (n != length) {
            setErrorString(m_file.errorString());
            return -1;
        }
        return n;
#endif
    }

    QByteArray readValidator() const
    {
        const QString path = validatorPath(m_path);
        QFile file;
        if (isLink(QFileInfo(path).path())
            || !openNoFollow(file, path, QIODevice::ReadOnly, nullptr))
            return {};
        const QByteArray validator = file.read(MaxValidatorSize + 1).trimmed();
        return validator.size() > MaxValidatorSize ? QByteArray() : validator;
    }

    void keepValidator()
    {
        // Set when a response starts at pos(): whatever follows is left over
        // from another attempt, maybe of another version.
        if (size() > pos())
            resize(pos());
        QByteArray validator
            = property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
        if (validator.size() > MaxValidatorSize)
            validator.clear();
        if (m_onDisk && validator == m_validator)
            return; // the same version goes on
        // The validator on the disk, if any, is another version's.
        m_book->removeFromDisk(m_name);
        m_onDisk = false;
        m_validator = validator;
        if (!m_validator.isEmpty() && pos() >= ValidatorOnDiskFrom) {
            m_book->store(m_name, m_validator);
            m_onDisk = true;
        }
    }

    // Closed: a validator not on the disk is held for the next attempt.
    void handOver()
    {
        if (m_handedOver || !isOpen())
            return;
        m_handedOver = true;
        if (m_onDisk || m_validator.isEmpty())
            return;
        QMutexLocker locker(&m_book->mutex);
        if (m_book->storageGone || m_book->held.size() >= MaxHeldValidators) {
            locker.unlock();
            m_book->store(m_name, m_validator);
            return;
        }
        m_book->held.insert(m_name, m_validator);
    }

    QString m_path;
    QString m_name;
    std::shared_ptr<QPartialValidatorBook> m_book;
#ifdef Q_OS_UNIX
    int m_fd = -1;
    qint64 m_size = 0;
#else
    QFile m_file;
#endif
    QByteArray m_validator; // of the bytes in the file; empty: none known
    bool m_onDisk = false; // m_validator has its file
    bool m_loading = false;
    bool m_handedOver = false;
};

} // namespace

// Carries a commit's outcome back to the thread of its context. The relay
// is a child of the context: when the context goes first, so does the relay,
// and the worker finds nobody to post to.
class QFileSystemCommitRelay : public QObject
{
public:
    struct Link
    {
        QMutex mutex;
        QFileSystemCommitRelay *relay = nullptr;
    };

    QFileSystemCommitRelay(QObject *context, std::shared_ptr<Link> link)
        : m_link(std::move(link))
    {
        m_link->relay = this;
        setParent(context);
    }
    ~QFileSystemCommitRelay() override
    {
        QMutexLocker locker(&m_link->mutex);
        m_link->relay = nullptr;
    }

    // From the worker: posts the outcome unless the context is gone.
    static void deliver(const std::shared_ptr<Link> &link,
                        QAttachmentLocalStorage::CommitCallback callback, bool ok,
                        const QString &problem)
    {
        QMutexLocker locker(&link->mutex);
        QFileSystemCommitRelay *relay = link->relay;
        if (!relay)
            return;
        // Posted while the lock keeps the relay alive; a relay destroyed
        // before the event runs takes the event with it.
        QMetaObject::invokeMethod(
            relay,
            [relay, callback = std::move(callback), ok, problem] {
                relay->deleteLater();
                callback(ok, problem);
            },
            Qt::QueuedConnection);
    }

private:
    std::shared_ptr<Link> m_link;
};

namespace {
constexpr int MaxCommitThreads = 4;
} // namespace

#ifdef Q_OS_UNIX
// An open folder. Partial files are opened and moved relative to it, so a
// link put in place of the folder once it is open is never followed.
struct QOpenDirectory
{
    explicit QOpenDirectory(int descriptor)
        : fd(descriptor)
    { }
    ~QOpenDirectory() { ::close(fd); }
    QOpenDirectory(const QOpenDirectory &) = delete;
    QOpenDirectory &operator=(const QOpenDirectory &) = delete;
    const int fd;
};
#endif

class QFileSystemAttachmentStoragePrivate
{
public:
    explicit QFileSystemAttachmentStoragePrivate(QString root)
        : root(std::move(root))
        , validators(std::make_shared<QPartialValidatorBook>(this->root + QLatin1Char('/')
                                                             + partialDirName()))
    {
        pool.setMaxThreadCount(MaxCommitThreads);
    }
    ~QFileSystemAttachmentStoragePrivate()
    {
        // Every commit started completes: a file is never left half-moved.
        pool.waitForDone();
        validators->close();
    }

    // A name being committed is not opened, removed or committed again
    // until its commit is done (only a restarted download of the same file
    // waits, for one flush at most).
    void waitFor(const QString &name)
    {
        QMutexLocker locker(&mutex);
        while (committing.contains(name))
            done.wait(&mutex);
    }
    void waitForAll()
    {
        QMutexLocker locker(&mutex);
        while (!committing.isEmpty())
            done.wait(&mutex);
    }
    // Claims `name` for a commit; false when one is in flight already.
    bool claim(const QString &name)
    {
        QMutexLocker locker(&mutex);
        if (committing.contains(name))
            return false;
        committing.insert(name);
        return true;
    }
    void release(const QString &name)
    {
        QMutexLocker locker(&mutex);
        committing.remove(name);
        done.wakeAll();
    }

    // Flushes the root directory, so that the renames done so far survive
    // a power cut. Commits that finish together share one flush: whoever
    // flushes covers every rename done before the flush started.
    bool syncDirectory(QString *errorString)
    {
#ifdef Q_OS_UNIX
        quint64 mine = 0;
        {
            QMutexLocker locker(&mutex);
            mine = ++renames;
        }
        QMutexLocker flushing(&directoryMutex);
        quint64 upTo = 0;
        {
            QMutexLocker locker(&mutex);
            if (directorySynced >= mine)
                return true;
            upTo = renames;
        }
        const int fd
            = ::open(QFile::encodeName(root).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return fail(errorString, qt_error_string(errno));
        const bool ok = ::fsync(fd) == 0;
        const int error = errno;
        ::close(fd);
        if (!ok)
            return fail(errorString, qt_error_string(error));
        QMutexLocker locker(&mutex);
        qCDebug(lcStorage) << "directory flushed for" << (upTo - directorySynced) << "renames";
        directorySynced = qMax(directorySynced, upTo);
        return true;
#else
        Q_UNUSED(errorString);
        return true;
#endif
    }

    bool commit(const QString &name, qint64 size, QString *errorString);

    // Commits handed to the pool wait in one queue, taken by at most
    // MaxCommitThreads workers that each run until the queue is empty. A
    // worker is woken only when none is on its way: waking a thread costs the
    // caller more than the commit of a small file on a fast disk, and the
    // downloads that finish in one turn of the event loop then share one
    // wake. A commit that waits while every worker is busy (a slow disk) has
    // the next worker started for it.
    struct QueuedCommit
    {
        QString name;
        qint64 size = 0;
        std::shared_ptr<QFileSystemCommitRelay::Link> link;
        QAttachmentLocalStorage::CommitCallback callback;
    };
    void queueCommit(QueuedCommit commit)
    {
        QMutexLocker locker(&queueMutex);
        queuedCommits.append(std::move(commit));
        wakeWorkerIfNeeded();
    }
    // Under queueMutex.
    void wakeWorkerIfNeeded()
    {
        if (queuedCommits.isEmpty() || workersWaking > 0 || workers >= MaxCommitThreads)
            return;
        ++workers;
        ++workersWaking;
        pool.start([this] { runCommits(); });
    }
    void runCommits()
    {
        QMutexLocker locker(&queueMutex);
        --workersWaking;
        while (!queuedCommits.isEmpty()) {
            QueuedCommit next = queuedCommits.takeFirst();
            // More are waiting: another worker takes them while this one flushes.
            wakeWorkerIfNeeded();
            locker.unlock();
            QString problem;
            const bool ok = commit(next.name, next.size, &problem);
            // Posted before the name is free: whoever waited for the name
            // finds the outcome queued already.
            QFileSystemCommitRelay::deliver(next.link, std::move(next.callback), ok, problem);
            release(next.name);
            locker.relock();
        }
        --workers;
    }
#ifdef Q_OS_UNIX
    qint64 save(const QString &name, QIODevice *source, QString *errorString);
    // Removes what saves interrupted by a crash left in the partial folder
    // (hidden names, which no attachment has): those written to before this
    // storage was made.
    void removeUnfinishedSaves();
#endif

    // Makes the partial folder (and the root); a link in its place is
    // removed, never followed.
    bool preparePartialDir(QString *errorString)
    {
        const QString partials = root + QLatin1Char('/') + partialDirName();
        if (isLink(partials) && !QFile::remove(partials))
            return fail(
                errorString,
                QStringLiteral("%1 is a symbolic link and cannot be removed").arg(partials));
        if (!QDir().mkpath(partials))
            return fail(errorString, QStringLiteral("cannot create the directory %1").arg(root));
        return true;
    }

#ifdef Q_OS_UNIX
    // The partial folder, open; `again` opens it anew (the one held is gone).
    std::shared_ptr<const QOpenDirectory> partialDir(bool again, QString *errorString)
    {
        QMutexLocker locker(&partialDirMutex);
        if (openPartialDir && !again)
            return openPartialDir;
        openPartialDir.reset();
        if (!preparePartialDir(errorString))
            return nullptr;
        const QString partials = root + QLatin1Char('/') + partialDirName();
        const int fd = ::open(QFile::encodeName(partials).constData(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            fail(errorString,
                 QStringLiteral("cannot open %1: %2").arg(partials, qt_error_string(errno)));
            return nullptr;
        }
        openPartialDir = std::make_shared<const QOpenDirectory>(fd);
        return openPartialDir;
    }
    void forgetPartialDir()
    {
        QMutexLocker locker(&partialDirMutex);
        openPartialDir.reset();
    }

    // Opens `name` in the partial folder for reading and writing, never
    // through a link; -1 and the reason (and errno's value in `errorCode`)
    // when it cannot. `create` is 0, O_CREAT or O_CREAT | O_EXCL; when it
    // creates, a folder found gone (nothing can be made in a removed folder)
    // is made again, once. `dir` receives the folder the file is in.
    int openPartialFile(const QString &name, int create, std::shared_ptr<const QOpenDirectory> *dir,
                        QString *errorString, int *errorCode = nullptr)
    {
        const QByteArray encoded = QFile::encodeName(name);
        const int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | create;
        int error = 0;
        for (int attempt = 0; attempt < 2; ++attempt) {
            std::shared_ptr<const QOpenDirectory> folder = partialDir(attempt > 0, errorString);
            if (!folder)
                return -1;
            const int fd = ::openat(folder->fd, encoded.constData(), flags, 0666);
            if (fd >= 0) {
                if (dir)
                    *dir = std::move(folder);
                return fd;
            }
            error = errno;
            if (!(create & O_CREAT) || error != ENOENT)
                break;
        }
        if (errorCode)
            *errorCode = error;
        const QString path = root + QLatin1Char('/') + partialDirName() + QLatin1Char('/') + name;
        fail(errorString,
             error == ELOOP
                 ? QStringLiteral("%1 is a symbolic link").arg(path)
                 : QStringLiteral("cannot open %1: %2").arg(path, qt_error_string(error)));
        return -1;
    }
#endif

    const QString root;
    const qint64 createdMs = QDateTime::currentMSecsSinceEpoch();
    const std::shared_ptr<QPartialValidatorBook> validators;
    QMutex mutex;
    QWaitCondition done;
    QSet<QString> committing;
    quint64 renames = 0;
    quint64 directorySynced = 0;
    QMutex directoryMutex; // one flush of the directory at a time
#ifdef Q_OS_UNIX
    QMutex partialDirMutex;
    std::shared_ptr<const QOpenDirectory> openPartialDir;
#endif
    QMutex queueMutex;
    QList<QueuedCommit> queuedCommits;
    int workers = 0; // started and not done
    int workersWaking = 0; // started and not yet taking commits
    QThreadPool pool; // last: destroyed (and waited for) first
};

QFileSystemAttachmentStorage::QFileSystemAttachmentStorage(const QString &rootPath)
    : m_root(QDir::cleanPath(QFileInfo(rootPath).absoluteFilePath()))
    , d(std::make_unique<QFileSystemAttachmentStoragePrivate>(m_root))
{ }

QFileSystemAttachmentStorage::~QFileSystemAttachmentStorage() = default;

QString QFileSystemAttachmentStorage::filePath(const QString &name) const
{
    return m_root + QLatin1Char('/') + name;
}

QString QFileSystemAttachmentStorage::partialPath(const QString &name) const
{
    return m_root + QLatin1Char('/') + partialDirName() + QLatin1Char('/') + name;
}

bool QFileSystemAttachmentStorage::initialize(QString *errorString)
{
#ifdef Q_OS_UNIX
    // The next partial file opens the folder found now.
    d->forgetPartialDir();
    if (!d->preparePartialDir(errorString))
        return false;
    d->removeUnfinishedSaves();
    return true;
#else
    return d->preparePartialDir(errorString);
#endif
}

qint64 QFileSystemAttachmentStorage::save(const QString &name, QIODevice *source,
                                          QString *errorString)
{
    if (!source || !source->isReadable()) {
        fail(errorString, QStringLiteral("the source of %1 is not open for reading").arg(name));
        return -1;
    }
    if (!checkName(name, errorString))
        return -1;
#ifdef Q_OS_UNIX
    return d->save(name, source, errorString);
#else
    if (!d->preparePartialDir(errorString))
        return -1;
    const QString path = filePath(name);
    // QSaveFile would write through a link to its target.
    if (isLink(path)) {
        fail(errorString, QStringLiteral("%1 is a symbolic link").arg(path));
        return -1;
    }
    // QSaveFile writes beside the target and renames on commit: a crash never
    // leaves a partial file under the final name.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        fail(errorString, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        return -1;
    }
    const qint64 total = copyAll(
        source, name, path,
        [&](const char *data, qint64 length) {
            return file.write(data, length) == length ? QString() : file.errorString();
        },
        errorString);
    if (total < 0) {
        file.cancelWriting();
        return -1;
    }
    if (!file.commit()) {
        fail(errorString, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        return -1;
    }
    return total;
#endif
}

qint64 QFileSystemAttachmentStorage::saveFromPath(const QString &name, const QString &sourcePath,
                                                  QString *errorString)
{
    QFile source(sourcePath);
    if (!source.open(QIODevice::ReadOnly)) {
        fail(errorString,
             QStringLiteral("cannot read %1: %2").arg(sourcePath, source.errorString()));
        return -1;
    }
    return save(name, &source, errorString);
}

std::unique_ptr<QIODevice> QFileSystemAttachmentStorage::openForReading(const QString &name,
                                                                        QString *errorString)
{
    if (!checkName(name, errorString))
        return nullptr;
    auto file = std::make_unique<QFile>(filePath(name));
    if (!openNoFollow(*file, filePath(name), QIODevice::ReadOnly, errorString))
        return nullptr;
    return file;
}

bool QFileSystemAttachmentStorage::remove(const QString &name, QString *errorString)
{
    if (!checkName(name, errorString))
        return false;
    d->waitFor(name); // else a commit in flight would put it back
    // Removes a link itself, never what it points to.
    QFile file(filePath(name));
    if (!QFileInfo::exists(file.fileName()) && !isLink(file.fileName()))
        return true;
    if (file.remove())
        return true;
    return fail(errorString,
                QStringLiteral("cannot remove %1: %2").arg(file.fileName(), file.errorString()));
}

bool QFileSystemAttachmentStorage::exists(const QString &name) const
{
    if (!checkName(name, nullptr))
        return false;
    // A link is not an attachment file, wherever it points.
    const QFileInfo info(filePath(name));
    return info.isFile() && !info.isSymLink();
}

qint64 QFileSystemAttachmentStorage::size(const QString &name) const
{
    return exists(name) ? QFileInfo(filePath(name)).size() : -1;
}

bool QFileSystemAttachmentStorage::clear(QString *errorString)
{
    d->waitForAll();
    {
        QMutexLocker locker(&d->validators->mutex);
        d->validators->held.clear();
        d->validators->onDisk.clear();
    }
    QDir root(m_root);
    if (root.exists() && !root.removeRecursively())
        return fail(errorString, QStringLiteral("cannot remove every file in %1").arg(m_root));
    return initialize(errorString);
}

std::unique_ptr<QIODevice> QFileSystemAttachmentStorage::openPartial(const QString &name,
                                                                     QString *errorString)
{
    if (!checkName(name, errorString))
        return nullptr;
    d->waitFor(name); // its previous attempt's commit is still moving it
    auto file = std::make_unique<PartialFile>(partialPath(name), name, d->validators);
#ifdef Q_OS_UNIX
    // The folder is opened once; each download costs an open and a stat here.
    const int fd = d->openPartialFile(name, O_CREAT, nullptr, errorString);
    if (fd < 0)
        return nullptr;
    struct stat info;
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        fail(errorString, QStringLiteral("%1 is not a file").arg(partialPath(name)));
        return nullptr;
    }
    file->adopt(fd, info.st_size);
#else
    if (!d->preparePartialDir(errorString) || !file->openPath(errorString))
        return nullptr;
#endif
    // Read and write, not append: a download that must start over seeks back to 0.
    file->seek(file->size());
    file->loadValidator();
    return file;
}

qint64 QFileSystemAttachmentStorage::partialSize(const QString &name) const
{
    if (!checkName(name, nullptr))
        return 0;
    d->waitFor(name);
    const QFileInfo info(partialPath(name));
    return info.isFile() && !info.isSymLink() ? info.size() : 0;
}

#ifdef Q_OS_UNIX
// Written under a new hidden name in the partial folder, flushed, then moved
// to `name` in one step: a crash never leaves part of a file under its final
// name (what it leaves in the partial folder, the next storage's initialize()
// removes), and a file or link of that name is replaced, never followed. Two
// calls to open and flush the file beside the writes, the folder being open
// already.
qint64 QFileSystemAttachmentStoragePrivate::save(const QString &name, QIODevice *source,
                                                 QString *errorString)
{
    const QString target = root + QLatin1Char('/') + name;
    std::shared_ptr<const QOpenDirectory> dir;
    QByteArray temporary;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        temporary = SavingPrefix
            + QByteArray::number(QRandomGenerator::global()->generate64(), 16)
                  .rightJustified(16, '0');
        int error = 0;
        fd = openPartialFile(QFile::decodeName(temporary), O_CREAT | O_EXCL, &dir, errorString,
                             &error);
        if (fd < 0 && (error != EEXIST || attempt == 8))
            return -1;
    }
    const auto discard = [&](const QString &message) {
        if (fd >= 0)
            ::close(fd);
        ::unlinkat(dir->fd, temporary.constData(), 0);
        if (!message.isEmpty())
            fail(errorString, message);
        return qint64(-1);
    };
    const qint64 total = copyAll(
        source, name, target,
        [fd](const char *data, qint64 length) -> QString {
            while (length > 0) {
                const ssize_t n = ::write(fd, data, size_t(qMin<qint64>(length, 1 << 30)));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    return n < 0 ? qt_error_string(errno)
                                 : QStringLiteral("the file system took no bytes");
                data += n;
                length -= n;
            }
            return {};
        },
        errorString);
    if (total < 0)
        return discard({});
    const QString unflushed = flushAndClose(fd);
    fd = -1;
    if (!unflushed.isEmpty())
        return discard(QStringLiteral("cannot write %1 to the disk: %2").arg(target, unflushed));
    if (::renameat(dir->fd, temporary.constData(), AT_FDCWD, QFile::encodeName(target).constData())
        != 0)
        return discard(QStringLiteral("cannot move the new file to %1: %2")
                           .arg(target, qt_error_string(errno)));
    return total;
}

void QFileSystemAttachmentStoragePrivate::removeUnfinishedSaves()
{
    std::shared_ptr<const QOpenDirectory> dir = partialDir(false, nullptr);
    if (!dir)
        return;
    const int listing = ::openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *entries = listing >= 0 ? ::fdopendir(listing) : nullptr;
    if (!entries) {
        if (listing >= 0)
            ::close(listing);
        return;
    }
    QList<QByteArray> stale;
    while (const dirent *entry = ::readdir(entries)) {
        if (std::strncmp(entry->d_name, SavingPrefix, sizeof(SavingPrefix) - 1) != 0)
            continue;
        struct stat info;
        if (::fstatat(dir->fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISREG(info.st_mode) && qint64(info.st_mtime) < createdMs / 1000)
            stale.append(QByteArray(entry->d_name));
    }
    ::closedir(entries);
    for (const QByteArray &name : std::as_const(stale)) {
        if (::unlinkat(dir->fd, name.constData(), 0) == 0)
            qCDebug(lcStorage) << "removed an unfinished save" << name;
    }
}
#endif

// Runs in the calling thread for commitPartial(), on the pool for
// commitPartialAsync(); the name is claimed by then.
bool QFileSystemAttachmentStoragePrivate::commit(const QString &name, qint64 size,
                                                 QString *errorString)
{
    const QString path = root + QLatin1Char('/') + partialDirName() + QLatin1Char('/') + name;
    const QString target = root + QLatin1Char('/') + name;
#ifdef Q_OS_UNIX
    std::shared_ptr<const QOpenDirectory> dir;
    const int fd = openPartialFile(name, 0, &dir, errorString);
    if (fd < 0)
        return false;
    const auto closeAndFail = [&](const QString &message) {
        ::close(fd);
        return fail(errorString, message);
    };
    struct stat info;
    if (::fstat(fd, &info) != 0)
        return closeAndFail(
            QStringLiteral("cannot read the size of %1: %2").arg(path, qt_error_string(errno)));
    // A short file is a write that did not reach the disk: it is never padded
    // into a complete-looking one.
    const qint64 held = info.st_size;
    if (!S_ISREG(info.st_mode) || held < size)
        return closeAndFail(
            QStringLiteral("%1 holds %2 of %3 bytes").arg(path).arg(held).arg(size));
    if (held > size && ::ftruncate(fd, size) != 0)
        return closeAndFail(
            QStringLiteral("cannot truncate %1: %2").arg(path, qt_error_string(errno)));
    const QString unflushed = flushAndClose(fd);
    if (!unflushed.isEmpty())
        return fail(errorString,
                    QStringLiteral("cannot write %1 to the disk: %2").arg(path, unflushed));
    // One step: a stale file or link of the same name is replaced, never
    // followed, and the name is never missing; a folder there fails it.
    if (::renameat(dir->fd, QFile::encodeName(name).constData(), AT_FDCWD,
                   QFile::encodeName(target).constData())
        != 0)
        return fail(
            errorString,
            QStringLiteral("cannot move %1 to %2: %3").arg(path, target, qt_error_string(errno)));
#else
    QFile partial(path);
    if (!openNoFollow(partial, path, QIODevice::ReadWrite, errorString))
        return false;
    // A short file is a write that did not reach the disk: it is never padded
    // into a complete-looking one.
    const qint64 held = partial.size();
    if (held < size)
        return fail(errorString,
                    QStringLiteral("%1 holds %2 of %3 bytes").arg(path).arg(held).arg(size));
    if (held > size && !partial.resize(size))
        return fail(errorString,
                    QStringLiteral("cannot truncate %1: %2").arg(path, partial.errorString()));
    if (!syncToDisk(partial, errorString)) {
        fail(errorString,
             QStringLiteral("cannot write %1 to the disk: %2").arg(path, *errorString));
        return false;
    }
    partial.close();
    // rename() does not replace; a stale file (or link) of the same name goes first.
    if ((QFileInfo::exists(target) || isLink(target)) && !QFile::remove(target))
        return fail(errorString, QStringLiteral("cannot replace %1").arg(target));
    if (!QFile::rename(path, target))
        return fail(errorString, QStringLiteral("cannot move %1 to %2").arg(path, target));
#endif
    validators->forget(name);
    QString problem;
    if (!syncDirectory(&problem))
        return fail(errorString,
                    QStringLiteral("cannot write the directory of %1 to the disk: %2")
                        .arg(target, problem));
#ifndef Q_OS_UNIX
    // The Unix path checked the size through the file's descriptor.
    const QFileInfo committed(target);
    if (!committed.isFile() || committed.size() != size)
        return fail(errorString,
                    QStringLiteral("%1 has %2 bytes after the move, not %3")
                        .arg(target)
                        .arg(committed.size())
                        .arg(size));
#endif
    return true;
}

bool QFileSystemAttachmentStorage::commitPartial(const QString &name, qint64 size,
                                                 QString *errorString)
{
    if (!checkName(name, errorString))
        return false;
    while (!d->claim(name))
        d->waitFor(name);
    const bool ok = d->commit(name, size, errorString);
    d->release(name);
    return ok;
}

void QFileSystemAttachmentStorage::commitPartialAsync(const QString &name, qint64 size,
                                                      QObject *context, CommitCallback callback)
{
    auto link = std::make_shared<QFileSystemCommitRelay::Link>();
    if (context && callback)
        new QFileSystemCommitRelay(context, link);
    QString problem;
    if (!checkName(name, &problem)) {
        QFileSystemCommitRelay::deliver(link, std::move(callback), false, problem);
        return;
    }
    while (!d->claim(name))
        d->waitFor(name);
    d->queueCommit({name, size, std::move(link), std::move(callback)});
}

bool QFileSystemAttachmentStorage::removePartial(const QString &name)
{
    if (!checkName(name, nullptr))
        return false;
    d->waitFor(name);
    const QString path = partialPath(name);
    // Also a validator file the storage did not write (one left by a crash).
    d->validators->forget(name);
    removeValidator(path);
    return (!QFileInfo::exists(path) && !isLink(path)) || QFile::remove(path);
}

QStringList QFileSystemAttachmentStorage::fileNames() const
{
    // Hidden names are reserved (the partial folder); links are no attachment
    // files. Read with readdir where there is one: at start-up the storage
    // may hold 100,000 files, and a stat of each would cost more than the rest.
    QStringList result;
#ifdef Q_OS_UNIX
    DIR *dir = ::opendir(QFile::encodeName(m_root).constData());
    if (!dir)
        return result;
    while (const dirent *entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.')
            continue;
        bool regular = entry->d_type == DT_REG;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat info;
            regular = ::fstatat(::dirfd(dir), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0
                && S_ISREG(info.st_mode);
        }
        if (regular)
            result.append(QFile::decodeName(entry->d_name));
    }
    ::closedir(dir);
#else
    QDirIterator it(m_root, QDir::Files | QDir::NoSymLinks | QDir::NoDotAndDotDot);
    while (it.hasNext()) {
        it.next();
        result.append(it.fileName());
    }
#endif
    return result;
}

qint64 QFileSystemAttachmentStorage::lastModified(const QString &name) const
{
    if (!checkName(name, nullptr))
        return -1;
    const QFileInfo info(filePath(name));
    return info.exists() ? info.lastModified().toMSecsSinceEpoch() : -1;
}

QStringList QFileSystemAttachmentStorage::partialNames() const
{
    QStringList result;
    const QString partials = m_root + QLatin1Char('/') + partialDirName();
    QDirIterator it(partials, QDir::Files | QDir::System | QDir::Hidden | QDir::NoDotAndDotDot);
    while (it.hasNext()) {
        it.next();
        result.append(it.fileName());
    }
    // A validator whose partial file went some other way than removePartial()
    // is named too, so that the start-up sweep removes it with removePartial().
    const QString validators = validatorPath(partials + QStringLiteral("/x"));
    if (!isLink(QFileInfo(validators).path())) {
        QDirIterator kept(QFileInfo(validators).path(), QDir::Files | QDir::NoDotAndDotDot);
        while (kept.hasNext()) {
            kept.next();
            if (!QFileInfo::exists(partials + QLatin1Char('/') + kept.fileName()))
                result.append(kept.fileName());
        }
    }
    return result;
}

QUrl QFileSystemAttachmentStorage::url(const QString &name) const
{
    if (!checkName(name, nullptr))
        return {};
    return QUrl::fromLocalFile(filePath(name));
}
