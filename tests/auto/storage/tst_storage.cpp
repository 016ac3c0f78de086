// Both local storages behave alike: every test runs on each.

#include <qattachmentremotestorage.h>
#include <qfilesystemattachmentstorage.h>
#include <qmemoryattachmentstorage.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qthread.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>
#include <type_traits>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#endif

namespace {

// Whether code outside QAttachmentTransfer can emit its signals.
template<typename T, typename = void>
struct CanEmitFinished : std::false_type
{
};
template<typename T>
struct CanEmitFinished<T, std::void_t<decltype(std::declval<T &>().finished())>> : std::true_type
{
};
template<typename T, typename = void>
struct CanEmitProgress : std::false_type
{
};
template<typename T>
struct CanEmitProgress<T, std::void_t<decltype(std::declval<T &>().progress(qint64(), qint64()))>>
    : std::true_type
{
};

// A transfer that reports through the base's helpers only.
class HelperTransfer : public QAttachmentTransfer
{
public:
    using QAttachmentTransfer::QAttachmentTransfer;
    void step(qint64 done, qint64 total) { setProgress(done, total); }
    void succeed() { finishSuccess(); }
    void failWith(const QAttachmentError &error) { finishWithError(error); }
};

// A sequential source that gives its first `failAfter` bytes, then fails.
class FailingSource : public QIODevice
{
public:
    FailingSource(const QByteArray &data, qint64 failAfter)
        : m_data(data.left(failAfter))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_given == m_data.size()) {
            setErrorString(QStringLiteral("the source broke"));
            return -1;
        }
        const qint64 n = qMin<qint64>(maxSize, m_data.size() - m_given);
        memcpy(data, m_data.constData() + m_given, size_t(n));
        m_given += n;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qint64 m_given = 0;
};

} // namespace

class tst_Storage : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir *m_dir = nullptr;
    std::unique_ptr<QAttachmentLocalStorage> m_storage;

    void storages()
    {
        QTest::addColumn<bool>("onDisk");
        QTest::newRow("filesystem") << true;
        QTest::newRow("memory") << false;
    }
    QAttachmentLocalStorage *make()
    {
        QFETCH(bool, onDisk);
        if (onDisk)
            m_storage.reset(
                new QFileSystemAttachmentStorage(m_dir->path() + QStringLiteral("/root")));
        else
            m_storage.reset(new QMemoryAttachmentStorage);
        QString error;
        if (!m_storage->initialize(&error))
            qFatal("initialize: %s", qPrintable(error));
        return m_storage.get();
    }

