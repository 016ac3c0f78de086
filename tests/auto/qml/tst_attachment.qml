import QtQuick
import QtTest
import PowerSync.Attachments
import AttachmentsTest

Item {
    id: root
    width: 200
    height: 200

    Component {
        id: queueComponent
        AttachmentQueue {
            syncInterval: 0
            retryDelay: 20
            defaultFileExtension: "txt"
        }
    }
    Component {
        id: attachmentComponent
        Attachment {}
    }
    Component {
        id: imageComponent
        Image {
            property alias attachment: photo
            width: 50
            height: 50
            source: photo.localUrl
            Attachment {
                id: photo
            }
        }
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }

    TestCase {
        id: testCase
        name: "Attachment"
        when: windowShown

        property string db
        property var remote

        function createQueue(properties) {
            db = TestEnv.openDatabase()
            remote = TestEnv.newRemote()
            const settings = { connectionName: db, localDirectory: TestEnv.newDirectory(), remoteStorage: remote }
            for (const key in properties)
                settings[key] = properties[key]
            return createTemporaryObject(queueComponent, root, settings)
        }

        function test_unknownIdIsEmpty() {
            const queue = createQueue({})
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: "nope" })
            compare(a.exists, false)
            compare(a.ready, false)
            compare(String(a.localUrl), "")
            compare(a.progress, 0)
            compare(a.stateName, "")
        }

        function test_idWithoutQueueWarnsOnce() {
            ignoreWarning(/Attachment "lonely" has no queue, so it shows nothing/)
            const a = createTemporaryObject(attachmentComponent, root, { attachmentId: "lonely" })
            compare(a.exists, false)
            failOnWarning(/has no queue/)    // once per Attachment
            a.attachmentId = "other"
            const queue = createQueue({})
            a.queue = queue
            compare(a.exists, false)
        }

        function test_followsASavedFileThroughItsUpload() {
            const queue = createQueue({})
            const saved = queue.saveFile("hello", "text/plain", "txt")
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: saved.id })
            compare(a.exists, true)
            compare(a.state, AttachmentState.QueuedUpload)
            compare(a.filename, saved.id + ".txt")
            compare(a.size, 5)
            compare(a.mediaType, "text/plain")
            compare(a.ready, true)
            compare(TestEnv.readFile(a.localUrl), "hello")
            compare(a.attachment.id, saved.id)

            remote.hold(true)
            remote.chunked(2)
            queue.syncing = true
            tryCompare(a, "transferring", true)
            remote.releaseHeld()
            tryCompare(a, "state", AttachmentState.Synced)
            compare(a.hasSynced, true)
            compare(a.transferring, false)
            compare(a.progress, 1) // synced: complete
        }

        function test_downloadMakesItReady() {
            const queue = createQueue({ syncing: true })
            remote.putObject("d.txt", "0123456789")
            remote.chunked(3)
            remote.hold(true)
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: "d" })
            compare(a.exists, false)
            const readySpy = createTemporaryObject(spyComponent, root, { target: a, signalName: "localUrlChanged" })
            const progressValues = []
            a.progressChanged.connect(function () { if (a.transferring) progressValues.push(a.progress) })
            queue.setWatchedAttachments(["d"])
            compare(a.exists, true)
            compare(a.state, AttachmentState.QueuedDownload)
            compare(a.ready, false)
            remote.hold(false)
            tryCompare(a, "ready", true)
            compare(readySpy.count, 1)
            compare(a.state, AttachmentState.Synced)
            compare(TestEnv.readFile(a.localUrl), "0123456789")
            verify(progressValues.length >= 2, JSON.stringify(progressValues))
            verify(progressValues[progressValues.length - 1] > 0.5)
        }

        function test_switchingIdRereads() {
            const queue = createQueue({})
            const one = queue.saveFile("one", "text/plain", "txt")
            const two = queue.saveFile("two!", "text/plain", "txt")
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: one.id })
            compare(a.size, 3)
            a.attachmentId = two.id
            compare(a.size, 4)
            compare(TestEnv.readFile(a.localUrl), "two!")
            a.attachmentId = ""
            compare(a.exists, false)
        }

        function test_deletedAttachmentGoesAway() {
            const queue = createQueue({ syncing: true })
            const saved = queue.saveFile("bye", "text/plain", "txt")
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: saved.id })
            tryCompare(a, "state", AttachmentState.Synced)
            verify(queue.deleteFile(saved.id))
            compare(a.state, AttachmentState.QueuedDelete)
            tryCompare(a, "exists", false)
            compare(a.ready, false)
            compare(String(a.localUrl), "")
        }

        function test_errorIsShownToAttachmentsMadeAfterTheFailure() {
            // Delegates come and go as a list scrolls; each shows why its
            // attachment's download failed until the state changes.
            const queue = createQueue({ syncing: true, retryDelay: 60000 })
            remote.putObject("f.txt", "data")
            remote.failNextDownload("boom")
            const first = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: "f" })
            queue.setWatchedAttachments(["f"])
            tryCompare(first, "error", "boom")
            const later = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: "f" })
            compare(later.state, AttachmentState.QueuedDownload)
            compare(later.error, "boom")
            first.attachmentId = ""
            compare(first.error, "")
            first.attachmentId = "f"
            compare(first.error, "boom")
        }

        function test_nextRetryAndFailingWhileADownloadWaits() {
            const queue = createQueue({ syncing: true, retryDelay: 60000 })
            remote.putObject("n.txt", "data")
            remote.failNextDownload("offline")
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: "n" })
            compare(isNaN(a.nextRetry.getTime()), true)     // an invalid date: nothing waits
            queue.setWatchedAttachments(["n"])
            tryCompare(a, "error", "offline")
            compare(queue.failing, 1)
            const wait = a.nextRetry.getTime() - Date.now()
            verify(wait > 20000 && wait <= 60000, wait)
            tryCompare(queue, "idle", true)
            queue.retryFailed()
            tryCompare(a, "state", AttachmentState.Synced)
            compare(isNaN(a.nextRetry.getTime()), true)
            compare(queue.failing, 0)
        }

        function test_destroyedQueueLeavesNothing() {
            const queue = createQueue({})
            const saved = queue.saveFile("x", "text/plain", "txt")
            const a = createTemporaryObject(attachmentComponent, root, { queue: queue, attachmentId: saved.id })
            compare(a.ready, true)
            const queueSpy = createTemporaryObject(spyComponent, root, { target: a, signalName: "queueChanged" })
            const urlSpy = createTemporaryObject(spyComponent, root, { target: a, signalName: "localUrlChanged" })
            queue.destroy()
            queueSpy.wait()
            compare(a.queue, null)
            compare(a.exists, false)
            compare(a.ready, false)
            compare(String(a.localUrl), "")
            compare(urlSpy.count, 1)
        }

        function test_imageBindsToLocalUrl() {
            const queue = createQueue({ syncing: true })
            const image = createTemporaryObject(imageComponent, root)
            image.attachment.queue = queue
            const saved = queue.saveFile(TestEnv.pngBytes(), "image/png", "png")
            image.attachment.attachmentId = saved.id
            tryCompare(image, "status", Image.Ready)
            compare(image.sourceSize.width, 2)
        }
    }
}
