import QtQml
import QtQuick
import Inspection

// The scripted demo: a sequence of steps, each acting and then waiting for
// what it should cause, narrated on stdout.
QtObject {
    id: script

    required property var window
    readonly property var inspector: window.inspector
    readonly property var office: window.office
    readonly property var server: window.server

    property int stepIndex: -1
    property double stepStarted: 0
    property var photoIds: ({})
    readonly property var items: [
        { title: "Roof and gutters", color: "#1565c0" },
        { title: "Boiler room", color: "#2e7d32" },
        { title: "Fire exits", color: "#c62828" }
    ]

    signal finished(bool ok)

    function say(line) {
        window.log("== " + line)
    }
    function idle(device) {
        return device.queue.idle && device.queue.pendingUploads === 0
                && device.queue.pendingDownloads === 0 && device.queue.pendingDeletes === 0
    }

    readonly property var steps: [
        {
            name: "start the attachments server",
            run: function () { server.start() },
            until: function () { return server.running && inspector.queue.syncing && office.queue.syncing }
        },
        {
            name: "the inspector adds three checklist items",
            run: function () {
                for (const item of items)
                    inspector.checklist.addItem(item.title)
            },
            until: function () { return inspector.checklist.count === items.length }
        },
        {
            name: "the items reach the office laptop through the PowerSync client",
            run: function () {
                if (!office.checklist.synced)
                    say("no PowerSync core: the checklist is copied at the end instead")
            },
            until: function () { return !office.checklist.synced || office.checklist.count === items.length },
            after: function () {
                if (office.checklist.synced)
                    say("the office laptop has " + office.checklist.count + " items, synced")
            }
        },
        {
            name: "the server goes down: the inspector keeps working offline",
            run: function () { server.stop() },
            until: function () { return !server.running }
        },
        {
            name: "the inspector completes every item with a photo",
            run: function () {
                for (const item of items) {
                    const row = inspector.checklist.rowOfTitle(item.title)
                    const id = inspector.completeItem(inspector.checklist.get(row).itemId, item.title, item.color)
                    photoIds[item.title] = id
                }
            },
            until: function () {
                return inspector.queue.pendingUploads === items.length && inspector.shownPhotos() === items.length
            },
            after: function () { say("photos are on the tablet; " + inspector.queue.pendingUploads + " uploads wait for the server") }
        },
        {
            name: "the server is back: the queue catches up",
            run: function () { server.start() },
            until: function () { return server.running && idle(inspector) }
        },
        {
            name: "the inspector removes the photo of \"Fire exits\"",
            run: function () {
                const row = inspector.checklist.rowOfTitle("Fire exits")
                const item = inspector.checklist.get(row)
                inspector.removePhoto(item.itemId, item.photoId, item.title)
            },
            until: function () { return idle(inspector) && inspector.queue.attachment(photoIds["Fire exits"]).valid === false }
        },
        {
            name: "the office laptop has the checklist and downloads the photos",
            run: function () {
                // Synced rows need nothing more; otherwise the rows are copied.
                if (!office.checklist.synced)
                    inspector.shareChecklistWith(office)
            },
            until: function () {
                return idle(office) && office.shownPhotos() === 2
                        && office.checklist.completed === inspector.checklist.completed
            }
        },
        {
            name: "check that both devices hold the same files",
            run: function () {
                for (const item of items) {
                    const id = photoIds[item.title]
                    if (item.title === "Fire exits")
                        continue
                    const same = Host.sameFile(inspector.queue.localUrl(id), office.queue.localUrl(id))
                    window.log((same ? "identical: " : "DIFFERENT: ") + item.title + " (" + id + ".png)")
                    if (!same)
                        return false
                }
                return true
            },
            until: function () { return true }
        }
    ]

    function start() {
        say("scripted demo")
        next()
    }

    function next() {
        stepIndex += 1
        if (stepIndex >= steps.length) {
            finish()
            return
        }
        const step = steps[stepIndex]
        say("step " + (stepIndex + 1) + ": " + step.name)
        stepStarted = Date.now()
        if (step.run() === false) {
            fail("step " + (stepIndex + 1) + " failed")
            return
        }
        poller.start()
    }

    function poll() {
        const step = steps[stepIndex]
        if (step.until()) {
            poller.stop()
            if (step.after)
                step.after()
            next()
            return
        }
        if (Date.now() - stepStarted > 60000)
            fail("timed out in step " + (stepIndex + 1) + ": " + step.name)
    }

    function finish() {
        // One more frame, so that the last images are on screen.
        shooter.start()
    }

    function fail(reason) {
        poller.stop()
        say("FAILED: " + reason)
        finished(false)
        if (window.screenshotPath !== "")
            Host.saveScreenshot(window, window.screenshotPath)
        if (window.exitWhenDone)
            Host.exit(1)
    }

    property Timer poller: Timer {
        interval: 50
        repeat: true
        onTriggered: script.poll()
    }

    property Timer shooter: Timer {
        interval: 300
        onTriggered: {
            if (script.window.screenshotPath !== "") {
                if (Host.saveScreenshot(script.window, script.window.screenshotPath))
                    script.say("screenshot saved: " + script.window.screenshotPath)
                else
                    script.say("could not save the screenshot")
            }
            script.say("done")
            script.finished(true)
            if (script.window.exitWhenDone)
                Host.exit(0)
        }
    }
}