private Q_SLOTS:
    // Only the base class emits progress() and finished(); a subclass goes
    // through setProgress() and finishSuccess()/finishWithError(), which keep
    // the contract: progress only when it changed, finished once and never
    // from inside the call.
    void transferSignalsAreTheBasesOwn()
    {
        static_assert(!CanEmitFinished<QAttachmentTransfer>::value);
        static_assert(!CanEmitProgress<QAttachmentTransfer>::value);
        static_assert(!CanEmitFinished<HelperTransfer>::value);

        HelperTransfer transfer(QAttachmentTransfer::Download);
        QSignalSpy progress(&transfer, &QAttachmentTransfer::progress);
        QSignalSpy finished(&transfer, &QAttachmentTransfer::finished);
        transfer.step(10, 100);
        transfer.step(10, 100);
        QCOMPARE(progress.count(), 1);
        QCOMPARE(transfer.bytesDone(), 10);
        QCOMPARE(transfer.bytesTotal(), 100);
        transfer.failWith(QAttachmentError(QAttachmentError::NotFound, QStringLiteral("gone")));
        transfer.succeed();
        transfer.step(20, 100);
        QCOMPARE(finished.count(), 0);
        QVERIFY(!transfer.isFinished());
        QVERIFY(finished.wait(5000));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(progress.count(), 1);
        QVERIFY(transfer.isFinished());
        QCOMPARE(transfer.error().code(), QAttachmentError::NotFound);
        QCOMPARE(transfer.kind(), QAttachmentTransfer::Download);

        HelperTransfer aborted(QAttachmentTransfer::Upload);
        QSignalSpy abortedFinished(&aborted, &QAttachmentTransfer::finished);
        aborted.abort();
        aborted.abort();
        QVERIFY(abortedFinished.wait(5000));
        QCOMPARE(abortedFinished.count(), 1);
        QCOMPARE(aborted.error().code(), QAttachmentError::Cancelled);
    }

    void init()
    {
        m_dir = new QTemporaryDir;
        QVERIFY(m_dir->isValid());
    }
    void cleanup()
    {
        m_storage.reset();
        delete m_dir;
    }

    void saveReturnsTheSizeAndReadsBack_data() { storages(); }
    void saveReturnsTheSizeAndReadsBack()
    {
        QAttachmentLocalStorage *storage = make();
        const QByteArray data = TestSupport::randomBytes(700 * 1024 + 3);
        QBuffer source;
        source.setData(data);
        source.open(QIODevice::ReadOnly);
        QCOMPARE(storage->save(QStringLiteral("a.bin"), &source), data.size());
        QVERIFY(storage->exists(QStringLiteral("a.bin")));
        QCOMPARE(storage->size(QStringLiteral("a.bin")), data.size());
        std::unique_ptr<QIODevice> reader = storage->openForReading(QStringLiteral("a.bin"));
        QVERIFY(reader);
        QCOMPARE(reader->readAll(), data);
    }

    void saveBytesReplacesAnExistingFile_data() { storages(); }
    void saveBytesReplacesAnExistingFile()
    {
        QAttachmentLocalStorage *storage = make();
        QCOMPARE(storage->save(QStringLiteral("f"), QByteArray("first version")), 13);
        QCOMPARE(storage->save(QStringLiteral("f"), QByteArray("second")), 6);
        QCOMPARE(storage->openForReading(QStringLiteral("f"))->readAll(), QByteArray("second"));
    }

    void missingFileIsReported_data() { storages(); }
    void missingFileIsReported()
    {
        QAttachmentLocalStorage *storage = make();
        QString error;
        QVERIFY(!storage->openForReading(QStringLiteral("none"), &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!storage->exists(QStringLiteral("none")));
        QCOMPARE(storage->size(QStringLiteral("none")), -1);
    }

    void removeDeletesAndToleratesMissing_data() { storages(); }
    void removeDeletesAndToleratesMissing()
    {
        QAttachmentLocalStorage *storage = make();
        storage->save(QStringLiteral("x"), QByteArray("x"));
        QVERIFY(storage->remove(QStringLiteral("x")));
        QVERIFY(!storage->exists(QStringLiteral("x")));
        QVERIFY(storage->remove(QStringLiteral("x")));
    }

    void clearRemovesEverything_data() { storages(); }
    void clearRemovesEverything()
    {
        QAttachmentLocalStorage *storage = make();
        storage->save(QStringLiteral("a"), QByteArray("a"));
        storage->save(QStringLiteral("b"), QByteArray("b"));
        QVERIFY(storage->clear());
        QVERIFY(!storage->exists(QStringLiteral("a")));
        QVERIFY(!storage->exists(QStringLiteral("b")));
        QCOMPARE(storage->save(QStringLiteral("c"), QByteArray("c")), 1); // still usable
    }

    void partialFileAppearsOnlyWhenCommitted_data() { storages(); }
    void partialFileAppearsOnlyWhenCommitted()
    {
        QAttachmentLocalStorage *storage = make();
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("d.jpg"));
            QVERIFY(partial);
            QCOMPARE(partial->pos(), 0);
            partial->write("half");
        }
        QVERIFY(!storage->exists(QStringLiteral("d.jpg")));
        QCOMPARE(storage->partialSize(QStringLiteral("d.jpg")), 4);
        {
            // A resumed download continues after what arrived before.
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("d.jpg"));
            QCOMPARE(partial->pos(), 4);
            partial->write(" and the rest");
        }
        QVERIFY(storage->commitPartial(QStringLiteral("d.jpg"), 17));
        QCOMPARE(storage->openForReading(QStringLiteral("d.jpg"))->readAll(),
                 QByteArray("half and the rest"));
        QCOMPARE(storage->partialSize(QStringLiteral("d.jpg")), 0);
    }

    void commitTruncatesARestartedDownload_data() { storages(); }
    void commitTruncatesARestartedDownload()
    {
        QAttachmentLocalStorage *storage = make();
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("r"));
            partial->write("stale bytes from before");
        }
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("r"));
            partial->seek(0); // the server sent everything again
            partial->write("fresh");
        }
        QVERIFY(storage->commitPartial(QStringLiteral("r"), 5));
        QCOMPARE(storage->openForReading(QStringLiteral("r"))->readAll(), QByteArray("fresh"));
    }

    // --- commits that do not wait for the disk --------------------------------------

    void asyncCommitReportsLaterInTheCallersThread_data() { storages(); }
    void asyncCommitReportsLaterInTheCallersThread()
    {
        QAttachmentLocalStorage *storage = make();
        storage->openPartial(QStringLiteral("a.jpg"))->write("complete file");
        QObject context;
        int calls = 0;
        bool succeeded = false;
        QThread *thread = nullptr;
        storage->commitPartialAsync(QStringLiteral("a.jpg"), 13, &context,
                                    [&](bool ok, const QString &problem) {
                                        ++calls;
                                        succeeded = ok;
                                        thread = QThread::currentThread();
                                        QVERIFY2(ok, qPrintable(problem));
                                    });
        QCOMPARE(calls, 0); // never from inside the call
        QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 10000);
        QVERIFY(succeeded);
        QCOMPARE(thread, QThread::currentThread());
        QCOMPARE(storage->openForReading(QStringLiteral("a.jpg"))->readAll(),
                 QByteArray("complete file"));
        QCOMPARE(storage->partialSize(QStringLiteral("a.jpg")), 0);
    }

    // Many commits handed over in one turn (downloads that finished together)
    // each report once, in the caller's thread, with their own outcome, while
    // a name committed again meanwhile waits for its first commit.
    void asyncCommitsHandedOverTogetherEachReport_data() { storages(); }
    void asyncCommitsHandedOverTogetherEachReport()
    {
        QAttachmentLocalStorage *storage = make();
        constexpr int Count = 300;
        for (int i = 0; i < Count; ++i)
            storage->openPartial(QStringLiteral("f%1.bin").arg(i))->write(QByteArray::number(i));
        QObject context;
        QHash<QString, int> calls;
        QHash<QString, bool> outcome;
        for (int i = 0; i < Count; ++i) {
            const QString name = QStringLiteral("f%1.bin").arg(i);
            // Every tenth one claims a byte more than it holds: it fails.
            const qint64 size = QByteArray::number(i).size() + (i % 10 == 0 ? 1 : 0);
            storage->commitPartialAsync(name, size, &context, [&, name](bool ok, const QString &) {
                QCOMPARE(QThread::currentThread(), context.thread());
                ++calls[name];
                outcome[name] = ok;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(calls.size(), Count, 20000);
        for (int i = 0; i < Count; ++i) {
            const QString name = QStringLiteral("f%1.bin").arg(i);
            QCOMPARE(calls.value(name), 1);
            QCOMPARE(outcome.value(name), i % 10 != 0);
            if (i % 10 == 0) {
                QVERIFY(!storage->exists(name));
                QCOMPARE(storage->partialSize(name), QByteArray::number(i).size());
            } else {
                QCOMPARE(storage->openForReading(name)->readAll(), QByteArray::number(i));
            }
        }
        QCoreApplication::processEvents();
        QCOMPARE(calls.size(), Count);
    }

    void asyncCommitOfAShortFileFailsAndKeepsIt_data() { storages(); }
    void asyncCommitOfAShortFileFailsAndKeepsIt()
    {
        QAttachmentLocalStorage *storage = make();
        storage->openPartial(QStringLiteral("s.jpg"))->write("short");
        QObject context;
        int calls = 0;
        QString reason;
        storage->commitPartialAsync(QStringLiteral("s.jpg"), 100, &context,
                                    [&](bool ok, const QString &problem) {
                                        ++calls;
                                        QVERIFY(!ok);
                                        reason = problem;
                                    });
        QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 10000);
        QVERIFY2(reason.contains(QStringLiteral("5 of 100")), qPrintable(reason));
        QVERIFY(!storage->exists(QStringLiteral("s.jpg")));
        QCOMPARE(storage->partialSize(QStringLiteral("s.jpg")), 5);
    }

    void asyncCommitRefusesANameThatLeavesTheRoot_data() { storages(); }
    void asyncCommitRefusesANameThatLeavesTheRoot()
    {
        QAttachmentLocalStorage *storage = make();
        QObject context;
        int failures = 0;
        storage->commitPartialAsync(QStringLiteral("../out"), 1, &context,
                                    [&](bool ok, const QString &) { failures += ok ? 0 : 1; });
        QTRY_COMPARE_WITH_TIMEOUT(failures, 1, 10000);
    }

    // The callback's context goes first: nobody is called, the file is kept.
    void asyncCommitOutlivesItsContext_data() { storages(); }
    void asyncCommitOutlivesItsContext()
    {
        QAttachmentLocalStorage *storage = make();
        storage->openPartial(QStringLiteral("c.bin"))->write("kept");
        int calls = 0;
        {
            QObject context;
            storage->commitPartialAsync(QStringLiteral("c.bin"), 4, &context,
                                        [&](bool, const QString &) { ++calls; });
        }
        // The commit completes whatever happened to the context: waiting for
        // the name waits for it, and its outcome would be posted by then.
        QCOMPARE(storage->partialSize(QStringLiteral("c.bin")), 0);
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QCOMPARE(calls, 0);
        QCOMPARE(storage->openForReading(QStringLiteral("c.bin"))->readAll(), QByteArray("kept"));
    }

    // Destroying the storage waits for its commits: none is left half-done.
    void destroyingTheStorageCompletesItsCommits()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        constexpr int Files = 40;
        QObject context;
        int succeeded = 0;
        {
            QFileSystemAttachmentStorage storage(root);
            QVERIFY(storage.initialize());
            for (int i = 0; i < Files; ++i) {
                const QString name = QStringLiteral("f%1.bin").arg(i);
                storage.openPartial(name)->write(QByteArray(1000 + i, 'x'));
                storage.commitPartialAsync(name, 1000 + i, &context,
                                           [&](bool ok, const QString &) { succeeded += ok; });
            }
        }
        QFileSystemAttachmentStorage again(root);
        for (int i = 0; i < Files; ++i)
            QCOMPARE(again.size(QStringLiteral("f%1.bin").arg(i)), 1000 + i);
        QVERIFY(again.partialNames().isEmpty());
        // The outcomes still arrive: the context is alive.
        QTRY_COMPARE_WITH_TIMEOUT(succeeded, Files, 10000);
    }

    // A download restarted while its previous attempt's commit runs gets a
    // new partial file, never the one being moved.
    void partialOpenedDuringItsCommitIsANewOne_data() { storages(); }
    void partialOpenedDuringItsCommitIsANewOne()
    {
        QAttachmentLocalStorage *storage = make();
        QByteArray first(256 * 1024, 'a');
        storage->openPartial(QStringLiteral("r.bin"))->write(first);
        QObject context;
        int calls = 0;
        storage->commitPartialAsync(QStringLiteral("r.bin"), first.size(), &context,
                                    [&](bool ok, const QString &) { calls += ok; });
        std::unique_ptr<QIODevice> again = storage->openPartial(QStringLiteral("r.bin"));
        QVERIFY(again);
        QCOMPARE(again->pos(), 0);
        again->write("b");
        again.reset();
        QCOMPARE(storage->openForReading(QStringLiteral("r.bin"))->readAll(), first);
        QCOMPARE(storage->partialSize(QStringLiteral("r.bin")), 1);
        QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 10000);
    }

    void removePartialDiscards_data() { storages(); }
    void removePartialDiscards()
    {
        QAttachmentLocalStorage *storage = make();
        storage->openPartial(QStringLiteral("p"))->write("x");
        QVERIFY(storage->removePartial(QStringLiteral("p")));
        QCOMPARE(storage->partialSize(QStringLiteral("p")), 0);
        QVERIFY(!storage->exists(QStringLiteral("p")));
    }

    // A partial file reads back what was written where it was written, and
    // its size follows the writes: adapters seek back and write again.
    void partialReadsBackAndKeepsItsSize_data() { storages(); }
    void partialReadsBackAndKeepsItsSize()
    {
        QAttachmentLocalStorage *storage = make();
        std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("s.bin"));
        QVERIFY(partial);
        QVERIFY(!partial->isSequential());
        QCOMPARE(partial->write("0123456789"), 10);
        QCOMPARE(partial->size(), 10);
        QCOMPARE(partial->pos(), 10);
        QVERIFY(partial->seek(4));
        QCOMPARE(partial->write("ab"), 2);
        QCOMPARE(partial->size(), 10);
        QVERIFY(partial->seek(0));
        QCOMPARE(partial->readAll(), QByteArray("0123ab6789"));
        QVERIFY(partial->seek(12)); // beyond the end: the gap reads as zeros
        QCOMPARE(partial->write("z"), 1);
        QCOMPARE(partial->size(), 13);
        partial.reset();
        QCOMPARE(storage->partialSize(QStringLiteral("s.bin")), 13);
        partial = storage->openPartial(QStringLiteral("s.bin"));
        QCOMPARE(partial->pos(), 13);
        QVERIFY(partial->seek(0));
        QCOMPARE(partial->readAll(), QByteArray("0123ab6789\0\0z", 13));
    }

    // The partial folder removed behind the storage's back (by hand, or by
    // another storage's clear()) is made again for the next download.
    void filesystemPartialFolderRemovedIsMadeAgain()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        QFileSystemAttachmentStorage storage(root);
        QVERIFY(storage.initialize());
        storage.openPartial(QStringLiteral("a.bin"))->write("first");
        QVERIFY(storage.commitPartial(QStringLiteral("a.bin"), 5));
        QVERIFY(QDir(root + QStringLiteral("/.partial")).removeRecursively());

        QString error;
        std::unique_ptr<QIODevice> partial = storage.openPartial(QStringLiteral("b.bin"), &error);
        QVERIFY2(partial, qPrintable(error));
        QCOMPARE(partial->write("second"), 6);
        partial.reset();
        QVERIFY(QFileInfo(root + QStringLiteral("/.partial/b.bin")).isFile());
        QVERIFY2(storage.commitPartial(QStringLiteral("b.bin"), 6, &error), qPrintable(error));
        QCOMPARE(storage.openForReading(QStringLiteral("b.bin"))->readAll(), QByteArray("second"));

        // Removed once more, with a commit waiting: that file went with the
        // folder, and the commit says so instead of making an empty one.
        storage.openPartial(QStringLiteral("c.bin"))->write("third");
        QVERIFY(QDir(root + QStringLiteral("/.partial")).removeRecursively());
        QVERIFY(!storage.commitPartial(QStringLiteral("c.bin"), 5, &error));
        QVERIFY2(error.contains(QStringLiteral("c.bin")), qPrintable(error));
        QVERIFY(!storage.exists(QStringLiteral("c.bin")));
    }

