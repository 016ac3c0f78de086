import QtQuick
import QtTest
import PowerSync.Attachments

// Run by qmltestrunner against the installed module only (see
// run-installed-test.cmake): the plugin, its qmldir and its type information
// must be found and loaded from the install tree.
TestCase {
    id: testCase
    name: "InstalledModule"

    Component {
        id: queueComponent
        AttachmentQueue {}
    }
    Component {
        id: modelComponent
        AttachmentModel {}
    }
    Component {
        id: attachmentComponent
        Attachment {}
    }
    Component {
        id: httpComponent
        HttpRemoteStorage {}
    }

    function test_typesAreCreatable() {
        const queue = createTemporaryObject(queueComponent, testCase)
        verify(queue)
        compare(queue.tableName, "attachments_queue")
        compare(queue.syncing, false)
        verify(queue.model)
        compare(queue.model.count, 0)
        const model = createTemporaryObject(modelComponent, testCase, { queue: queue })
        verify(model)
        const attachment = createTemporaryObject(attachmentComponent, testCase,
                                                 { queue: queue, attachmentId: "nothing" })
        compare(attachment.exists, false)
        compare(attachment.ready, false)
        const storage = createTemporaryObject(httpComponent, testCase,
                                              { baseUrl: "http://127.0.0.1:9/" })
        queue.remoteStorage = storage
        compare(queue.remoteStorage, storage)
    }

    function test_enums() {
        compare(AttachmentState.QueuedDownload, 0)
        compare(AttachmentState.QueuedUpload, 1)
        compare(AttachmentState.QueuedDelete, 2)
        compare(AttachmentState.Synced, 3)
        compare(AttachmentState.Archived, 4)
        compare(AttachmentTransfer.Upload, 0)
        verify(AttachmentError.NotFound !== AttachmentError.NoError)
    }
}
