// The reconciliation tables of doc/state-machine.md, row by row, against the
// pure planner the queue applies through its store.

#include <qattachmentreconciler_p.h>

#include <QtTest/qtest.h>

using State = QAttachmentState::State;

namespace {

constexpr int NoRow = -1;

QAttachment makeRow(const QString &id, State state, bool hasSynced, const QString &localUri)
{
    QAttachment row(id, id + QStringLiteral(".jpg"), state);
    row.setHasSynced(hasSynced);
    row.setLocalUri(localUri);
    row.setTimestamp(1);
    return row;
}

} // namespace

class tst_Reconciler : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void table_data()
    {
        // One row of the table per line: the row as it is (state, has_synced,
        // local_uri, whether that file exists), whether its id is watched now
        // and was at the last reconciliation, the options, and what the plan
        // does with it: "none", "insert", "restore" or "archive", and the state
        // the row ends in (NoRow: there is none).
        QTest::addColumn<int>("state");
        QTest::addColumn<bool>("hasSynced");
        QTest::addColumn<QString>("localUri");
        QTest::addColumn<bool>("filePresent");
        QTest::addColumn<bool>("watched");
        QTest::addColumn<bool>("previouslyWatched");
        QTest::addColumn<bool>("restoreAll");
        QTest::addColumn<bool>("downloadAttachments");
        QTest::addColumn<QString>("action");
        QTest::addColumn<int>("expected");

        const QString file = QStringLiteral("a.jpg");
        const auto s = [](State state) { return int(state); };
        // clang-format off
        // Watched ids.
        QTest::newRow("watched, no row -> queuedDownload")
            << NoRow << false << QString() << false << true << false << false << true
            << "insert" << s(State::QueuedDownload);
        QTest::newRow("watched, no row, downloads off -> nothing")
            << NoRow << false << QString() << false << true << false << false << false
            << "none" << NoRow;
        QTest::newRow("watched, archived, has synced, file present -> synced")
            << s(State::Archived) << true << file << true << true << false << false << true
            << "restore" << s(State::Synced);
        QTest::newRow("watched, archived, not synced, file present -> queuedUpload")
            << s(State::Archived) << false << file << true << true << false << false << true
            << "restore" << s(State::QueuedUpload);
        QTest::newRow("watched, archived, no local file -> queuedDownload")
            << s(State::Archived) << true << QString() << false << true << false << false << true
            << "restore" << s(State::QueuedDownload);
        QTest::newRow("watched, archived, local file gone -> queuedDownload")
            << s(State::Archived) << true << file << false << true << false << false << true
            << "restore" << s(State::QueuedDownload);
        QTest::newRow("watched, archived, not synced, file gone -> queuedDownload")
            << s(State::Archived) << false << file << false << true << false << false << true
            << "restore" << s(State::QueuedDownload);
        QTest::newRow("watched, queuedUpload -> unchanged")
            << s(State::QueuedUpload) << false << file << true << true << false << false << true
            << "none" << s(State::QueuedUpload);
        QTest::newRow("watched, queuedDownload -> unchanged")
            << s(State::QueuedDownload) << false << QString() << false << true << false << false << true
            << "none" << s(State::QueuedDownload);
        QTest::newRow("watched, queuedDelete -> unchanged")
            << s(State::QueuedDelete) << true << file << true << true << false << false << true
            << "none" << s(State::QueuedDelete);
        QTest::newRow("watched, synced -> unchanged")
            << s(State::Synced) << true << file << true << true << false << false << true
            << "none" << s(State::Synced);
        QTest::newRow("watched, synced, downloads off -> unchanged")
            << s(State::Synced) << true << file << true << true << false << false << false
            << "none" << s(State::Synced);
        // An archived row is restored when its id becomes watched, not while it stays watched.
        QTest::newRow("still watched, archived -> unchanged (given up)")
            << s(State::Archived) << true << file << true << true << true << false << true
            << "none" << s(State::Archived);
        QTest::newRow("still watched, archived, first round after start -> restored")
            << s(State::Archived) << true << file << true << true << true << true << true
            << "restore" << s(State::Synced);
        // Ids no longer watched.
        QTest::newRow("unwatched, queuedUpload, never synced -> unchanged")
            << s(State::QueuedUpload) << false << file << true << false << false << false << true
            << "none" << s(State::QueuedUpload);
        QTest::newRow("unwatched, queuedUpload, has synced -> archived")
            << s(State::QueuedUpload) << true << file << true << false << true << false << true
            << "archive" << s(State::Archived);
        QTest::newRow("unwatched, queuedDelete, never synced -> unchanged")
            << s(State::QueuedDelete) << false << file << true << false << true << false << true
            << "none" << s(State::QueuedDelete);
        QTest::newRow("unwatched, queuedDelete, has synced -> archived")
            << s(State::QueuedDelete) << true << file << true << false << true << false << true
            << "archive" << s(State::Archived);
        QTest::newRow("unwatched, queuedDownload -> archived")
            << s(State::QueuedDownload) << false << QString() << false << false << true << false << true
            << "archive" << s(State::Archived);
        QTest::newRow("unwatched, synced -> archived")
            << s(State::Synced) << true << file << true << false << true << false << true
            << "archive" << s(State::Archived);
        QTest::newRow("unwatched, synced, downloads off -> archived")
            << s(State::Synced) << true << file << true << false << true << false << false
            << "archive" << s(State::Archived);
        QTest::newRow("unwatched, archived -> unchanged")
            << s(State::Archived) << true << file << true << false << true << false << true
            << "none" << s(State::Archived);
        // clang-format on
    }

    void table()
    {
        QFETCH(int, state);
        QFETCH(bool, hasSynced);
        QFETCH(QString, localUri);
        QFETCH(bool, filePresent);
        QFETCH(bool, watched);
        QFETCH(bool, previouslyWatched);
        QFETCH(bool, restoreAll);
        QFETCH(bool, downloadAttachments);
        QFETCH(QString, action);
        QFETCH(int, expected);

        const QString id = QStringLiteral("a");
        QAttachmentReconciler::Input input;
        if (state != NoRow)
            input.rows.append(makeRow(id, State(state), hasSynced, localUri));
        if (watched)
            input.watched.append(QWatchedAttachmentItem(id, QStringLiteral("jpg")));
        QAttachmentReconciler::Options options;
        options.downloadAttachments = downloadAttachments;
        options.restoreAllWatched = restoreAll;
        if (previouslyWatched)
            options.previouslyWatched.insert(id);
        options.now = 42;

        // The planner asks only about the files whose presence decides a restore.
        const QStringList toCheck = QAttachmentReconciler::localFilesToCheck(input, options);
        if (action == QLatin1String("restore") && !localUri.isEmpty())
            QCOMPARE(toCheck, QStringList {localUri});
        else if (action != QLatin1String("restore"))
            QVERIFY(toCheck.isEmpty());
        if (filePresent && toCheck.contains(localUri))
            input.presentFiles.insert(localUri);

        const QAttachmentReconciler::Plan plan = QAttachmentReconciler::plan(input, options);
        QVERIFY(plan.problems.isEmpty());
        QCOMPARE(plan.watchedIds.contains(id), watched);
        const int changes = int(plan.inserts.size() + plan.restores.size() + plan.archives.size());
        if (action == QLatin1String("none")) {
            QCOMPARE(changes, 0);
            QVERIFY(!plan.changesRows());
            return;
        }
        QCOMPARE(changes, 1);
        QAttachment after;
        if (action == QLatin1String("insert")) {
            QCOMPARE(plan.inserts.size(), 1);
            after = plan.inserts.constFirst();
            QCOMPARE(after.filename(), QStringLiteral("a.jpg"));
            QCOMPARE(after.mediaType(), QStringLiteral("image/jpeg"));
            QVERIFY(after.localUri().isEmpty());
            QVERIFY(!after.hasSynced());
        } else {
            const QList<QAttachmentStore::Change> &changed
                = action == QLatin1String("restore") ? plan.restores : plan.archives;
            QCOMPARE(changed.size(), 1);
            // Conditional on the state the row was read in.
            QCOMPARE(int(changed.constFirst().expected), state);
            after = changed.constFirst().row;
        }
        QCOMPARE(after.id(), id);
        QCOMPARE(int(after.state()), expected);
        QCOMPARE(after.timestamp(), qint64(42));
        if (action == QLatin1String("restore") && expected == int(State::QueuedDownload)) {
            // Downloaded again from scratch.
            QVERIFY(after.localUri().isEmpty());
            QVERIFY(!after.hasSynced());
        } else if (action != QLatin1String("insert")) {
            QCOMPARE(after.localUri(), localUri);
            QCOMPARE(after.hasSynced(), hasSynced);
        }
    }

    void badWatchedItems_data()
    {
        QTest::addColumn<QWatchedAttachmentItem>("item");
        QTest::addColumn<QString>("messagePart");
        QTest::newRow("path in the id") << QWatchedAttachmentItem(QStringLiteral("../x"), {})
                                        << QStringLiteral("watched attachment id");
        QTest::newRow("empty id") << QWatchedAttachmentItem(QString(), QStringLiteral("jpg"))
                                  << QStringLiteral("watched attachment id");
        QTest::newRow("bad extension")
            << QWatchedAttachmentItem(QStringLiteral("x"), QStringLiteral("a/b"))
            << QStringLiteral("watched attachment x");
        QTest::newRow("bad filename")
            << QWatchedAttachmentItem(QStringLiteral("x"), {}, QStringLiteral("../etc/passwd"))
            << QStringLiteral("watched attachment x");
    }

    void badWatchedItems()
    {
        QFETCH(QWatchedAttachmentItem, item);
        QFETCH(QString, messagePart);
        QAttachmentReconciler::Input input;
        input.watched = {item};
        const auto plan = QAttachmentReconciler::plan(input, {});
        QVERIFY(!plan.changesRows());
        QCOMPARE(plan.problems.size(), 1);
        QCOMPARE(plan.problems.constFirst().id, item.id());
        QVERIFY2(plan.problems.constFirst().message.contains(messagePart),
                 qPrintable(plan.problems.constFirst().message));
    }

    void rowsLeftAloneAreNeverChanged_data()
    {
        QTest::addColumn<bool>("watched");
        QTest::newRow("watched") << true;
        QTest::newRow("unwatched") << false;
    }

    void rowsLeftAloneAreNeverChanged()
    {
        QFETCH(bool, watched);
        QAttachmentReconciler::Input input;
        input.rows = {makeRow(QStringLiteral("a"), State::Archived, true, QStringLiteral("a.jpg")),
                      makeRow(QStringLiteral("b"), State::Synced, true, QStringLiteral("b.jpg"))};
        input.leftAlone = {QStringLiteral("a"), QStringLiteral("b")};
        if (watched)
            input.watched = {QWatchedAttachmentItem(QStringLiteral("a"), QStringLiteral("jpg"))};
        input.presentFiles = {QStringLiteral("a.jpg")};
        QAttachmentReconciler::Options options;
        QVERIFY(QAttachmentReconciler::localFilesToCheck(input, options).isEmpty());
        const auto plan = QAttachmentReconciler::plan(input, options);
        QVERIFY(!plan.changesRows());
        QCOMPARE(plan.watchedIds.contains(QStringLiteral("a")), watched);
    }

    void idsListedTwiceCountOnce()
    {
        QAttachmentReconciler::Input input;
        input.watched = {QWatchedAttachmentItem(QStringLiteral("a"), QStringLiteral("jpg")),
                         QWatchedAttachmentItem(QStringLiteral("a"), QStringLiteral("png"))};
        const auto plan = QAttachmentReconciler::plan(input, {});
        QCOMPARE(plan.inserts.size(), 1);
        QCOMPARE(plan.inserts.constFirst().filename(), QStringLiteral("a.jpg"));
    }

    void filenamesComeFromTheItemTheDefaultOrTheResolver()
    {
        QAttachmentReconciler::Input input;
        input.watched = {QWatchedAttachmentItem(QStringLiteral("a"), {}, QStringLiteral("doc.pdf"),
                                                QStringLiteral("meta")),
                         QWatchedAttachmentItem(QStringLiteral("b"), {}),
                         QWatchedAttachmentItem(QStringLiteral("c"), QStringLiteral("png"))};
        QAttachmentReconciler::Options options;
        options.defaultFileExtension = QStringLiteral("txt");
        options.resolveFilename = [](const QString &id, const QString &extension) -> QString {
            return QStringLiteral("photo-") + id + QLatin1Char('.') + extension;
        };
        const auto plan = QAttachmentReconciler::plan(input, options);
        QCOMPARE(plan.inserts.size(), 3);
        QCOMPARE(plan.inserts.at(0).filename(), QStringLiteral("doc.pdf"));
        QCOMPARE(plan.inserts.at(0).metaData(), QStringLiteral("meta"));
        QCOMPARE(plan.inserts.at(0).mediaType(), QStringLiteral("application/pdf"));
        QCOMPARE(plan.inserts.at(1).filename(), QStringLiteral("photo-b.txt"));
        QCOMPARE(plan.inserts.at(2).filename(), QStringLiteral("photo-c.png"));
    }
};

QTEST_APPLESS_MAIN(tst_Reconciler)
#include "tst_reconciler.moc"