#ifdef Q_OS_UNIX
    // A commit replaces a stale file or a link of the same name in one step
    // (the link itself, never what it points to); a folder of that name
    // fails it and the partial file stays for the next attempt.
    void filesystemCommitReplacesAFileOrALinkButNotAFolder()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        QFileSystemAttachmentStorage storage(root);
        QVERIFY(storage.initialize());
        QCOMPARE(storage.save(QStringLiteral("old.bin"), QByteArray("stale")), 5);
        storage.openPartial(QStringLiteral("old.bin"))->write("new");
        QString error;
        QVERIFY2(storage.commitPartial(QStringLiteral("old.bin"), 3, &error), qPrintable(error));
        QCOMPARE(storage.openForReading(QStringLiteral("old.bin"))->readAll(), QByteArray("new"));

        const QString outside = m_dir->path() + QStringLiteral("/outside.txt");
        QFile secret(outside);
        QVERIFY(secret.open(QIODevice::WriteOnly));
        secret.write("secret");
        secret.close();
        QVERIFY(QFile::link(outside, root + QStringLiteral("/link.bin")));
        storage.openPartial(QStringLiteral("link.bin"))->write("mine");
        QVERIFY2(storage.commitPartial(QStringLiteral("link.bin"), 4, &error), qPrintable(error));
        QVERIFY(!QFileInfo(root + QStringLiteral("/link.bin")).isSymLink());
        QCOMPARE(storage.openForReading(QStringLiteral("link.bin"))->readAll(), QByteArray("mine"));
        QVERIFY(secret.open(QIODevice::ReadOnly));
        QCOMPARE(secret.readAll(), QByteArray("secret"));

        QVERIFY(QDir().mkpath(root + QStringLiteral("/dir.bin/inside")));
        storage.openPartial(QStringLiteral("dir.bin"))->write("data");
        QVERIFY(!storage.commitPartial(QStringLiteral("dir.bin"), 4, &error));
        QVERIFY2(error.contains(QStringLiteral("cannot move")), qPrintable(error));
        QCOMPARE(storage.partialSize(QStringLiteral("dir.bin")), 4);
        QVERIFY(QFileInfo(root + QStringLiteral("/dir.bin/inside")).isDir());
    }

    // Something in the partial folder that is not a file (a pipe left there)
    // is refused, never opened as a download's sink.
    void filesystemPartialThatIsNotAFileIsRefused()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        QFileSystemAttachmentStorage storage(root);
        QVERIFY(storage.initialize());
        const QByteArray pipe = QFile::encodeName(root + QStringLiteral("/.partial/p.bin"));
        QCOMPARE(::mkfifo(pipe.constData(), 0600), 0);
        QString error;
        QVERIFY(!storage.openPartial(QStringLiteral("p.bin"), &error));
        QVERIFY2(error.contains(QStringLiteral("not a file")), qPrintable(error));
        QVERIFY(!storage.commitPartial(QStringLiteral("p.bin"), 0, &error));
        QVERIFY(!storage.exists(QStringLiteral("p.bin")));
    }
