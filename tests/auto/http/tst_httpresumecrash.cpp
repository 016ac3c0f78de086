// A download cut off by a crash, end to end: the queue downloads from the
// fault server, which stalls half-way through the body; the files folder is
// copied as it is on the disk at that moment (what a crash leaves), and a
// new queue on that copy and the same database finishes the download. A
// large partial file resumes (Range and If-Range with the validator written
// beside it); a small one, whose validator was only held in memory, is
// fetched again from byte 0. Nothing is ever joined from two versions.

#include <faultserver.h>
#include <qattachmentqueue.h>
#include <qhttpremotestorage.h>
#include <testsupport.h>

#include <QtCore/qdir.h>
#include <QtCore/qdiriterator.h>
#include <QtCore/qfile.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qtest.h>

#include <memory>

using State = QAttachmentState::State;
using Fault = FaultServer::Fault;

namespace {

// Copies the folder `from` into `to`, hidden entries too.
bool copyTree(const QString &from, const QString &to)
{
    QDirIterator it(from, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString target = to + path.mid(from.size());
        if (!QDir().mkpath(QFileInfo(target).path()) || !QFile::copy(path, target))
            return false;
    }
    return QDir().mkpath(to);
}

} // namespace

class tst_HttpResumeCrash : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_connection;
    std::unique_ptr<FaultServer> m_server;
    std::unique_ptr<QHttpRemoteStorage> m_remote;

    std::unique_ptr<QAttachmentQueue> makeQueue(const QString &filesDir)
    {
        auto queue = std::make_unique<QAttachmentQueue>();
        queue->setConnectionName(m_connection);
        queue->setLocalDirectory(filesDir);
        queue->setRemoteStorage(m_remote.get());
        queue->setSyncInterval(0);
        queue->setRetryDelay(20);
        queue->setMaxRetryDelay(100);
        return queue;
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_connection = TestSupport::openDatabase(m_dir->path());
        m_server = std::make_unique<FaultServer>();
        QVERIFY(m_server->listen());
        m_remote = std::make_unique<QHttpRemoteStorage>();
        m_remote->setBaseUrl(m_server->url());
        // The stalled answer stays in flight until the copy is made.
        m_remote->setTransferTimeout(60000);
    }
    void cleanup()
    {
        m_remote.reset();
        m_server.reset();
        TestSupport::closeDatabase(m_connection);
        m_dir.reset();
    }

    void crashMidDownload_data()
    {
        QTest::addColumn<qint64>("size");
        QTest::addColumn<bool>("resumes");
        QTest::newRow("3 MiB: resumes") << qint64(3 * 1024 * 1024) << true;
        QTest::newRow("200 KiB: starts over") << qint64(200 * 1024) << false;
    }
    void crashMidDownload()
    {
        QFETCH(qint64, size);
        QFETCH(bool, resumes);
        const QByteArray bytes = TestSupport::randomBytes(size, 7);
        const QString id = QStringLiteral("photo");
        const QString name = id + QStringLiteral(".bin");
        m_server->objects().insert(QLatin1Char('/') + name, bytes);
        m_server->addFault("GET", Fault::of(Fault::Stall));

        const QString before = m_dir->path() + QStringLiteral("/files");
        const QString partial = before + QStringLiteral("/.partial/") + name;
        const QString validator = before + QStringLiteral("/.partial/.validators/") + name;
        std::unique_ptr<QAttachmentQueue> first = makeQueue(before);
        QVERIFY(first->startSync());
        first->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("bin"))});
        PSA_WAIT(QFileInfo(partial).size() >= size / 2, 30000);
        QCOMPARE(QFileInfo::exists(validator), resumes);

        // The crash: what is on the disk now is all the next run gets.
        const QString after = m_dir->path() + QStringLiteral("/after-crash");
        QVERIFY(copyTree(before, after));
        first.reset();

        std::unique_ptr<QAttachmentQueue> second = makeQueue(after);
        QVERIFY(second->startSync());
        second->setWatchedAttachments({QWatchedAttachmentItem(id, QStringLiteral("bin"))});
        PSA_WAIT(second->attachment(id).state() == State::Synced, 30000);
        QCOMPARE(TestSupport::readFile(after + QLatin1Char('/') + name), bytes);

        const QList<FaultServer::Request> requests = m_server->requests();
        QCOMPARE(requests.size(), 2);
        const FaultServer::Request &again = requests.at(1);
        if (resumes) {
            QCOMPARE(again.headers.value("range"),
                     QByteArray("bytes=") + QByteArray::number(size / 2) + '-');
            QCOMPARE(again.headers.value("if-range"), FaultServer::etagOf(bytes));
        } else {
            QVERIFY(!again.headers.contains("range"));
        }
        QVERIFY(!QFileInfo::exists(after + QStringLiteral("/.partial/.validators/") + name));
    }
};

QTEST_GUILESS_MAIN(tst_HttpResumeCrash)
#include "tst_httpresumecrash.moc"
