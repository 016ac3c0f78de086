import QtQuick
import QtQml.Models
import QtTest
import PowerSync.Attachments
import AttachmentsTest

TestCase {
    id: testCase
    name: "AttachmentModel"

    Component {
        id: queueComponent
        AttachmentQueue {
            syncInterval: 0
            retryDelay: 20
            defaultFileExtension: "txt"
        }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }
    Component {
        id: modelComponent
        AttachmentModel {}
    }
    // Reads every role the way a delegate does.
    Component {
        id: instantiatorComponent
        Instantiator {
            delegate: QtObject {
                required property var model
                readonly property string attachmentId: model.attachmentId
                readonly property string filename: model.filename
                readonly property url localUrl: model.localUrl
                readonly property int state: model.state
                readonly property string stateName: model.stateName
                readonly property real size: model.size
                readonly property string mediaType: model.mediaType
                readonly property bool hasSynced: model.hasSynced
                readonly property string metaData: model.metaData
                readonly property real timestamp: model.timestamp
                readonly property real progress: model.progress
                readonly property bool transferring: model.transferring
                readonly property string error: model.error
                readonly property var nextRetry: model.nextRetry
                readonly property bool failing: model.failing
            }
        }
    }

    property string db
    property var remote

    function createQueue(properties) {
        db = TestEnv.openDatabase()
        remote = TestEnv.newRemote()
        const settings = { connectionName: db, localDirectory: TestEnv.newDirectory(), remoteStorage: remote }
        for (const key in properties)
            settings[key] = properties[key]
        return createTemporaryObject(queueComponent, testCase, settings)
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, { target: target, signalName: signalName })
    }

    function test_rolesOfASavedFile() {
        const queue = createQueue({})
        const saved = queue.saveFile("hello", "text/plain", "txt", null, "{\"room\":3}")
        const rows = createTemporaryObject(instantiatorComponent, testCase, { model: queue.model })
        compare(rows.count, 1)
        const row = rows.objectAt(0)
        compare(row.attachmentId, saved.id)
        compare(row.filename, saved.id + ".txt")
        compare(row.state, AttachmentState.QueuedUpload)
        compare(row.stateName, "queuedUpload")
        compare(row.size, 5)
        compare(row.mediaType, "text/plain")
        compare(row.hasSynced, false)
        compare(row.metaData, "{\"room\":3}")
        verify(row.timestamp > 0)
        compare(row.progress, 0)
        compare(row.transferring, false)
        compare(row.error, "")
        verify(String(row.localUrl).startsWith("file:///"))
        compare(TestEnv.readFile(row.localUrl), "hello")
    }

    function test_rolesFollowTheUpload() {
        const queue = createQueue({})
        const saved = queue.saveFile("hello", "text/plain", "txt")
        const rows = createTemporaryObject(instantiatorComponent, testCase, { model: queue.model })
        const row = rows.objectAt(0)
        remote.hold(true)
        queue.syncing = true
        tryCompare(row, "transferring", true)
        remote.releaseHeld()
        tryCompare(row, "state", AttachmentState.Synced)
        compare(row.hasSynced, true)
        compare(row.transferring, false)
        verify(remote.hasObject(saved.filename))
    }

    function test_localUrlIsEmptyUntilDownloaded() {
        const queue = createQueue({ syncing: true })
        remote.putObject("p.txt", "downloaded")
        remote.hold(true)
        queue.setWatchedAttachments(["p"])
        const rows = createTemporaryObject(instantiatorComponent, testCase, { model: queue.model })
        compare(rows.count, 1)
        const row = rows.objectAt(0)
        compare(row.state, AttachmentState.QueuedDownload)
        compare(String(row.localUrl), "")
        remote.hold(false)
        tryCompare(row, "state", AttachmentState.Synced)
        compare(TestEnv.readFile(row.localUrl), "downloaded")
    }

    function test_updatesAreIncremental() {
        const queue = createQueue({})
        for (let i = 0; i < 20; ++i)
            queue.saveFile("file " + i, "text/plain", "txt")
        const model = queue.model
        compare(model.count, 20)
        const inserted = spy(model, "rowsInserted")
        const removed = spy(model, "rowsRemoved")
        const changed = spy(model, "dataChanged")
        const reset = spy(model, "modelReset")
        const counted = spy(model, "countChanged")

        const saved = queue.saveFile("one more", "text/plain", "txt")
        compare(inserted.count, 1)
        compare(inserted.signalArguments[0][1], 20)
        compare(inserted.signalArguments[0][2], 20)
        compare(changed.count, 0)
        compare(model.count, 21)
        compare(counted.count, 1)

        const victim = model.get(7).attachmentId
        verify(queue.deleteFile(victim))
        compare(changed.count, 1)
        compare(changed.signalArguments[0][0].row, 7)
        compare(changed.signalArguments[0][1].row, 7)
        compare(model.get(7).state, AttachmentState.QueuedDelete)

        queue.syncing = true
        tryCompare(removed, "count", 1)
        compare(removed.signalArguments[0][1], 7)
        compare(removed.signalArguments[0][2], 7)
        compare(model.count, 20)
        compare(model.rowOf(victim), -1)
        compare(model.rowOf(saved.id), 19)
        compare(reset.count, 0)
        tryCompare(queue, "pendingUploads", 0)
        compare(reset.count, 0)
        compare(inserted.count, 1)
    }

    function test_standaloneModelWithStateFilter() {
        const queue = createQueue({})
        const uploads = createTemporaryObject(modelComponent, testCase, {
            queue: queue, stateFilter: [AttachmentState.QueuedUpload]
        })
        const deletes = createTemporaryObject(modelComponent, testCase, {
            queue: queue, stateFilter: [AttachmentState.QueuedDelete]
        })
        const first = queue.saveFile("a", "text/plain", "txt")
        const second = queue.saveFile("b", "text/plain", "txt")
        compare(uploads.count, 2)
        compare(deletes.count, 0)
        const filterSpy = spy(uploads, "stateFilterChanged")

        verify(queue.deleteFile(first.id))
        compare(uploads.count, 1)
        compare(uploads.get(0).attachmentId, second.id)
        compare(deletes.count, 1)
        compare(deletes.get(0).attachmentId, first.id)

        uploads.stateFilter = []
        compare(filterSpy.count, 1)
        compare(uploads.count, 2)
        compare(uploads.get(0).attachmentId, first.id)
        uploads.stateFilter = [AttachmentState.Synced]
        compare(uploads.count, 0)
        queue.syncing = true
        tryCompare(uploads, "count", 1)
        compare(uploads.get(0).attachmentId, second.id)
    }

    Component {
        id: shadowedQueueComponent
        // The trap: `queue: queue` binds the model's property to itself.
        Item {
            property alias rows: model
            AttachmentModel {
                id: model
                queue: queue
            }
        }
    }

    function test_modelWithoutQueueSaysSoOnce() {
        ignoreWarning(/AttachmentModel has no queue, so it shows no rows/)
        const holder = createTemporaryObject(shadowedQueueComponent, testCase)
        compare(holder.rows.queue, null)
        wait(0) // the check waits for bindings evaluated after completion
        failOnWarning(/has no queue/)
        wait(0)
    }

    function test_modelGivenItsQueueLaterSaysNothing() {
        failOnWarning(/has no queue/)
        const model = createTemporaryObject(modelComponent, testCase)
        model.queue = createQueue({})
        wait(0)
        model.queue = null // taken away on purpose
        wait(0)
        compare(model.count, 0)
    }

    Component {
        id: thumbnailComponent
        AttachmentThumbnail {}
    }

    function test_thumbnailDecodesAtTheSizeShown() {
        const queue = createQueue({})
        const saved = queue.saveFile(TestEnv.pngBytes(800, 600), "image/png", "png")
        const rows = createTemporaryObject(instantiatorComponent, testCase, { model: queue.model })
        const thumbnail = createTemporaryObject(thumbnailComponent, testCase,
                                                { localUrl: rows.objectAt(0).localUrl, size: 80 })
        compare(thumbnail.asynchronous, true)
        tryCompare(thumbnail, "status", Image.Ready)
        // Loaded to fill the 80x80 square (107x80), not at 800x600.
        compare(thumbnail.implicitHeight, 80)
        compare(thumbnail.implicitWidth, 107)
        compare(thumbnail.width, 80)
        compare(thumbnail.height, 80)
        verify(saved.id.length > 0)
    }

    function test_modelDeclaredBeforeItsQueue() {
        const model = createTemporaryObject(modelComponent, testCase)
        compare(model.count, 0)
        const queue = createQueue({})
        queue.saveFile("a", "text/plain", "txt")
        model.queue = queue
        compare(model.count, 1)
        model.queue = null
        compare(model.count, 0)
    }

    function test_errorRole() {
        const queue = createQueue({ retryDelay: 60000, syncing: true })
        remote.putObject("e.txt", "E")
        remote.failNextDownload("server on fire")
        queue.setWatchedAttachments(["e"])
        const rows = createTemporaryObject(instantiatorComponent, testCase, { model: queue.model })
        const row = rows.objectAt(0)
        tryCompare(row, "error", "server on fire")
        compare(row.failing, true)
        verify(row.nextRetry.getTime() > Date.now(), row.nextRetry)
        queue.retryFailed()
        tryCompare(row, "state", AttachmentState.Synced)
        compare(row.error, "")
        compare(row.failing, false)
        compare(row.progress, 1.0) // synced: a full progress bar
        compare(isNaN(row.nextRetry.getTime()), true)
    }

    Component {
        id: listViewComponent
        ListView {
            width: 200
            height: 400
            delegate: Text {
                required property string filename
                required property int state
                height: 20
                text: filename + " " + state
            }
        }
    }

    // 10,000 rows in a view: one change touches one row, nothing is rebuilt.
    function test_tenThousandRowsInAView() {
        const queue = createQueue({ online: false, syncing: true })
        const ids = []
        for (let i = 0; i < 10000; ++i)
            ids.push("id-" + i)
        queue.setWatchedAttachments(ids)
        const model = queue.model
        // Thousands of rows are written in slices from the event loop.
        tryCompare(model, "count", 10000, 30000)

        const view = createTemporaryObject(listViewComponent, testCase, { model: model })
        compare(view.count, 10000)
        const inserted = spy(model, "rowsInserted")
        const removed = spy(model, "rowsRemoved")
        const changed = spy(model, "dataChanged")
        const reset = spy(model, "modelReset")

        verify(queue.deleteFile("id-5000"))
        compare(changed.count, 1)
        compare(changed.signalArguments[0][0].row, 5000)
        compare(changed.signalArguments[0][1].row, 5000)
        compare(model.get(5000).state, AttachmentState.QueuedDelete)
        compare(model.get(4999).state, AttachmentState.QueuedDownload)
        compare(inserted.count, 0)
        compare(removed.count, 0)
        compare(reset.count, 0)

        // No longer referenced: archived, one row changed again (the
        // 10,000 rows are read again in slices from the event loop).
        ids.splice(9999, 1)
        queue.setWatchedAttachments(ids)
        tryCompare(changed, "count", 2, 30000)
        compare(changed.signalArguments[1][0].row, 9999)
        compare(model.get(9999).state, AttachmentState.Archived)
        compare(reset.count, 0)
        compare(view.count, 10000)
    }
}
