pragma ComponentBehavior: Bound

import QtQml
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import PowerSync.Attachments
import Inspection

// One device: its own database, its own attachment folder, its own queue.
Frame {
    id: pane

    required property string deviceId
    required property string deviceName
    required property string databasePath
    required property string directory
    property string serverUrl
    property bool canEdit: true

    readonly property alias queue: queue
    readonly property alias checklist: checklist
    readonly property alias listView: listView
    // The open camera page, or null.
    readonly property QtObject cameraPage: cameraLoader.item
    readonly property string connectionName: Host.openDatabase(deviceId, databasePath)

    signal message(string line)
    signal syncDataRequested()

    // Completing an item takes a photo and links it to the item in one
    // transaction: either both are saved or neither.
    function completeItem(itemId, title, color) {
        const photo = Host.generatePhoto(title, color)
        const saved = queue.saveFile(photo, "image/png", "png", function (tx, attachment) {
            tx.execute("UPDATE checklists SET photo_id = ?, done = 1 WHERE id = ?",
                       [attachment.id, itemId])
        })
        checklist.refresh()
        if (!saved.valid) {
            message(qsTr("%1: could not save the photo: %2").arg(deviceName).arg(queue.errorString))
            return ""
        }
        message(qsTr("%1: photo %2 saved for \"%3\" (%4 bytes)")
                .arg(deviceName).arg(saved.filename).arg(title).arg(saved.size))
        return saved.id
    }

    // A PNG picked from the device (a file: URL) is copied into the queue and
    // linked to the item in one transaction, like a taken photo. (The other
    // device's watch query names PNG files, hence the filter.)
    function attachPickedFile(itemId, title, url) {
        const saved = queue.saveFile(url, "image/png", "png", function (tx, attachment) {
            tx.execute("UPDATE checklists SET photo_id = ?, done = 1 WHERE id = ?",
                       [attachment.id, itemId])
        })
        checklist.refresh()
        message(saved.valid ? qsTr("%1: %2 attached to \"%3\"")
                              .arg(deviceName).arg(saved.filename).arg(title)
                            : qsTr("%1: could not attach the file: %2").arg(deviceName).arg(queue.errorString))
        return saved.valid ? saved.id : ""
    }

    // A photo the camera page captured to `path`: converted to PNG when the
    // camera wrote another format, then copied into the queue like a picked
    // file (QAttachmentQueue::saveFileFromPath) and removed; the queue keeps
    // its own copy.
    function attachCapturedPhoto(itemId, title, path) {
        const png = Host.capturedPhotoAsPng(path)
        if (png === "") {
            message(qsTr("%1: the camera's file %2 is no image").arg(deviceName).arg(path))
            return ""
        }
        const id = attachPickedFile(itemId, title, Host.fileUrl(png))
        Host.removeFile(png)
        return id
    }

    // The camera page, in place of the list while it is open. Built only with
    // Qt Multimedia (Host.cameraBuilt).
    function openCamera(itemId, title) {
        if (!Host.cameraBuilt)
            return false
        cameraLoader.itemId = itemId
        cameraLoader.itemTitle = title
        cameraLoader.setSource(Qt.resolvedUrl("CameraPage.qml"),
                               { captureDirectory: pane.directory, itemTitle: title })
        return cameraLoader.status === Loader.Ready
    }
    function closeCamera() {
        cameraLoader.source = ""
    }

    FileDialog {
        id: fileDialog
        property int itemId: -1
        property string itemTitle
        title: qsTr("Pick a photo for \"%1\"").arg(itemTitle)
        nameFilters: [qsTr("PNG images (*.png)")]
        onAccepted: pane.attachPickedFile(itemId, itemTitle, selectedFile)
    }

    function removePhoto(itemId, photoId, title) {
        const ok = queue.deleteFile(photoId, function (tx, attachment) {
            tx.execute("UPDATE checklists SET photo_id = NULL, done = 0 WHERE id = ?", [itemId])
        })
        checklist.refresh()
        message(ok ? qsTr("%1: photo of \"%2\" removed").arg(deviceName).arg(title)
                   : qsTr("%1: could not remove the photo: %2").arg(deviceName).arg(queue.errorString))
        return ok
    }

    // Stands in for PowerSync's data sync: the other device gets our rows,
    // and its queue downloads the photos they reference.
    function shareChecklistWith(other) {
        if (!checklist.copyTo(other.connectionName)) {
            message(qsTr("could not copy the checklist"))
            return
        }
        other.checklist.refresh()
        other.queue.refreshWatchQuery()
        message(qsTr("%1: checklist data synced (%2 items)").arg(other.deviceName).arg(other.checklist.count))
    }

    // Delegates whose photo is on screen.
    function shownPhotos() {
        let shown = 0
        for (let i = 0; i < listView.count; ++i) {
            const item = listView.itemAtIndex(i) as ChecklistDelegate
            if (item && item.photoShown)
                ++shown
        }
        return shown
    }

    AttachmentQueue {
        id: queue
        connectionName: pane.connectionName
        localDirectory: pane.directory + "/attachments"
        remoteStorage: HttpRemoteStorage {
            baseUrl: pane.serverUrl
        }
        watchQuery: "SELECT photo_id AS id, 'png' AS file_extension FROM checklists WHERE photo_id IS NOT NULL"
        watchTables: ["checklists"]
        defaultFileExtension: "png"
        syncInterval: 5000
        retryDelay: 250
        maxRetryDelay: 2000
        syncing: pane.serverUrl !== ""

        // Ids whose last transfer failed: a retry that fails the same way again is not news.
        property var failing: ({})
        function succeeded(id) {
            delete failing[id]
        }

        onUploadFinished: attachment => {
            succeeded(attachment.id)
            pane.message(qsTr("%1: uploaded %2").arg(pane.deviceName).arg(attachment.filename))
        }
        onDownloadFinished: attachment => {
            succeeded(attachment.id)
            pane.message(qsTr("%1: downloaded %2").arg(pane.deviceName).arg(attachment.filename))
        }
        onDeleteFinished: id => {
            succeeded(id)
            pane.message(qsTr("%1: deleted %2 from the server").arg(pane.deviceName).arg(id))
        }
        onTransferFailed: (id, kind, error, willRetry) => {
            if (failing[id] === error.message)
                return
            failing[id] = error.message
            pane.message(qsTr("%1: %2 of %3 failed (%4)%5").arg(pane.deviceName)
                         .arg(kind === AttachmentTransfer.Upload ? "upload"
                              : kind === AttachmentTransfer.Download ? "download" : "delete")
                         .arg(id).arg(error.message).arg(willRetry ? qsTr(", will retry") : ""))
        }
    }

    ChecklistModel {
        id: checklist
        connectionName: pane.connectionName
        attachmentQueue: queue
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 8

        Label {
            text: pane.deviceName
            font.bold: true
            font.pixelSize: 16
        }
        Label {
            objectName: "statusLine"
            text: qsTr("%1 items, %2 done · uploads %3 · downloads %4 · deletes %5 pending%6")
                  .arg(checklist.count).arg(checklist.completed)
                  .arg(queue.pendingUploads).arg(queue.pendingDownloads).arg(queue.pendingDeletes)
                  .arg(queue.idle ? qsTr(" · idle") : qsTr(" · syncing"))
            color: "#424242"
        }

        Loader {
            id: cameraLoader
            objectName: "cameraLoader"
            property int itemId: -1
            property string itemTitle
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: status === Loader.Ready
        }
        Connections {
            target: cameraLoader.item
            ignoreUnknownSignals: true
            function onCaptured(path) {
                pane.attachCapturedPhoto(cameraLoader.itemId, cameraLoader.itemTitle, path)
                pane.closeCamera()
            }
            function onCancelled() {
                pane.closeCamera()
            }
        }

        ListView {
            id: listView
            visible: !cameraLoader.visible
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 6
            model: checklist
            delegate: ChecklistDelegate {
                width: ListView.view.width
                queue: pane.queue
                canEdit: pane.canEdit
                onCompleteRequested: (itemId, title) => pane.completeItem(itemId, title, Qt.hsla(Math.random(), 0.6, 0.45, 1))
                onPickRequested: (itemId, title) => {
                    fileDialog.itemId = itemId
                    fileDialog.itemTitle = title
                    fileDialog.open()
                }
                canCapture: Host.cameraBuilt
                onCaptureRequested: (itemId, title) => pane.openCamera(itemId, title)
                onRemoveRequested: (itemId, photoId, title) => pane.removePhoto(itemId, photoId, title)
            }
        }

        RowLayout {
            Layout.fillWidth: true
            visible: pane.canEdit
            TextField {
                id: newTitle
                Layout.fillWidth: true
                placeholderText: qsTr("New checklist item")
                onAccepted: addButton.clicked()
            }
            Button {
                id: addButton
                text: qsTr("Add")
                enabled: newTitle.text !== ""
                onClicked: {
                    checklist.addItem(newTitle.text)
                    newTitle.text = ""
                }
            }
        }
        Button {
            visible: !pane.canEdit
            text: qsTr("Sync checklist data")
            onClicked: pane.syncDataRequested()
        }
    }
}
