import QtQml
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtMultimedia

// Takes a photo for a checklist item with the device's camera (built only when
// Qt Multimedia is installed). The camera writes the photo to a file in
// `captureDirectory`; `captured(path)` hands that file on, and the device pane
// copies it into the attachment queue. Without a camera the page says so and
// only offers to go back.
Pane {
    id: page

    // An existing folder of the app's for the captured files.
    required property string captureDirectory
    property string itemTitle

    readonly property bool cameraFound: devices.videoInputs.length > 0
    // What went wrong last (the camera or the capture), empty when nothing did.
    property string problem
    readonly property string statusText: !cameraFound
        ? qsTr("No camera found: connect one, or pick a file instead.")
        : problem !== "" ? problem
        : imageCapture.readyForCapture ? qsTr("Ready")
        : qsTr("Starting the camera…")

    signal captured(string path)
    signal cancelled()

    MediaDevices {
        id: devices
    }

    CaptureSession {
        camera: Camera {
            cameraDevice: devices.defaultVideoInput
            active: page.visible && page.cameraFound
            onErrorOccurred: (error, errorString) => page.problem = errorString
        }
        imageCapture: ImageCapture {
            id: imageCapture
            onImageSaved: (requestId, path) => page.captured(path)
            onErrorOccurred: (requestId, error, message) => page.problem = message
        }
        videoOutput: preview
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 8

        Label {
            Layout.fillWidth: true
            text: qsTr("Photo for \"%1\"").arg(page.itemTitle)
            font.bold: true
        }
        VideoOutput {
            id: preview
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: page.cameraFound
            fillMode: VideoOutput.PreserveAspectFit
        }
        Item {
            Layout.fillHeight: true
            visible: !page.cameraFound
        }
        Label {
            objectName: "cameraStatus"
            Layout.fillWidth: true
            text: page.statusText
            color: page.cameraFound && page.problem === "" ? "#424242" : "#b71c1c"
            wrapMode: Text.Wrap
        }
        RowLayout {
            Button {
                objectName: "captureButton"
                text: qsTr("Capture")
                enabled: page.cameraFound && imageCapture.readyForCapture
                onClicked: {
                    page.problem = ""
                    imageCapture.captureToFile(page.captureDirectory + "/capture-" + Date.now() + ".jpg")
                }
            }
            Button {
                text: qsTr("Back")
                onClicked: page.cancelled()
            }
        }
    }
}
