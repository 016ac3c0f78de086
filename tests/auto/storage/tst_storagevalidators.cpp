// When the file system storage writes the validator of a partial download
// to the disk: not for a download that completes (no `.validators` entry is
// ever made for it), once the partial file is large enough to be worth
// resuming after a crash, and when the storage goes with the file
// incomplete. A download interrupted and tried again in the same run resumes
// against the validator held in memory.

#include <qattachmentremotestorage.h>
#include <qfilesystemattachmentstorage.h>
#include <testsupport.h>

#include <QtCore/qdir.h>
#include <QtCore/qfile.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qtest.h>

#include <memory>

namespace {

const char *const Property = QAttachmentRemoteStorage::ResumeValidatorProperty;
constexpr qint64 Large = 2 * 1024 * 1024 + 17; // past the 1 MiB from which it goes to the disk

QByteArray validatorOf(const QIODevice &device)
{
    return device.property(Property).toByteArray();
}

// Writes `size` bytes into `device` the way a download does: in pieces.
void receive(QIODevice &device, qint64 size)
{
    const QByteArray piece = TestSupport::randomBytes(64 * 1024, 5);
    for (qint64 done = 0; done < size;) {
        const qint64 n = qMin<qint64>(piece.size(), size - done);
        QCOMPARE(device.write(piece.constData(), n), n);
        done += n;
    }
}

} // namespace