#endif

    // What save() leaves: the file under its name and nothing in the partial
    // folder, whatever the source (a buffer read from where it stands, a
    // device read in pieces); a source that fails, a folder in the way, or a
    // partial folder removed behind the storage's back.
    void filesystemSaveLeavesOnlyTheFile()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        QFileSystemAttachmentStorage storage(root);
        QVERIFY(storage.initialize());
        const QByteArray data = TestSupport::randomBytes(600 * 1024 + 7);
        QBuffer buffer;
        buffer.setData(data);
        QVERIFY(buffer.open(QIODevice::ReadOnly));
        QVERIFY(buffer.seek(1000));
        QString error;
        QCOMPARE(storage.save(QStringLiteral("rest.bin"), &buffer, &error), data.size() - 1000);
        QVERIFY(buffer.atEnd());
        QCOMPARE(storage.openForReading(QStringLiteral("rest.bin"))->readAll(), data.mid(1000));

        FailingSource failing(data, 300 * 1024);
        QCOMPARE(storage.save(QStringLiteral("failed.bin"), &failing, &error), -1);
        QVERIFY2(error.contains(QStringLiteral("cannot read the data for failed.bin")),
                 qPrintable(error));
        QVERIFY(!QFileInfo::exists(root + QStringLiteral("/failed.bin")));

        QVERIFY(QDir().mkpath(root + QStringLiteral("/dir.bin/inside")));
        QCOMPARE(storage.save(QStringLiteral("dir.bin"), QByteArray("data"), &error), -1);
        QVERIFY2(error.contains(QStringLiteral("cannot move")), qPrintable(error));
        QVERIFY(QFileInfo(root + QStringLiteral("/dir.bin/inside")).isDir());
        QCOMPARE(storage.partialNames(), QStringList());

        QVERIFY(QDir(root + QStringLiteral("/.partial")).removeRecursively());
        QCOMPARE(storage.save(QStringLiteral("again.bin"), QByteArray("again"), &error), 5);
        QCOMPARE(storage.openForReading(QStringLiteral("again.bin"))->readAll(),
                 QByteArray("again"));
        QCOMPARE(storage.partialNames(), QStringList());
        QCOMPARE(QDir(root).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList({QStringLiteral("again.bin"), QStringLiteral("rest.bin")}));

        // What a crash in the middle of a save left goes when the next
        // storage on the root starts (written to a second or more before it
        // was made); what is being written since stays.
        const QString leftover = root + QStringLiteral("/.partial/.saving-0123456789abcdef");
        const QString current = root + QStringLiteral("/.partial/.saving-fedcba9876543210");
        for (const QString &path : {leftover, current}) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("half");
            file.close();
        }
        QFile old(leftover);
        QVERIFY(old.open(QIODevice::ReadWrite));
        QVERIFY(old.setFileTime(QDateTime::currentDateTime().addSecs(-60),
                                QFileDevice::FileModificationTime));
        old.close();
        QFileSystemAttachmentStorage next(root);
        QFile later(current);
        QVERIFY(later.open(QIODevice::Append));
        later.write("more");
        later.close();
        QVERIFY(next.initialize());
        QVERIFY(!QFileInfo::exists(leftover));
        QVERIFY(QFileInfo::exists(current));
    }

