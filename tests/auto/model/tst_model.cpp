// QAttachmentModel against a real queue with thousands of rows: the model
// follows every change with the smallest signal (one row inserted, removed or
// changed), never with a reset.

#include <fakeremotequeuesuite.h>
#include <fakeremotestorage.h>
#include <qattachmentmodel.h>
#include <qattachmentqueue.h>
#include <testsupport.h>

#include <QtCore/qfileinfo.h>
#include <QtCore/qregularexpression.h>
#include <QtCore/qtemporarydir.h>
#include <QtCore/qthread.h>
#include <QtSql/qsqlquery.h>
#include <QtTest/qabstractitemmodeltester.h>
#include <QtTest/qsignalspy.h>
#include <QtTest/qtest.h>

using State = QAttachmentState::State;

class tst_Model : public FakeRemoteQueueSuite
{
    Q_OBJECT

private:
    QList<QWatchedAttachmentItem> watched(int count, bool withRemoteObjects = false)
    {
        QList<QWatchedAttachmentItem> items;
        items.reserve(count);
        for (int i = 0; i < count; ++i) {
            const QString id = QStringLiteral("id-%1").arg(i, 5, 10, QLatin1Char('0'));
            items.append(QWatchedAttachmentItem(id, QStringLiteral("jpg")));
            if (withRemoteObjects)
                m_remote->objects.insert(id + QStringLiteral(".jpg"), id.toUtf8());
        }
        return items;
    }
    // `count` rows in queuedDownload; nothing transfers while offline.
    void fillOffline(int count)
    {
        m_queue->setOnline(false);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(watched(count));
        // Thousands of rows are written in slices from the event loop.
        QTRY_COMPARE_WITH_TIMEOUT(m_queue->attachments().size(), count, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->isIdle(), 30000);
    }
    // `count` rows downloaded and synced.
    void fillSynced(int count)
    {
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(watched(count, true));
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->pendingDownloads() == 0 && m_queue->isIdle(), 30000);
    }
    static int roleRow(const QSignalSpy &spy, int i)
    {
        return spy.at(i).at(0).toModelIndex().row();
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(openFixture());
        QSqlQuery(db()).exec(QStringLiteral("PRAGMA synchronous=OFF"));
        QueueSetup setup;
        setup.quickRetries = false;
        setUpQueue(setup);
        m_queue->setArchivedCacheLimit(100000);
    }
    void cleanup() { closeFixture(); }

    void loadsEveryRowInInsertionOrder()
    {
        fillOffline(5000);
        QAttachmentModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setQueue(m_queue);
        QCOMPARE(model.rowCount(), 5000);
        QCOMPARE(model.count(), 5000);
        QCOMPARE(model.data(model.index(0, 0), QAttachmentModel::AttachmentIdRole).toString(),
                 QStringLiteral("id-00000"));
        QCOMPARE(model.data(model.index(4999, 0), QAttachmentModel::AttachmentIdRole).toString(),
                 QStringLiteral("id-04999"));
        QCOMPARE(model.rowOf(QStringLiteral("id-01234")), 1234);
        QCOMPARE(model.rowOf(QStringLiteral("missing")), -1);
    }

    void newRowsAreInsertedOneByOneWithoutReset()
    {
        QAttachmentModel model;
        model.setQueue(m_queue);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy counted(&model, &QAttachmentModel::countChanged);
        fillOffline(3000);
        QCOMPARE(model.rowCount(), 3000);
        QCOMPARE(inserted.count(), 3000);
        for (int i = 0; i < inserted.count(); ++i) {
            QCOMPARE(inserted.at(i).at(1).toInt(), i); // appended at the end
            QCOMPARE(inserted.at(i).at(2).toInt(), i);
        }
        QCOMPARE(reset.count(), 0);
        QCOMPARE(counted.count(), 3000);
    }

    void oneChangeEmitsOneDataChangedForItsRow()
    {
        fillOffline(10000);
        QAttachmentModel model;
        model.setQueue(m_queue);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        const QString id = QStringLiteral("id-05000");
        QVERIFY(m_queue->deleteFile(id));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(roleRow(changed, 0), 5000);
        QCOMPARE(changed.first().at(1).toModelIndex().row(), 5000);
        const auto roles = changed.first().at(2).value<QList<int>>();
        QVERIFY(roles.contains(QAttachmentModel::StateRole));
        QVERIFY(!roles.contains(QAttachmentModel::AttachmentIdRole));
        QCOMPARE(model.data(model.index(5000, 0), QAttachmentModel::StateRole).toInt(),
                 int(State::QueuedDelete));
        QCOMPARE(model.data(model.index(4999, 0), QAttachmentModel::StateRole).toInt(),
                 int(State::QueuedDownload));
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(reset.count(), 0);
    }

    // Rows removed here and there, then all at once: every remaining id is
    // still found at its row, and clearing removes each row exactly once.
    void removalsKeepRowsFindable()
    {
        fillOffline(3000);
        QAttachmentModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setQueue(m_queue);
        // Unwatching every third id archives it, and a filter on the queued
        // states hides archived rows: 1,000 removals spread over the list.
        model.setStateFilter({int(State::QueuedDownload)});
        QList<QWatchedAttachmentItem> kept;
        for (const QWatchedAttachmentItem &item : watched(3000)) {
            if (item.id().mid(3).toInt() % 3 != 0)
                kept.append(item);
        }
        m_queue->setWatchedAttachments(kept);
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2000, 30000);
        for (int row = 0; row < model.rowCount(); ++row) {
            const QString id
                = model.data(model.index(row, 0), QAttachmentModel::AttachmentIdRole).toString();
            QCOMPARE(model.rowOf(id), row);
        }
        QCOMPARE(model.rowOf(QStringLiteral("id-00003")), -1);
        QCOMPARE(model.rowOf(QStringLiteral("id-00004")), 2);

        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QVERIFY(m_queue->clearQueue());
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(removed.count(), 2000);
        QCOMPARE(reset.count(), 0);
    }

    void savedFileIsOneInsertedRowAtTheEnd()
    {
        fillOffline(2000);
        QAttachmentModel model;
        model.setQueue(m_queue);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const QAttachment saved
            = m_queue->saveFile("new bytes", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QVERIFY(saved.isValid());
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 2000);
        QCOMPARE(model.rowOf(saved.id()), 2000);
        QCOMPARE(changed.count(), 0);
        const QModelIndex index = model.index(2000, 0);
        QCOMPARE(model.data(index, QAttachmentModel::StateRole).toInt(), int(State::QueuedUpload));
        // The file was written before the row: its URL is there at once.
        const QUrl url = model.data(index, QAttachmentModel::LocalUrlRole).toUrl();
        QVERIFY(url.isLocalFile());
        QVERIFY(QFileInfo::exists(url.toLocalFile()));
    }

    void finishedDeleteRemovesOnlyItsRow()
    {
        fillSynced(2000);
        QAttachmentModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setQueue(m_queue);
        QCOMPARE(model.rowCount(), 2000);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QVERIFY(m_queue->deleteFile(QStringLiteral("id-01000")));
        QTRY_COMPARE_WITH_TIMEOUT(removed.count(), 1, 10000);
        QCOMPARE(removed.first().at(1).toInt(), 1000);
        QCOMPARE(removed.first().at(2).toInt(), 1000);
        for (int i = 0; i < changed.count(); ++i)
            QCOMPARE(roleRow(changed, i), 1000);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.rowCount(), 1999);
        QCOMPARE(model.rowOf(QStringLiteral("id-01000")), -1);
        QCOMPARE(model.rowOf(QStringLiteral("id-01001")), 1000);
        QCOMPARE(model.data(model.index(1000, 0), QAttachmentModel::AttachmentIdRole).toString(),
                 QStringLiteral("id-01001"));
    }

    void progressUpdatesOnlyTheTransferringRow()
    {
        fillSynced(2000);
        QAttachmentModel model;
        model.setQueue(m_queue);
        m_remote->setChunkSize(64 * 1024);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy uploaded(m_queue, &QAttachmentQueue::uploadFinished);
        QList<double> progress;
        connect(&model, &QAbstractItemModel::dataChanged, this,
                [&](const QModelIndex &topLeft, const QModelIndex &, const QList<int> &roles) {
                    if (roles.contains(QAttachmentModel::ProgressRole)
                        && model.data(topLeft, QAttachmentModel::TransferringRole).toBool())
                        progress << model.data(topLeft, QAttachmentModel::ProgressRole).toDouble();
                });
        const QAttachment saved
            = m_queue->saveFile(TestSupport::randomBytes(1024 * 1024),
                                QStringLiteral("application/octet-stream"), QStringLiteral("bin"));
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 10000);
        const int row = model.rowOf(saved.id());
        QCOMPARE(row, 2000);
        QVERIFY(changed.count() >= 3);
        for (int i = 0; i < changed.count(); ++i)
            QCOMPARE(roleRow(changed, i), row);
        QVERIFY2(progress.size() >= 2, qPrintable(QString::number(progress.size())));
        QVERIFY(std::is_sorted(progress.cbegin(), progress.cend()));
        QVERIFY(progress.contains(1.0) || progress.last() > 0.5);
        const QModelIndex index = model.index(row, 0);
        QCOMPARE(model.data(index, QAttachmentModel::StateRole).toInt(), int(State::Synced));
        QCOMPARE(model.data(index, QAttachmentModel::TransferringRole).toBool(), false);
        // Synced: complete, for a progress bar that stays full.
        QCOMPARE(model.data(index, QAttachmentModel::ProgressRole).toDouble(), 1.0);
        model.setColumnsEnabled(true);
        QCOMPARE(model.data(model.index(row, QAttachmentModel::ProgressColumn)).toInt(), 100);
    }

    void rolesDescribeTheRow()
    {
        fillSynced(3);
        QAttachmentModel model;
        model.setQueue(m_queue);
        const QVariantMap row = model.get(1);
        QCOMPARE(row.value(QStringLiteral("attachmentId")).toString(), QStringLiteral("id-00001"));
        QCOMPARE(row.value(QStringLiteral("filename")).toString(), QStringLiteral("id-00001.jpg"));
        QCOMPARE(row.value(QStringLiteral("state")).toInt(), int(State::Synced));
        QCOMPARE(row.value(QStringLiteral("stateName")).toString(), QStringLiteral("synced"));
        QCOMPARE(row.value(QStringLiteral("size")).toLongLong(), 8);
        QCOMPARE(row.value(QStringLiteral("mediaType")).toString(), QStringLiteral("image/jpeg"));
        QCOMPARE(row.value(QStringLiteral("hasSynced")).toBool(), true);
        QVERIFY(row.value(QStringLiteral("timestamp")).toLongLong() > 0);
        QCOMPARE(row.value(QStringLiteral("progress")).toDouble(), 1.0);
        QCOMPARE(row.value(QStringLiteral("error")).toString(), QString());
        QCOMPARE(row.value(QStringLiteral("failing")).toBool(), false);
        const QUrl url = row.value(QStringLiteral("localUrl")).toUrl();
        QCOMPARE(url, QUrl::fromLocalFile(m_dir->path() + QStringLiteral("/files/id-00001.jpg")));
        QVERIFY(model.get(3).isEmpty());
    }

    void localUrlIsEmptyUntilDownloaded()
    {
        m_remote->setHold(true);
        QAttachmentModel model;
        model.setQueue(m_queue);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(watched(1, true));
        QCOMPARE(model.rowCount(), 1);
        const QModelIndex index = model.index(0, 0);
        QVERIFY(model.data(index, QAttachmentModel::LocalUrlRole).toUrl().isEmpty());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        m_remote->setHold(false);
        m_remote->release();
        QTRY_COMPARE_WITH_TIMEOUT(model.data(index, QAttachmentModel::StateRole).toInt(),
                                  int(State::Synced), 5000);
        QVERIFY(model.data(index, QAttachmentModel::LocalUrlRole).toUrl().isLocalFile());
        bool urlSignalled = false;
        for (const auto &args : std::as_const(changed))
            urlSignalled |= args.at(2).value<QList<int>>().contains(QAttachmentModel::LocalUrlRole);
        QVERIFY(urlSignalled);
    }

    void failureShowsTheErrorUntilTheStateChanges()
    {
        m_queue->setRetryDelay(60000);
        QAttachmentModel model;
        model.setQueue(m_queue);
        m_remote->failNext(
            QAttachmentTransfer::Download,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("boom"), 500));
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(watched(1, true));
        const QModelIndex index = model.index(0, 0);
        QTRY_COMPARE_WITH_TIMEOUT(model.data(index, QAttachmentModel::ErrorRole).toString(),
                                  QStringLiteral("boom"), 5000);
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(model.data(index, QAttachmentModel::StateRole).toInt(),
                                  int(State::Synced), 5000);
        QCOMPARE(model.data(index, QAttachmentModel::ErrorRole).toString(), QString());
    }

    void rereadRowsKeepTheirError()
    {
        // A model made after the failure, another filter or reload() reads the
        // rows again; the failure is still the row's until its state changes.
        m_queue->setRetryDelay(60000);
        m_remote->failNext(
            QAttachmentTransfer::Download,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("boom"), 500));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QVERIFY(m_queue->startSync());
        m_queue->setWatchedAttachments(watched(2, true));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        const QString failedId = failed.first().at(0).toString();
        QTRY_VERIFY_WITH_TIMEOUT(m_queue->pendingDownloads() == 1 && m_queue->isIdle(), 5000);

        QAttachmentModel model;
        model.setQueue(m_queue);
        QCOMPARE(model.rowCount(), 2);
        const auto errorOf = [&](const QString &id) {
            return model.data(model.index(model.rowOf(id), 0), QAttachmentModel::ErrorRole)
                .toString();
        };
        QCOMPARE(errorOf(failedId), QStringLiteral("boom"));
        model.setStateFilter({int(State::QueuedDownload)});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(errorOf(failedId), QStringLiteral("boom"));
        model.reload();
        QCOMPARE(errorOf(failedId), QStringLiteral("boom"));
        model.setStateFilter({});
        for (int row = 0; row < model.rowCount(); ++row) {
            const QString id
                = model.data(model.index(row, 0), QAttachmentModel::AttachmentIdRole).toString();
            if (id != failedId)
                QCOMPARE(errorOf(id), QString());
        }
    }

    void stateFilterMovesRowsInAndOut()
    {
        fillOffline(3);
        const QAttachment saved
            = m_queue->saveFile("x", QStringLiteral("text/plain"), QStringLiteral("txt"));
        QAttachmentModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setQueue(m_queue);
        QSignalSpy filterChanged(&model, &QAttachmentModel::stateFilterChanged);
        model.setStateFilter({int(State::QueuedUpload)});
        QCOMPARE(filterChanged.count(), 1);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.rowOf(saved.id()), 0);

        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QVERIFY(m_queue->deleteFile(saved.id()));
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowCount(), 0);

        model.setStateFilter({int(State::QueuedDelete), int(State::QueuedDownload)});
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.rowOf(saved.id()), 3); // insertion order is kept
        QCOMPARE(model.rowOf(QStringLiteral("id-00000")), 0);

        // A row coming into the filter returns to its place.
        model.setStateFilter({int(State::QueuedDelete)});
        QCOMPARE(model.rowCount(), 1);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QVERIFY(m_queue->deleteFile(QStringLiteral("id-00001")));
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 0);
        QCOMPARE(model.rowOf(QStringLiteral("id-00001")), 0);
        QCOMPARE(model.rowOf(saved.id()), 1);

        model.setStateFilter({});
        QCOMPARE(model.rowCount(), 4);
    }

    void columnsForTableViews()
    {
        fillOffline(2);
        QAttachmentModel model;
        model.setQueue(m_queue);
        QCOMPARE(model.columnCount(), 1);
        model.setColumnsEnabled(true);
        QCOMPARE(model.columnCount(), int(QAttachmentModel::ColumnCount));
        QCOMPARE(model.data(model.index(1, QAttachmentModel::StateColumn)).toString(),
                 QStringLiteral("queuedDownload"));
        QCOMPARE(model.headerData(QAttachmentModel::FilenameColumn, Qt::Horizontal).toString(),
                 QStringLiteral("File"));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QVERIFY(m_queue->deleteFile(QStringLiteral("id-00001")));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(1).toModelIndex().column(),
                 int(QAttachmentModel::ColumnCount) - 1);
    }

    void dataChangedNamesEveryChangedRole()
    {
        // Proxies and QML delegates refresh only the roles a dataChanged() names.
        QAttachmentModel model;
        model.setColumnsEnabled(true);
        model.setQueue(m_queue);
        const QList<int> roles {Qt::DisplayRole,
                                Qt::ToolTipRole,
                                QAttachmentModel::StateRole,
                                QAttachmentModel::ProgressRole,
                                QAttachmentModel::TransferringRole,
                                QAttachmentModel::ErrorRole,
                                QAttachmentModel::FailingRole};
        using Snapshot = QMap<std::pair<int, int>, QVariant>;
        const auto snapshot = [&](int row) {
            Snapshot values;
            for (int column = 0; column < model.columnCount(); ++column) {
                for (int role : roles)
                    values.insert({column, role}, model.data(model.index(row, column), role));
            }
            return values;
        };
        Snapshot last;
        QStringList unnamed;
        int changes = 0;
        connect(&model, &QAbstractItemModel::rowsInserted, this,
                [&](const QModelIndex &, int first) { last = snapshot(first); });
        connect(&model, &QAbstractItemModel::dataChanged, this,
                [&](const QModelIndex &topLeft, const QModelIndex &, const QList<int> &named) {
                    ++changes;
                    const Snapshot now = snapshot(topLeft.row());
                    for (auto it = now.cbegin(); it != now.cend(); ++it) {
                        if (it.value() != last.value(it.key()) && !named.contains(it.key().second))
                            unnamed << QStringLiteral("column %1 role %2")
                                           .arg(it.key().first)
                                           .arg(it.key().second);
                    }
                    last = now;
                });

        m_queue->setRetryDelay(60000);
        m_remote->setChunkSize(16 * 1024);
        m_remote->failNext(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::ServerError, QStringLiteral("boom"), 500));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        QSignalSpy uploaded(m_queue, &QAttachmentQueue::uploadFinished);
        QVERIFY(m_queue
                    ->saveFile(TestSupport::randomBytes(128 * 1024),
                               QStringLiteral("application/octet-stream"), QStringLiteral("bin"))
                    .isValid());
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 5000);
        QVERIFY(changes >= 4);
        QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral(", "))));
    }

    void failingRowsCarryTheirErrorInARoleAndAColumn()
    {
        QAttachmentModel model;
        model.setColumnsEnabled(true);
        model.setQueue(m_queue);
        QCOMPARE(model.headerData(QAttachmentModel::ErrorColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Error"));
        m_queue->setRetryDelay(60000);
        m_remote->failNext(
            QAttachmentTransfer::Upload,
            QAttachmentError(QAttachmentError::Unauthorized, QStringLiteral("token expired"), 401));
        QSignalSpy failed(m_queue, &QAttachmentQueue::transferFailed);
        const QAttachment saved = m_queue->saveFile(QByteArray("x"), QStringLiteral("text/plain"),
                                                    QStringLiteral("txt"));
        QVERIFY(m_queue->startSync());
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 5000);
        const int row = model.rowOf(saved.id());
        QCOMPARE(model.data(model.index(row, 0), QAttachmentModel::FailingRole).toBool(), true);
        QCOMPARE(model.data(model.index(row, QAttachmentModel::ErrorColumn)).toString(),
                 QStringLiteral("token expired"));
        QCOMPARE(model.data(model.index(row, 0), QAttachmentModel::ProgressRole).toDouble(), 0.0);
        QSignalSpy uploaded(m_queue, &QAttachmentQueue::uploadFinished);
        m_queue->retryFailed();
        QTRY_COMPARE_WITH_TIMEOUT(uploaded.count(), 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(
            model.data(model.index(row, 0), QAttachmentModel::FailingRole).toBool(), false, 5000);
        QCOMPARE(model.data(model.index(row, QAttachmentModel::ErrorColumn)).toString(), QString());
        QCOMPARE(model.data(model.index(row, 0), QAttachmentModel::ProgressRole).toDouble(), 1.0);
    }

    void queueOfAnotherThreadIsRefused()
    {
        QThread worker; // never started: only the affinity matters
        QAttachmentModel model;
        model.moveToThread(&worker);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("queue lives in another thread"));
        model.setQueue(m_queue);
        QCOMPARE(model.queue(), nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void queueDestroyedLeavesAnEmptyModel()
    {
        fillOffline(2);
        QAttachmentModel model;
        model.setQueue(m_queue);
        QSignalSpy queueChanged(&model, &QAttachmentModel::queueChanged);
        delete m_queue;
        m_queue = nullptr;
        QCOMPARE(model.queue(), nullptr);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(queueChanged.count(), 1);
    }
};

QTEST_MAIN(tst_Model)
#include "tst_model.moc"