class tst_StorageValidators : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;

    QString root() const { return m_dir->path() + QStringLiteral("/root"); }
    QString validatorsDir() const { return root() + QStringLiteral("/.partial/.validators"); }
    QString validatorFile(const QString &name) const
    {
        return validatorsDir() + QLatin1Char('/') + name;
    }
    std::unique_ptr<QFileSystemAttachmentStorage> make() const
    {
        auto storage = std::make_unique<QFileSystemAttachmentStorage>(root());
        if (!storage->initialize())
            qFatal("cannot initialize the storage");
        return storage;
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }
    void cleanup() { m_dir.reset(); }

    // The common case: one response, committed. No validator file is made at
    // any point, nor the folder for them.
    void completedDownloadWritesNoValidator_data()
    {
        QTest::addColumn<bool>("async");
        QTest::newRow("commitPartial") << false;
        QTest::newRow("commitPartialAsync") << true;
    }
    void completedDownloadWritesNoValidator()
    {
        QFETCH(bool, async);
        auto storage = make();
        for (int i = 0; i < 3; ++i) {
            const QString name = QStringLiteral("small-%1.jpg").arg(i);
            {
                std::unique_ptr<QIODevice> partial = storage->openPartial(name);
                QVERIFY(partial);
                partial->setProperty(Property, QByteArray("\"v1\""));
                receive(*partial, 64 * 1024);
                QVERIFY(!QFileInfo::exists(validatorsDir()));
            }
            QVERIFY(!QFileInfo::exists(validatorsDir()));
            if (async) {
                bool done = false;
                QObject context;
                storage->commitPartialAsync(name, 64 * 1024, &context,
                                            [&done](bool ok, const QString &) { done = ok; });
                PSA_WAIT(done, 10000);
            } else {
                QVERIFY(storage->commitPartial(name, 64 * 1024));
            }
            QCOMPARE(storage->size(name), 64 * 1024);
            QVERIFY(!QFileInfo::exists(validatorsDir()));
        }
        storage.reset(); // nothing incomplete to keep for the next run
        QVERIFY(!QFileInfo::exists(validatorsDir()));
    }

    // Interrupted and tried again in the same run: it resumes against the
    // validator held in memory, still with no file for it.
    void smallInterruptedResumesInTheSameRun()
    {
        auto storage = make();
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("s.jpg"));
            partial->setProperty(Property, QByteArray("\"v1\""));
            receive(*partial, 100 * 1024);
        }
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("s.jpg"))));
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("s.jpg"));
            QCOMPARE(partial->pos(), 100 * 1024);
            QCOMPARE(validatorOf(*partial), QByteArray("\"v1\""));
            partial->setProperty(Property, QByteArray("\"v1\"")); // the rest arrives
            receive(*partial, 10);
        }
        QVERIFY(storage->commitPartial(QStringLiteral("s.jpg"), 100 * 1024 + 10));
        QVERIFY(!QFileInfo::exists(validatorsDir()));
        // Removed instead of committed: the next download starts with none.
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("t.jpg"));
            partial->setProperty(Property, QByteArray("\"t1\""));
            receive(*partial, 10);
        }
        QVERIFY(storage->removePartial(QStringLiteral("t.jpg")));
        {
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("t.jpg"));
            receive(*partial, 10);
        }
        QVERIFY(validatorOf(*storage->openPartial(QStringLiteral("t.jpg"))).isEmpty());
    }

    // The app quits with a small download incomplete: its validator is
    // written as the storage goes, and the next run resumes against it.
    void smallInterruptedResumesAfterTheStorageWent()
    {
        {
            auto storage = make();
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("s.jpg"));
            partial->setProperty(Property, QByteArray("\"v1\""));
            receive(*partial, 100 * 1024);
            partial.reset();
            QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("s.jpg"))));
        }
        QVERIFY(QFileInfo::exists(validatorFile(QStringLiteral("s.jpg"))));
        auto storage = make();
        std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("s.jpg"));
        QCOMPARE(partial->pos(), 100 * 1024);
        QCOMPARE(validatorOf(*partial), QByteArray("\"v1\""));
        partial.reset();
        QVERIFY(storage->commitPartial(QStringLiteral("s.jpg"), 100 * 1024));
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("s.jpg"))));
    }

    // A crash (nothing closed, the storage never destroyed) with a large
    // partial file: its validator is on the disk already, and the next run
    // resumes; a small one starts over (cheap to fetch again).
    void crashWithALargePartialResumes()
    {
        auto crashed = make();
        std::unique_ptr<QIODevice> large = crashed->openPartial(QStringLiteral("l.bin"));
        large->setProperty(Property, QByteArray("\"big\""));
        receive(*large, Large);
        std::unique_ptr<QIODevice> small = crashed->openPartial(QStringLiteral("s.bin"));
        small->setProperty(Property, QByteArray("\"small\""));
        receive(*small, 1000);
        QCOMPARE(TestSupport::readFile(validatorFile(QStringLiteral("l.bin"))),
                 QByteArray("\"big\""));
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("s.bin"))));

        auto restarted = make(); // the next run, on the same folder
        {
            std::unique_ptr<QIODevice> partial = restarted->openPartial(QStringLiteral("l.bin"));
            QCOMPARE(partial->pos(), Large);
            QCOMPARE(validatorOf(*partial), QByteArray("\"big\""));
            // The same version goes on: its validator file stays as it is.
            partial->setProperty(Property, QByteArray("\"big\""));
            receive(*partial, 5);
            QVERIFY(QFileInfo::exists(validatorFile(QStringLiteral("l.bin"))));
        }
        {
            std::unique_ptr<QIODevice> partial = restarted->openPartial(QStringLiteral("s.bin"));
            QCOMPARE(partial->pos(), 1000);
            QVERIFY(validatorOf(*partial).isEmpty()); // starts over
        }
        QVERIFY(restarted->commitPartial(QStringLiteral("l.bin"), Large + 5));
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("l.bin"))));
        large.reset();
        small.reset();
        crashed.reset();
    }

    // A new version's response (from byte 0) makes the validator on the disk
    // another version's: it goes at once, before a crash could pair it with
    // the new bytes, and the new one is written once the file is large.
    void newVersionReplacesTheValidatorOnDisk()
    {
        {
            auto storage = make();
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("l.bin"));
            partial->setProperty(Property, QByteArray("\"v1\""));
            receive(*partial, Large);
        }
        QCOMPARE(TestSupport::readFile(validatorFile(QStringLiteral("l.bin"))),
                 QByteArray("\"v1\""));
        auto storage = make();
        std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("l.bin"));
        QCOMPARE(validatorOf(*partial), QByteArray("\"v1\""));
        QVERIFY(partial->seek(0));
        partial->setProperty(Property, QByteArray("\"v2\""));
        QCOMPARE(partial->size(), 0);
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("l.bin"))));
        receive(*partial, 1000);
        QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("l.bin"))));
        receive(*partial, Large);
        QCOMPARE(TestSupport::readFile(validatorFile(QStringLiteral("l.bin"))),
                 QByteArray("\"v2\""));
    }

    // A validator file left beside a partial file that starts empty (a crash
    // between a commit's rename and the removal of its validator) is never
    // taken for the bytes of a new response.
    void staleValidatorIsNotPairedWithNewBytes()
    {
        QVERIFY(TestSupport::writeFile(validatorFile(QStringLiteral("x.bin")), "\"old\""));
        {
            auto storage = make();
            std::unique_ptr<QIODevice> partial = storage->openPartial(QStringLiteral("x.bin"));
            QCOMPARE(partial->pos(), 0);
            partial->setProperty(Property, QByteArray("\"new\""));
            QVERIFY(!QFileInfo::exists(validatorFile(QStringLiteral("x.bin"))));
            receive(*partial, 1000);
            // A crash here: the next run finds no validator, and starts over.
            auto next = make();
            QVERIFY(validatorOf(*next->openPartial(QStringLiteral("x.bin"))).isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(tst_StorageValidators)
#include "tst_storagevalidators.moc"