#ifdef Q_OS_UNIX
    // A write the file system refuses (here a file-size limit, as a full disk
    // would) fails the save with the system's reason, and leaves nothing.
    void filesystemSaveThatCannotWriteLeavesNothing()
    {
        const QString root = m_dir->path() + QStringLiteral("/root");
        QFileSystemAttachmentStorage storage(root);
        QVERIFY(storage.initialize());
        QCOMPARE(storage.save(QStringLiteral("kept.bin"), QByteArray("old")), 3);

        struct rlimit before;
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &before), 0);
        const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit limited = before;
        limited.rlim_cur = 100 * 1024;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &limited), 0);
        QString error;
        const qint64 saved = storage.save(QStringLiteral("kept.bin"),
                                          TestSupport::randomBytes(600 * 1024), &error);
        ::setrlimit(RLIMIT_FSIZE, &before);
        std::signal(SIGXFSZ, oldHandler);

        QCOMPARE(saved, -1);
        QVERIFY2(error.startsWith(QStringLiteral("cannot write ") + root
                                  + QStringLiteral("/kept.bin: ")),
                 qPrintable(error));
        QVERIFY2(error.contains(qt_error_string(EFBIG)), qPrintable(error));
        QCOMPARE(storage.openForReading(QStringLiteral("kept.bin"))->readAll(), QByteArray("old"));
        QCOMPARE(storage.partialNames(), QStringList());
    }
