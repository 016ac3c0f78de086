import QtQuick
import QtTest
import PowerSync.Attachments
import AttachmentsTest

TestCase {
    id: testCase
    name: "AttachmentQueue"

    Component {
        id: queueComponent
        AttachmentQueue {
            syncInterval: 0
            retryDelay: 20
        }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }

    property string db
    property var remote

    function createQueue(properties) {
        db = TestEnv.openDatabase()
        remote = TestEnv.newRemote()
        const settings = {
            connectionName: db,
            localDirectory: TestEnv.newDirectory(),
            remoteStorage: remote
        }
        for (const key in properties)
            settings[key] = properties[key]
        const queue = createTemporaryObject(queueComponent, testCase, settings)
        verify(queue, "queue created")
        return queue
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, { target: target, signalName: signalName })
    }
    function photoOf(itemId) {
        const rows = TestEnv.query(db, "SELECT photo_id FROM checklists WHERE id = ?", [itemId])
        return rows.length ? rows[0].photo_id : "<no row>"
    }
    function queueRows() {
        return TestEnv.query(db, "SELECT COUNT(*) AS n FROM attachments_queue")[0].n
    }

    function test_defaults() {
        const queue = createTemporaryObject(queueComponent, testCase)
        compare(queue.syncing, false)
        compare(queue.tableName, "attachments_queue")
        compare(queue.archivedCacheLimit, 100)
        compare(queue.downloadAttachments, true)
        compare(queue.defaultFileExtension, "")
        compare(queue.syncInterval, 0)
        compare(queue.pendingUploads, 0)
        compare(queue.pendingDownloads, 0)
        compare(queue.pendingDeletes, 0)
        verify(queue.model !== null)
        compare(queue.model.count, 0)
    }

    function test_propertiesNotify() {
        const queue = createQueue({})
        const extensionSpy = spy(queue, "defaultFileExtensionChanged")
        queue.defaultFileExtension = "jpg"
        compare(queue.defaultFileExtension, "jpg")
        compare(extensionSpy.count, 1)
        const tablesSpy = spy(queue, "watchTablesChanged")
        queue.watchTables = ["checklists"]
        compare(tablesSpy.count, 1)
        compare(queue.watchTables, ["checklists"])
        const limitSpy = spy(queue, "archivedCacheLimitChanged")
        queue.archivedCacheLimit = 5
        compare(limitSpy.count, 1)
        const downloadSpy = spy(queue, "downloadAttachmentsChanged")
        queue.downloadAttachments = false
        compare(downloadSpy.count, 1)
        const storageSpy = spy(queue, "remoteStorageChanged")
        queue.remoteStorage = null
        compare(storageSpy.count, 1)
        compare(queue.remoteStorage, null)
    }

    function test_syncingStartsAndStops() {
        const queue = createQueue({ syncing: true })
        verify(queue.syncing)
        const syncingSpy = spy(queue, "syncingChanged")
        queue.syncing = false
        compare(syncingSpy.count, 1)
        verify(!queue.syncing)
        queue.syncing = true
        verify(queue.syncing)
        compare(queue.errorString, "")
    }

    function test_syncingFailsWithoutDatabase() {
        const remote = TestEnv.newRemote() // held here: the queue does not own it
        const queue = createTemporaryObject(queueComponent, testCase, {
            connectionName: "no-such-connection", localDirectory: TestEnv.newDirectory(),
            remoteStorage: remote
        })
        ignoreWarning(/.*/)
        const errors = spy(queue, "errorOccurred")
        queue.syncing = true
        verify(!queue.syncing)
        verify(errors.count > 0)
        verify(queue.errorString.indexOf("no-such-connection") >= 0, queue.errorString)
    }

    function test_saveFileHookCommitsBothRows() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        let seen = null
        const saved = queue.saveFile("hello", "text/plain", "txt", function (tx, attachment) {
            seen = attachment.id
            tx.execute("UPDATE checklists SET photo_id = ? WHERE id = ?", [attachment.id, 1])
        })
        verify(saved.valid)
        compare(seen, saved.id)
        compare(photoOf(1), saved.id)
        compare(queueRows(), 1)
        compare(saved.state, AttachmentState.QueuedUpload)
        compare(queue.attachment(saved.id).state, AttachmentState.QueuedUpload)
        compare(saved.filename, saved.id + ".txt")
        compare(TestEnv.readFile(queue.localUrl(saved.id)), "hello")
        compare(queue.errorString, "")
    }

    function test_hookCanReadInsideTheTransaction() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (7, 'Door')")
        let rows = null
        queue.saveFile("x", "text/plain", "txt", function (tx, attachment) {
            compare(tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 7", [attachment.id]), 1)
            rows = tx.execute("SELECT id, title, photo_id FROM checklists")
        })
        compare(rows.length, 1)
        compare(rows[0].id, 7)
        compare(rows[0].title, "Door")
    }

    function test_throwingHookRollsBackBothRows() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        let caught = null
        try {
            queue.saveFile("hello", "text/plain", "txt", function (tx, attachment) {
                tx.execute("UPDATE checklists SET photo_id = ? WHERE id = ?", [attachment.id, 1])
                throw new Error("no photo today")
            })
        } catch (e) {
            caught = e
        }
        verify(caught !== null, "the hook's error reaches the caller")
        compare(caught.message, "no photo today")
        compare(photoOf(1), null)
        compare(queueRows(), 0)
        verify(queue.errorString.indexOf("no photo today") >= 0, queue.errorString)
    }

    function test_throwingNonErrorValueRollsBack() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        let caught = null
        try {
            queue.saveFile("hello", "text/plain", "txt", function (tx, attachment) {
                tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 1", [attachment.id])
                throw "plain string"
            })
        } catch (e) {
            caught = e
        }
        compare(caught, "plain string")
        compare(photoOf(1), null)
        compare(queueRows(), 0)
    }

    function test_hookReturningFalseRollsBack() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        const saved = queue.saveFile("hello", "text/plain", "txt", function (tx, attachment) {
            tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 1", [attachment.id])
            return false
        })
        verify(!saved.valid)
        compare(photoOf(1), null)
        compare(queueRows(), 0)
        verify(queue.errorString !== "")
    }

    function test_failedStatementRollsBackEvenWhenCaught() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        let statementError = null
        const saved = queue.saveFile("hello", "text/plain", "txt", function (tx, attachment) {
            tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 1", [attachment.id])
            try {
                tx.execute("INSERT INTO no_such_table VALUES (1)")
            } catch (e) {
                statementError = e
            }
        })
        verify(statementError !== null)
        verify(!saved.valid)
        compare(photoOf(1), null)
        compare(queueRows(), 0)
    }

    function test_saveFileFromUrl() {
        const queue = createQueue({})
        const url = TestEnv.writeTempFile("note.md", "from a file")
        const saved = queue.saveFile(url, "text/markdown")
        verify(saved.valid, queue.errorString)
        compare(saved.filename, saved.id + ".md")
        compare(saved.mediaType, "text/markdown")
        compare(TestEnv.readFile(queue.localUrl(saved.id)), "from a file")
    }

    function test_saveFileFromArrayBuffer() {
        const queue = createQueue({})
        const data = TestEnv.bytes(4096)
        verify(data instanceof ArrayBuffer)
        const saved = queue.saveFile(data, "application/octet-stream", "bin", null, "{\"n\":1}")
        verify(saved.valid, queue.errorString)
        compare(saved.size, 4096)
        compare(saved.metaData, "{\"n\":1}")
    }

    function test_saveFileRefusesPathsAndUrlsAsContent_data() {
        return [
            { tag: "absolute path", data: "/home/me/photo.png" },
            { tag: "home path", data: "~/photo.png" },
            { tag: "windows path", data: "C:\\Users\\me\\photo.png" },
            { tag: "qrc url", data: "qrc:/images/photo.png" },
            { tag: "content uri", data: "content://media/external/images/12" },
            { tag: "http url", data: "https://example.com/photo.png" },
            { tag: "remote url object", data: Qt.url("https://example.com/photo.png") },
        ]
    }
    function test_saveFileRefusesPathsAndUrlsAsContent(row) {
        const queue = createQueue({})
        const saved = queue.saveFile(row.data, "image/png", "png")
        verify(!saved.valid)
        verify(queue.errorString.indexOf("saveText()") >= 0, queue.errorString)
        compare(queueRows(), 0)
    }

    function test_saveTextStoresAnyText() {
        const queue = createQueue({})
        const saved = queue.saveText("/home/me/photo.png", "text/plain", "txt")
        verify(saved.valid, queue.errorString)
        compare(TestEnv.readFile(queue.localUrl(saved.id)), "/home/me/photo.png")
        const note = queue.saveFile("Note: two lines\n/and a slash", "text/plain", "txt")
        verify(note.valid, queue.errorString)
        compare(queueRows(), 2)
    }

    function test_saveFileRejectsOtherData() {
        const queue = createQueue({})
        const saved = queue.saveFile({ not: "data" }, "text/plain", "txt")
        verify(!saved.valid)
        verify(queue.errorString !== "")
        compare(queueRows(), 0)
    }

    function test_savedFileIsUploadedWhileRunning() {
        const queue = createQueue({ syncing: true })
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("payload", "text/plain", "txt")
        uploaded.wait(5000)
        compare(uploaded.signalArguments[0][0].id, saved.id)
        verify(remote.hasObject(saved.filename))
        compare(remote.objectText(saved.filename), "payload")
        tryCompare(queue, "pendingUploads", 0)
        compare(queue.attachment(saved.id).state, AttachmentState.Synced)
        compare(queue.attachment(saved.id).hasSynced, true)
    }

    function test_deleteFileRunsTheHookInTheSameTransaction() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        const saved = queue.saveFile("hello", "text/plain", "txt", function (tx, a) {
            tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 1", [a.id])
        })
        verify(queue.deleteFile(saved.id, function (tx, a) {
            compare(a.id, saved.id)
            tx.execute("UPDATE checklists SET photo_id = NULL WHERE photo_id = ?", [a.id])
        }))
        compare(photoOf(1), null)
        compare(queue.attachment(saved.id).state, AttachmentState.QueuedDelete)

        const removed = spy(queue, "attachmentRemoved")
        queue.syncing = true
        removed.wait(5000)
        compare(removed.signalArguments[0][0], saved.id)
        verify(!queue.attachment(saved.id).valid)
        verify(!remote.hasObject(saved.filename))
    }

    function test_deleteFileWithThrowingHookKeepsEverything() {
        const queue = createQueue({})
        TestEnv.exec(db, "INSERT INTO checklists (id, title) VALUES (1, 'Roof')")
        const saved = queue.saveFile("hello", "text/plain", "txt", function (tx, a) {
            tx.execute("UPDATE checklists SET photo_id = ? WHERE id = 1", [a.id])
        })
        let caught = null
        try {
            queue.deleteFile(saved.id, function (tx, a) {
                tx.execute("UPDATE checklists SET photo_id = NULL WHERE id = 1")
                throw new Error("keep it")
            })
        } catch (e) {
            caught = e
        }
        compare(caught.message, "keep it")
        compare(photoOf(1), saved.id)
        compare(queue.attachment(saved.id).state, AttachmentState.QueuedUpload)
    }

    function test_deleteFileWithoutHook() {
        const queue = createQueue({})
        const saved = queue.saveFile("hello", "text/plain", "txt")
        verify(queue.deleteFile(saved.id))
        compare(queue.attachment(saved.id).state, AttachmentState.QueuedDelete)
        verify(!queue.deleteFile("unknown-id"))
        verify(queue.errorString !== "")
    }

    function test_watchQueryDownloadsReferencedFiles() {
        const queue = createQueue({
            watchQuery: "SELECT photo_id AS id FROM checklists WHERE photo_id IS NOT NULL",
            watchTables: ["checklists"],
            defaultFileExtension: "jpg",
            syncing: true
        })
        remote.putObject("p1.jpg", "remote photo")
        const downloaded = spy(queue, "downloadFinished")
        TestEnv.exec(db, "INSERT INTO checklists (id, title, photo_id) VALUES (1, 'Roof', 'p1')")
        queue.refreshWatchQuery()
        downloaded.wait(5000)
        const row = queue.attachment("p1")
        compare(row.state, AttachmentState.Synced)
        compare(row.filename, "p1.jpg")
        compare(TestEnv.readFile(queue.localUrl("p1")), "remote photo")
    }

    // A QML-only app: the queue opens its SQLite file, the app creates and
    // fills its own table through the queue, and the watch query follows it.
    function test_databaseFromQmlAlone() {
        const dir = TestEnv.newDirectory()
        remote = TestEnv.newRemote()
        const queue = createTemporaryObject(queueComponent, testCase, {
            databasePath: "file://" + dir + "/data/app.sqlite",
            localDirectory: dir + "/files",
            remoteStorage: remote,
            watchQuery: "SELECT photo_id AS id FROM checklists WHERE photo_id IS NOT NULL",
            watchTables: ["checklists"],
            defaultFileExtension: "jpg"
        })
        compare(queue.errorString, "")
        verify(queue.connectionName.length > 0)
        compare(queue.execute("CREATE TABLE checklists (id INTEGER PRIMARY KEY, title TEXT, photo_id TEXT)"), 0)
        compare(queue.execute("INSERT INTO checklists (id, title, photo_id) VALUES (?, ?, ?)",
                              [1, "Roof", "p1"]), 1)
        compare(queue.execute("SELECT title FROM checklists WHERE id = ?", [1])[0].title, "Roof")
        remote.putObject("p1.jpg", "remote photo")
        const downloaded = spy(queue, "downloadFinished")
        queue.syncing = true
        compare(queue.errorString, "")
        downloaded.wait(5000)
        compare(TestEnv.readFile(queue.localUrl("p1")), "remote photo")
        verify(TestEnv.fileExists(TestEnv.fileUrl(dir + "/data/app.sqlite")))
        compare(queue.execute("SELECT COUNT(*) AS n FROM attachments_queue")[0].n, 1)
        // A row written through execute() is seen by the watch query at once.
        remote.putObject("p2.jpg", "second photo")
        queue.execute("INSERT INTO checklists (id, title, photo_id) VALUES (2, 'Wall', 'p2')")
        tryCompare(downloaded, "count", 2, 5000)
        compare(TestEnv.readFile(queue.localUrl("p2")), "second photo")
    }

    function test_databasePathRefusesRelativePaths() {
        const queue = createTemporaryObject(queueComponent, testCase, { databasePath: "app.sqlite" })
        verify(queue.errorString.indexOf("absolute") >= 0, queue.errorString)
        compare(queue.connectionName, "")
        let threw = false
        try {
            queue.execute("SELECT 1")
        } catch (e) {
            threw = true
            verify(String(e).indexOf("no open database") >= 0, String(e))
        }
        verify(threw)
    }

    function test_executeThrowsOnBadSql() {
        const dir = TestEnv.newDirectory()
        const queue = createTemporaryObject(queueComponent, testCase, { databasePath: dir + "/a.sqlite" })
        compare(queue.errorString, "")
        let threw = false
        try {
            queue.execute("SELEC nothing")
        } catch (e) {
            threw = true
        }
        verify(threw)
    }

    function test_statusOfAnAttachment() {
        const queue = createQueue({})
        const saved = queue.saveFile("x", "text/plain", "txt")
        const status = queue.status(saved.id)
        compare(status.attachment.id, saved.id)
        compare(status.attachment.state, AttachmentState.QueuedUpload)
        compare(status.transferring, false)
        compare(status.bytesDone, -1)
        compare(status.lastError.code, AttachmentError.NoError)
        compare(queue.status("no-such-id").attachment.valid, false)
    }

    function test_setWatchedAttachmentsPushesIds() {
        const queue = createQueue({ defaultFileExtension: "txt", syncing: true })
        remote.putObject("a.txt", "A")
        remote.putObject("b.pdf", "B")
        queue.setWatchedAttachments(["a", { id: "b", filename: "b.pdf", metaData: "m" }])
        tryCompare(queue, "pendingDownloads", 0)
        tryVerify(function () { return queue.attachment("b").state === AttachmentState.Synced })
        compare(queue.attachment("a").state, AttachmentState.Synced)
        compare(queue.attachment("b").metaData, "m")
        compare(TestEnv.readFile(queue.localUrl("b")), "B")
    }

    function test_transferSignalsCarryKindAndError() {
        const queue = createQueue({ defaultFileExtension: "txt", retryDelay: 60000 })
        remote.putObject("a.txt", "A")
        remote.failNextDownload("boom")
        const failed = spy(queue, "transferFailed")
        const started = spy(queue, "transferStarted")
        queue.syncing = true
        queue.setWatchedAttachments(["a"])
        failed.wait(5000)
        const args = failed.signalArguments[0]
        compare(args[0], "a")
        compare(args[1], AttachmentTransfer.Download)
        compare(args[2].message, "boom")
        compare(args[2].httpStatus, 500)
        compare(args[2].code, AttachmentError.ServerError)
        compare(args[3], true)
        verify(started.count >= 1)
        compare(started.signalArguments[0][1], AttachmentTransfer.Download)
        queue.retryFailed()
        tryVerify(function () { return queue.attachment("a").state === AttachmentState.Synced })
    }
}
