import QtQml
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import PowerSync.Attachments

// One checklist item: its photo (bound to the attachment's local file), the
// transfer progress and the sync status.
Frame {
    id: delegate

    required property int itemId
    required property string title
    required property bool done
    required property string photoId
    property AttachmentQueue queue
    property bool canEdit: true
    property bool canCapture: false
    readonly property bool photoShown: thumbnail.status === Image.Ready
    readonly property alias photo: photo

    signal completeRequested(int itemId, string title)
    signal pickRequested(int itemId, string title)
    signal captureRequested(int itemId, string title)
    signal removeRequested(int itemId, string photoId, string title)

    objectName: "item-" + title

    Attachment {
        id: photo
        queue: delegate.queue
        attachmentId: delegate.photoId
    }

    RowLayout {
        anchors.fill: parent
        spacing: 10

        Rectangle {
            Layout.preferredWidth: 128
            Layout.preferredHeight: 96
            color: "#eeeeee"
            border.color: "#bdbdbd"
            Image {
                id: thumbnail
                objectName: "thumbnail"
                anchors.fill: parent
                anchors.margins: 1
                fillMode: Image.PreserveAspectCrop
                asynchronous: true
                // Decoded at the size shown, never the full photo.
                sourceSize.width: 256
                sourceSize.height: 192
                source: photo.localUrl
            }
            Label {
                anchors.centerIn: parent
                visible: thumbnail.status !== Image.Ready
                text: delegate.photoId === "" ? qsTr("no photo") : qsTr("waiting…")
                color: "#757575"
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 4
            Label {
                Layout.fillWidth: true
                text: (delegate.done ? "✔ " : "☐ ") + delegate.title
                font.pixelSize: 15
                font.bold: true
            }
            Label {
                objectName: "status"
                Layout.fillWidth: true
                text: delegate.photoId === "" ? qsTr("open")
                      : !photo.exists ? qsTr("waiting for the photo")
                      : photo.state === AttachmentState.Synced ? qsTr("synced")
                      : photo.state === AttachmentState.QueuedUpload ? qsTr("uploading")
                      : photo.state === AttachmentState.QueuedDownload ? qsTr("downloading")
                      : photo.stateName
                color: photo.state === AttachmentState.Synced ? "#1b5e20" : "#e65100"
            }
            ProgressBar {
                Layout.fillWidth: true
                visible: photo.transferring
                value: photo.progress
            }
            Label {
                visible: photo.error !== ""
                text: photo.error
                color: "#b71c1c"
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
        }

        Button {
            visible: delegate.canEdit && delegate.photoId === ""
            text: qsTr("Take photo")
            onClicked: delegate.completeRequested(delegate.itemId, delegate.title)
        }
        Button {
            visible: delegate.canEdit && delegate.canCapture && delegate.photoId === ""
            text: qsTr("Camera…")
            onClicked: delegate.captureRequested(delegate.itemId, delegate.title)
        }
        Button {
            visible: delegate.canEdit && delegate.photoId === ""
            text: qsTr("Pick file…")
            onClicked: delegate.pickRequested(delegate.itemId, delegate.title)
        }
        Button {
            visible: delegate.canEdit && delegate.photoId !== ""
            text: qsTr("Remove photo")
            onClicked: delegate.removeRequested(delegate.itemId, delegate.photoId, delegate.title)
        }
    }
}