#endif

    void filesystemUrlIsAbsoluteFileUrl()
    {
        QFileSystemAttachmentStorage storage(m_dir->path() + QStringLiteral("/root"));
        QVERIFY(storage.initialize());
        storage.save(QStringLiteral("a b.jpg"), QByteArray("x"));
        const QUrl url = storage.url(QStringLiteral("a b.jpg"));
        QVERIFY(url.isLocalFile());
        QCOMPARE(url.toLocalFile(),
                 QDir(m_dir->path()).absoluteFilePath(QStringLiteral("root/a b.jpg")));
    }

    void filesystemSaveFromPathCopies()
    {
        QFileSystemAttachmentStorage storage(m_dir->path() + QStringLiteral("/root"));
        QVERIFY(storage.initialize());
        const QString source = m_dir->path() + QStringLiteral("/source.bin");
        QFile file(source);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("copied");
        file.close();
        QCOMPARE(storage.saveFromPath(QStringLiteral("copy.bin"), source), 6);
        QCOMPARE(storage.openForReading(QStringLiteral("copy.bin"))->readAll(),
                 QByteArray("copied"));
        QVERIFY(QFile::exists(source));
    }

    // The validator a download sets on a partial file survives reopening (on
    // disk: a restart too), goes with the file, and a new one drops the bytes after the
    // position it was set at: those belong to another version.
    void partialKeepsItsValidator_data()
    {
        storages();
    }
    void partialKeepsItsValidator()
    {
        const char *property = QAttachmentRemoteStorage::ResumeValidatorProperty;
        QAttachmentLocalStorage &storage = *make();
        {
            std::unique_ptr<QIODevice> partial = storage.openPartial(QStringLiteral("v.bin"));
            QVERIFY(partial);
            QVERIFY(partial->property(property).toByteArray().isEmpty());
            partial->setProperty(property, QByteArray("\"v1\""));
            partial->write("0123456789");
        }
        {
            std::unique_ptr<QIODevice> partial = storage.openPartial(QStringLiteral("v.bin"));
            QCOMPARE(partial->pos(), 10);
            QCOMPARE(partial->property(property).toByteArray(), QByteArray("\"v1\""));
            // A response of another version starts at 0.
            QVERIFY(partial->seek(0));
            partial->setProperty(property, QByteArray("\"v2\""));
            QCOMPARE(partial->size(), 0);
            partial->write("abc");
        }
        {
            std::unique_ptr<QIODevice> partial = storage.openPartial(QStringLiteral("v.bin"));
            QCOMPARE(partial->pos(), 3);
            QCOMPARE(partial->property(property).toByteArray(), QByteArray("\"v2\""));
            // A response without a validator: nothing to resume against later.
            partial->setProperty(property, QByteArray());
        }
        QVERIFY(storage.openPartial(QStringLiteral("v.bin"))->property(property).isNull());

        storage.openPartial(QStringLiteral("v.bin"))->setProperty(property, QByteArray("\"v3\""));
        QVERIFY(storage.removePartial(QStringLiteral("v.bin")));
        {
            std::unique_ptr<QIODevice> partial = storage.openPartial(QStringLiteral("v.bin"));
            QVERIFY(partial->property(property).isNull());
            partial->write("xyz");
            partial->setProperty(property, QByteArray("\"v4\""));
        }
        QVERIFY(storage.commitPartial(QStringLiteral("v.bin"), 3));
        QVERIFY(storage.openPartial(QStringLiteral("v.bin"))->property(property).isNull());
    }
};

QTEST_GUILESS_MAIN(tst_Storage)
#include "tst_storage.moc"
