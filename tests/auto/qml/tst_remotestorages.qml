import QtQuick
import QtTest
import PowerSync.Attachments
import AttachmentsTest

// HttpRemoteStorage and PresignedRemoteStorage against the embedded server,
// S3RemoteStorage against s3rver.
TestCase {
    id: testCase
    name: "RemoteStorages"

    Component {
        id: queueComponent
        AttachmentQueue {
            syncInterval: 0
            retryDelay: 20
            maxRetryDelay: 200
        }
    }
    Component {
        id: httpComponent
        HttpRemoteStorage {}
    }
    Component {
        id: presignedComponent
        PresignedRemoteStorage {}
    }
    Component {
        id: s3Component
        S3RemoteStorage {}
    }
    Component {
        id: spyComponent
        SignalSpy {}
    }

    function createQueue(storage) {
        const queue = createTemporaryObject(queueComponent, testCase, {
            connectionName: TestEnv.openDatabase(),
            localDirectory: TestEnv.newDirectory(),
            remoteStorage: storage
        })
        verify(queue, "queue created")
        return queue
    }
    function spy(target, signalName) {
        return createTemporaryObject(spyComponent, testCase, { target: target, signalName: signalName })
    }
    function startServer(token) {
        if (!TestEnv.hasServer)
            skip("the embedded attachments server is not built")
        const server = TestEnv.startServer(token)
        verify(server.url !== undefined, "server started")
        return server
    }
    function serverFile(server, filename) {
        return TestEnv.fileUrl(server.root + "/" + filename)
    }

    function test_httpProperties() {
        const storage = createTemporaryObject(httpComponent, testCase)
        compare(storage.pathTemplate, "{filename}")
        compare(storage.uploadMethod, "PUT")
        compare(storage.transferTimeout, 60000)
        compare(storage.token, "")
        compare(storage.http2DownloadPartSize, 4 * 1024 * 1024)
        const partSizeChanged = spy(storage, "http2DownloadPartSizeChanged")
        storage.http2DownloadPartSize = 0
        compare(partSizeChanged.count, 1)
        compare(storage.http2DownloadPartSize, 0)
        compare(storage.streamingDownloads, true)
        const streamingChanged = spy(storage, "streamingDownloadsChanged")
        storage.streamingDownloads = false
        compare(streamingChanged.count, 1)
        compare(storage.streamingDownloads, false)
        const changed = spy(storage, "baseUrlChanged")
        storage.baseUrl = "http://127.0.0.1:9/files/"
        compare(changed.count, 1)
        compare(storage.baseUrl, "http://127.0.0.1:9/files/")
        storage.headers = { "X-App": "inspection" }
        compare(storage.headers["X-App"], "inspection")
        const tokenChanged = spy(storage, "tokenChanged")
        storage.token = "abc"
        compare(tokenChanged.count, 1)
    }

    function test_httpUploadsAndDeletesOnTheServer() {
        const server = startServer("")
        const storage = createTemporaryObject(httpComponent, testCase, { baseUrl: server.url })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const deleted = spy(queue, "deleteFinished")
        const saved = queue.saveFile("to the server", "text/plain", "txt")
        verify(saved.valid)
        queue.syncing = true
        uploaded.wait(10000)
        compare(TestEnv.readFile(serverFile(server, saved.filename)), "to the server")

        verify(queue.deleteFile(saved.id))
        deleted.wait(10000)
        verify(!TestEnv.fileExists(serverFile(server, saved.filename)))
    }

    function test_httpTokenIsSent() {
        const server = startServer("s3cret")
        const storage = createTemporaryObject(httpComponent, testCase,
                                              { baseUrl: server.url, token: "wrong" })
        const queue = createQueue(storage)
        const failed = spy(queue, "transferFailed")
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("secret", "text/plain", "txt")
        queue.syncing = true
        failed.wait(10000)
        compare(failed.signalArguments[0][2].code, AttachmentError.Unauthorized)
        compare(uploaded.count, 0)

        // New credentials are worth trying at once.
        storage.token = "s3cret"
        uploaded.wait(10000)
        compare(TestEnv.readFile(serverFile(server, saved.filename)), "secret")
    }

    function test_httpTokenProviderIsAskedAgainAfterARejection() {
        const server = startServer("fresh")
        const asked = []
        const storage = createTemporaryObject(httpComponent, testCase, {
            baseUrl: server.url,
            tokenProvider: function (refresh, done) {
                asked.push(refresh)
                done(refresh ? "fresh" : "stale")
            }
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        queue.saveFile("refreshed", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(10000)
        compare(asked, [false, true])
    }

    function test_httpTokenProviderMayReturnAPromise() {
        const server = startServer("promised")
        const storage = createTemporaryObject(httpComponent, testCase, {
            baseUrl: server.url,
            tokenProvider: function (refresh) {
                return new Promise(function (resolve) { resolve("promised") })
            }
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("via a promise", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(10000)
        compare(TestEnv.readFile(serverFile(server, saved.filename)), "via a promise")
    }

    function test_presignedResolverGivesEachRequest() {
        const server = startServer("")
        const kinds = []
        const storage = createTemporaryObject(presignedComponent, testCase, {
            resolver: function (attachment, kind) {
                kinds.push(kind)
                return { url: server.url + attachment.filename,
                         headers: { "Content-Type": attachment.mediaType } }
            }
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const deleted = spy(queue, "deleteFinished")
        const saved = queue.saveFile("presigned", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(10000)
        compare(TestEnv.readFile(serverFile(server, saved.filename)), "presigned")
        compare(kinds, [AttachmentTransfer.Upload])

        verify(queue.deleteFile(saved.id))
        deleted.wait(10000)
        verify(!TestEnv.fileExists(serverFile(server, saved.filename)))
        compare(kinds, [AttachmentTransfer.Upload, AttachmentTransfer.Delete])
    }

    function test_presignedResolverMayAnswerLater() {
        const server = startServer("")
        const storage = createTemporaryObject(presignedComponent, testCase, {
            resolver: function (attachment, kind, done) {
                // As if the backend answered over the network.
                Qt.callLater(function () { done(server.url + attachment.filename) })
            }
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("later", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(10000)
        compare(TestEnv.readFile(serverFile(server, saved.filename)), "later")
    }

    function test_presignedResolverThatThrowsFailsTheTransfer() {
        let attempts = 0
        const storage = createTemporaryObject(presignedComponent, testCase, {
            resolver: function (attachment, kind) {
                ++attempts
                throw new Error("backend unreachable")
            }
        })
        const queue = createQueue(storage)
        const failed = spy(queue, "transferFailed")
        queue.saveFile("never sent", "text/plain", "txt")
        queue.syncing = true
        failed.wait(10000)
        const error = failed.signalArguments[0][2]
        verify(error.message.indexOf("backend unreachable") >= 0, error.message)
        compare(failed.signalArguments[0][3], true) // will retry
        verify(attempts >= 1)
        compare(queue.pendingUploads, 1)
    }

    function startS3() {
        const s3 = TestEnv.startS3()
        if (s3.error !== undefined)
            skip("s3rver is not available: " + s3.error)
        return s3
    }

    function test_s3Properties() {
        const storage = createTemporaryObject(s3Component, testCase)
        compare(storage.region, "us-east-1")
        const changed = spy(storage, "bucketChanged")
        storage.bucket = "photos"
        compare(changed.count, 1)
        compare(storage.bucket, "photos")
        storage.keyPrefix = "inspections/"
        compare(storage.keyPrefix, "inspections/")
    }

    function test_s3UploadsWithStaticKeys() {
        const s3 = startS3()
        const storage = createTemporaryObject(s3Component, testCase, {
            endpoint: s3.endpoint, bucket: s3.bucket, keyPrefix: "qml/",
            accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("into the bucket", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(20000)
        compare(TestEnv.s3ObjectText("qml/" + saved.filename), "into the bucket")
    }

    function test_s3WrongSecretIsUnauthorized() {
        const s3 = startS3()
        const storage = createTemporaryObject(s3Component, testCase, {
            endpoint: s3.endpoint, bucket: s3.bucket,
            accessKeyId: s3.accessKeyId, secretAccessKey: "not-the-secret"
        })
        const queue = createQueue(storage)
        const failed = spy(queue, "transferFailed")
        queue.saveFile("refused", "text/plain", "txt")
        queue.syncing = true
        failed.wait(20000)
        compare(failed.signalArguments[0][2].code, AttachmentError.Unauthorized)
    }

    function test_s3CredentialsProviderMayReturnAPromise() {
        const s3 = startS3()
        let asked = 0
        const storage = createTemporaryObject(s3Component, testCase, {
            endpoint: s3.endpoint, bucket: s3.bucket,
            credentialsProvider: function () {
                ++asked
                return new Promise(function (resolve) {
                    resolve({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })
                })
            }
        })
        const queue = createQueue(storage)
        const uploaded = spy(queue, "uploadFinished")
        const saved = queue.saveFile("provided", "text/plain", "txt")
        queue.syncing = true
        uploaded.wait(20000)
        compare(TestEnv.s3ObjectText(saved.filename), "provided")
        verify(asked >= 1)
    }
}
