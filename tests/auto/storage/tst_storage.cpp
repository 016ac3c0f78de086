// Both local storages behave alike: every test runs on each.

#include <qattachmentremotestorage.h>
#include <qfilesystemattachmentstorage.h>
#include <qmemoryattachmentstorage.h>
#include <testsupport.h>

#include <QtCore/qbuffer.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

#include <memory>
#include <type_traits>

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

    void removePartialDiscards_data() { storages(); }
    void removePartialDiscards()
    {
        QAttachmentLocalStorage *storage = make();
        storage->openPartial(QStringLiteral("p"))->write("x");
        QVERIFY(storage->removePartial(QStringLiteral("p")));
        QCOMPARE(storage->partialSize(QStringLiteral("p")), 0);
        QVERIFY(!storage->exists(QStringLiteral("p")));
    }

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
    void partialKeepsItsValidator_data() { storages(); }
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
