import QtQml
import QtQml.Models
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Inspection

// Two devices of a site inspection team share checklist photos through the
// attachments server: the inspector's tablet takes them, the office laptop
// downloads them.
ApplicationWindow {
    id: window

    // Set from the command line (see main.cpp).
    property bool scripted: false
    property string screenshotPath: ""
    property string dataPath: ""
    property bool exitWhenDone: true

    readonly property string dataDirectory: Host.dataDirectory(dataPath)
    readonly property alias server: server
    readonly property alias inspector: inspector
    readonly property alias office: office

    signal scriptFinished(bool ok)

    function log(line) {
        logModel.append({ line: line })
        logView.positionViewAtEnd()
        Host.print(line)
    }

    width: 1100
    height: 760
    visible: true
    title: qsTr("Site inspection")

    DemoServer {
        id: server
        rootPath: window.dataDirectory + "/server"
        onRunningChanged: {
            window.log(running ? qsTr("server: online at %1").arg(url) : qsTr("server: offline"))
            // Reachable again: retry what failed now instead of waiting for the backoff.
            if (running) {
                inspector.queue.retryFailed()
                office.queue.retryFailed()
            }
        }
        onErrorStringChanged: if (errorString !== "") window.log(qsTr("server: %1").arg(errorString))
    }

    header: ToolBar {
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 12
            anchors.rightMargin: 12
            Label {
                text: window.title
                font.bold: true
                font.pixelSize: 18
                Layout.fillWidth: true
            }
            Label {
                text: server.running ? qsTr("Server %1").arg(server.url) : qsTr("Server offline")
                color: server.running ? "#1b5e20" : "#b71c1c"
            }
            Switch {
                objectName: "serverSwitch"
                text: qsTr("Online")
                checked: server.running
                enabled: !window.scripted
                onToggled: checked ? server.start() : server.stop()
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 10

        RowLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 10

            DevicePane {
                id: inspector
                objectName: "inspector"
                deviceId: "inspector"
                Layout.fillWidth: true
                Layout.fillHeight: true
                deviceName: qsTr("Inspector's tablet")
                databasePath: window.dataDirectory + "/inspector.db"
                directory: window.dataDirectory + "/inspector"
                serverUrl: server.url
                canEdit: true
                onMessage: line => window.log(line)
            }
            DevicePane {
                id: office
                objectName: "office"
                deviceId: "office"
                Layout.fillWidth: true
                Layout.fillHeight: true
                deviceName: qsTr("Office laptop")
                databasePath: window.dataDirectory + "/office.db"
                directory: window.dataDirectory + "/office"
                serverUrl: server.url
                canEdit: false
                onMessage: line => window.log(line)
                onSyncDataRequested: inspector.shareChecklistWith(office)
            }
        }

        Frame {
            Layout.fillWidth: true
            Layout.preferredHeight: 150
            ListView {
                id: logView
                anchors.fill: parent
                clip: true
                model: ListModel {
                    id: logModel
                }
                delegate: Label {
                    required property string line
                    text: line
                    font.family: "monospace"
                    font.pixelSize: 12
                    width: ListView.view.width
                    elide: Text.ElideRight
                }
            }
        }
    }

    DemoScript {
        id: script
        window: window
        onFinished: ok => window.scriptFinished(ok)
    }

    Component.onCompleted: {
        window.log(qsTr("data in %1").arg(window.dataDirectory))
        if (window.scripted)
            script.start()
        else
            server.start()
    }
}
