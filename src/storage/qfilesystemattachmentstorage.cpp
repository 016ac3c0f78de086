#include "qfilesystemattachmentstorage.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qcoreevent.h>
#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qmetaobject.h>
#include <QtCore/qmutex.h>
#include <QtCore/qobject.h>
#include <QtCore/qsavefile.h>
#include <QtCore/qset.h>
#include <QtCore/qthreadpool.h>
#include <QtCore/qwaitcondition.h>

#ifdef Q_OS_UNIX
#include <cerrno>
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

// Data the file system only holds in its cache is lost with the power: a
// partial file is flushed to the disk before it takes its final name.
bool syncToDisk(QFile &file, QString *errorString)
{
    if (!file.flush())
        return fail(errorString, file.errorString());
#if defined(Q_OS_LINUX)
    // The size is flushed with the data; the times are not worth a write.
    if (::fdatasync(file.handle()) != 0)
        return fail(errorString, qt_error_string(errno));
#elif defined(Q_OS_UNIX)
    if (::fsync(file.handle()) != 0)
        return fail(errorString, qt_error_string(errno));
#elif defined(Q_OS_WIN)
    if (::_commit(file.handle()) != 0)
        return fail(errorString, qt_error_string(errno));
#endif
    return true;
}

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
class PartialFile : public QFile
{
public:
    // The path is kept here: a QFile opened from a descriptor forgets its name.
    PartialFile(const QString &path, const QString &name,
                std::shared_ptr<QPartialValidatorBook> book)
        : QFile(path)
        , m_path(path)
        , m_name(name)
        , m_book(std::move(book))
    { }
    ~PartialFile() override { handOver(); }

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
        QFile::close();
    }

protected:
    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::DynamicPropertyChange && !m_loading
            && static_cast<QDynamicPropertyChangeEvent *>(e)->propertyName()
                == QAttachmentRemoteStorage::ResumeValidatorProperty)
            keepValidator();
        return QFile::event(e);
    }

    qint64 writeData(const char *data, qint64 len) override
    {
        const qint64 written = QFile::writeData(data, len);
        if (written > 0 && !m_onDisk && !m_validator.isEmpty()
            && pos() + written >= ValidatorOnDiskFrom) {
            m_book->store(m_name, m_validator);
            m_onDisk = true;
        }
        return written;
    }

private:
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
    QByteArray m_validator; // of the bytes in the file; empty: none known
    bool m_onDisk = false; // m_validator has its file
    bool m_loading = false;
    bool m_handedOver = false;
};

// Carries a commit's outcome back to the thread of its context. The relay
// is a child of the context: when the context goes first, so does the relay,
// and the worker finds nobody to post to.
class CommitRelay : public QObject
{
public:
    struct Link
    {
        QMutex mutex;
        CommitRelay *relay = nullptr;
    };

    CommitRelay(QObject *context, std::shared_ptr<Link> link)
        : m_link(std::move(link))
    {
        m_link->relay = this;
        setParent(context);
    }
    ~CommitRelay() override
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
        CommitRelay *relay = link->relay;
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

constexpr int MaxCommitThreads = 4;

} // namespace

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

    const QString root;
    const std::shared_ptr<QPartialValidatorBook> validators;
    QMutex mutex;
    QWaitCondition done;
    QSet<QString> committing;
    quint64 renames = 0;
    quint64 directorySynced = 0;
    QMutex directoryMutex; // one flush of the directory at a time
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
    const QString partials = m_root + QLatin1Char('/') + partialDirName();
    // The partial folder is ours: a link put in its place is removed, never followed.
    if (isLink(partials) && !QFile::remove(partials))
        return fail(errorString,
                    QStringLiteral("%1 is a symbolic link and cannot be removed").arg(partials));
    if (!QDir().mkpath(partials))
        return fail(errorString, QStringLiteral("cannot create the directory %1").arg(m_root));
    return true;
}

qint64 QFileSystemAttachmentStorage::save(const QString &name, QIODevice *source,
                                          QString *errorString)
{
    if (!source || !source->isReadable()) {
        fail(errorString, QStringLiteral("the source of %1 is not open for reading").arg(name));
        return -1;
    }
    if (!checkName(name, errorString) || !initialize(errorString))
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
    // The reason is read before cancelWriting(), which replaces it.
    const auto abandon = [&](const QString &message) {
        fail(errorString, message);
        file.cancelWriting();
        return qint64(-1);
    };
    QByteArray chunk;
    qint64 total = 0;
    for (;;) {
        chunk.resize(CopyChunk);
        const qint64 n = source->read(chunk.data(), CopyChunk);
        if (n < 0)
            return abandon(
                QStringLiteral("cannot read the data for %1: %2").arg(name, source->errorString()));
        if (n == 0 && (source->atEnd() || !source->waitForReadyRead(-1)))
            break;
        if (n > 0 && file.write(chunk.constData(), n) != n)
            return abandon(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        total += n;
    }
    if (!file.commit()) {
        fail(errorString, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        return -1;
    }
    return total;
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
    if (!checkName(name, errorString) || !initialize(errorString))
        return nullptr;
    d->waitFor(name); // its previous attempt's commit is still moving it
    auto file = std::make_unique<PartialFile>(partialPath(name), name, d->validators);
    // ReadWrite, not Append: a download that must start over seeks back to 0.
    // Unbuffered: a full disk fails the write that hit it, with its reason,
    // instead of a flush nobody checks.
    if (!openNoFollow(*file, partialPath(name), QIODevice::ReadWrite | QIODevice::Unbuffered,
                      errorString))
        return nullptr;
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

// Runs in the calling thread for commitPartial(), on the pool for
// commitPartialAsync(); the name is claimed by then.
bool QFileSystemAttachmentStoragePrivate::commit(const QString &name, qint64 size,
                                                 QString *errorString)
{
    const QString path = root + QLatin1Char('/') + partialDirName() + QLatin1Char('/') + name;
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
    const QString target = root + QLatin1Char('/') + name;
    if ((QFileInfo::exists(target) || isLink(target)) && !QFile::remove(target))
        return fail(errorString, QStringLiteral("cannot replace %1").arg(target));
    if (!QFile::rename(path, target))
        return fail(errorString, QStringLiteral("cannot move %1 to %2").arg(path, target));
    validators->forget(name);
    QString problem;
    if (!syncDirectory(&problem))
        return fail(errorString,
                    QStringLiteral("cannot write the directory of %1 to the disk: %2")
                        .arg(target, problem));
    const QFileInfo committed(target);
    if (!committed.isFile() || committed.size() != size)
        return fail(errorString,
                    QStringLiteral("%1 has %2 bytes after the move, not %3")
                        .arg(target)
                        .arg(committed.size())
                        .arg(size));
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
    auto link = std::make_shared<CommitRelay::Link>();
    if (context && callback)
        new CommitRelay(context, link);
    QString problem;
    if (!checkName(name, &problem)) {
        CommitRelay::deliver(link, std::move(callback), false, problem);
        return;
    }
    while (!d->claim(name))
        d->waitFor(name);
    QFileSystemAttachmentStoragePrivate *p = d.get();
    p->pool.start([p, name, size, link, callback = std::move(callback)]() mutable {
        QString problem;
        const bool ok = p->commit(name, size, &problem);
        // Posted before the name is free: whoever waited for the name finds
        // the outcome queued already.
        CommitRelay::deliver(link, std::move(callback), ok, problem);
        p->release(name);
    });
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
