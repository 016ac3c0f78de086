#include "qs3multipartupload_p.h"

#include "qattachmentlogging_p.h"
#include "qs3errors_p.h"
#include "qs3remotestorage_p.h"

#include <QtCore/qbuffer.h>
#include <QtCore/qfile.h>

#include <algorithm>

namespace {

constexpr qint64 MinPartSize = 5 * 1024 * 1024;
constexpr int MaxParts = 10000;
constexpr int PartRetries = 2;

} // namespace

QS3MultipartUpload::QS3MultipartUpload(QS3RemoteStorage *storage, const QString &key,
                                       QIODevice *source, qint64 size,
                                       const QByteArray &contentType, QObject *parent)
    : QAttachmentTransfer(Upload, parent)
    , m_storage(storage)
    , m_key(key)
    , m_source(source)
    , m_contentType(contentType)
    , m_size(size)
{
    if (auto *file = qobject_cast<QFile *>(source))
        m_sourcePath = file->fileName();
}

QS3MultipartUpload::~QS3MultipartUpload()
{
    stopRequests();
}

void QS3MultipartUpload::start()
{
    qint64 partSize = std::max(MinPartSize, m_storage->partSize());
    if ((m_size + partSize - 1) / partSize > MaxParts)
        partSize = (m_size + MaxParts - 1) / MaxParts;
    const qint64 base = m_source->pos();
    for (qint64 offset = 0; offset < m_size; offset += partSize) {
        Part part;
        part.offset = base + offset;
        part.size = std::min(partSize, m_size - offset);
        m_parts.append(part);
    }
    qCDebug(lcS3) << "multipart upload of" << m_key << m_size << "bytes in" << m_parts.size()
                  << "parts";
    setProgress(0, m_size);

    QS3Request create;
    create.kind = Upload;
    create.method = "POST";
    create.key = m_key;
    create.query = {{"uploads", QByteArray()}};
    create.contentType = m_contentType;
    run(create, PartRetries, [this](QHttpTransfer *http) {
        if (http->error().isError()) {
            fail(http->error());
            return;
        }
        const QString id = qS3XmlElementText(http->responseBody(), u"UploadId").trimmed();
        if (id.isEmpty()) {
            fail(QAttachmentError(QAttachmentError::ProtocolError,
                                  QStringLiteral("S3 started no multipart upload for \"%1\": "
                                                 "the answer has no UploadId")
                                      .arg(m_key),
                                  http->httpStatus()));
            return;
        }
        m_uploadId = id;
        startNextParts();
    });
}

void QS3MultipartUpload::run(const QS3Request &request, int attempts, Done done)
{
    if (!m_storage) {
        fail(QAttachmentError(QAttachmentError::Cancelled,
                              QStringLiteral("the S3 storage is gone")));
        return;
    }
    QHttpTransfer *http = QS3RemoteStoragePrivate::get(m_storage)->transfer(request, this);
    m_running.insert(http, 0);
    connect(http, &QAttachmentTransfer::finished, this, [this, http, request, attempts, done] {
        // A finished part counts through Part::done, a repeated one from zero again.
        m_running.remove(http);
        http->deleteLater();
        const QAttachmentError error = http->error();
        if (error.isError() && error.isRetryable() && error.code() != QAttachmentError::Cancelled
            && attempts > 0) {
            qCDebug(lcS3) << "retrying" << request.method << m_key << "after" << error;
            run(request, attempts - 1, done);
            return;
        }
        done(http);
    });
    connect(http, &QAttachmentTransfer::progress, this, [this, http](qint64 sent, qint64) {
        // Qt reports an upload's progress as 0 again once the body is out;
        // keep the high-water mark.
        auto it = m_running.find(http);
        if (it == m_running.end())
            return;
        it.value() = std::max(it.value(), sent);
        if (!m_parts.isEmpty())
            reportProgress();
    });
}

void QS3MultipartUpload::stopRequests()
{
    // Deleted later, not now: QNetworkAccessManager may still have the start
    // of a just-created request queued, which touches the request body.
    const auto running = std::exchange(m_running, {});
    for (auto it = running.cbegin(); it != running.cend(); ++it) {
        QHttpTransfer *http = it.key();
        disconnect(http, nullptr, this, nullptr);
        http->abort();
        http->setParent(nullptr);
        http->deleteLater();
    }
    for (Part &part : m_parts) {
        if (part.file)
            part.file->deleteLater();
        part.file = nullptr;
        part.running = false;
    }
}

void QS3MultipartUpload::fail(const QAttachmentError &error)
{
    if (isCompleting())
        return;
    qCDebug(lcS3) << "transfer of" << m_key << "failed:" << error;
    stopRequests();
    if (!m_uploadId.isEmpty())
        abortOnServer();
    finishWithError(error);
}

void QS3MultipartUpload::abortTransfer()
{
    stopRequests();
    if (!m_uploadId.isEmpty())
        abortOnServer();
}

void QS3MultipartUpload::startNextParts()
{
    int running = 0;
    for (const Part &part : std::as_const(m_parts))
        running += part.running ? 1 : 0;
    const int limit = m_storage ? m_storage->maxParallelParts() : 1;
    while (running < limit && m_nextPart < m_parts.size() && !isCompleting()) {
        const int index = m_nextPart++;
        Part &part = m_parts[index];
        QIODevice *body = m_source;
        if (!m_sourcePath.isEmpty()) {
            // A file of its own per part: parallel parts do not fight over
            // one read position.
            auto *file = new QFile(m_sourcePath);
            if (!file->open(QIODevice::ReadOnly)) {
                const QString reason = file->errorString();
                delete file;
                fail(QAttachmentError(
                    QAttachmentError::LocalStorageError,
                    QStringLiteral("cannot open %1: %2").arg(m_sourcePath, reason)));
                return;
            }
            part.file = file;
            body = file;
        }
        part.running = true;
        ++running;
        QS3Request put;
        put.kind = Upload;
        put.method = "PUT";
        put.key = m_key;
        put.query
            = {{"partNumber", QByteArray::number(index + 1)}, {"uploadId", m_uploadId.toUtf8()}};
        put.body = body;
        put.bodyOffset = part.offset;
        put.bodySize = part.size;
        run(put, PartRetries, [this, index](QHttpTransfer *http) { partDone(index, http); });
        if (isCompleting())
            return;
    }
}

void QS3MultipartUpload::partDone(int index, QHttpTransfer *http)
{
    Part &part = m_parts[index];
    part.running = false;
    if (part.file) {
        // The finished exchange may still hold the file until it is deleted.
        part.file->deleteLater();
        part.file = nullptr;
    }
    if (http->error().isError()) {
        fail(http->error());
        return;
    }
    part.etag = http->responseHeader("ETag").trimmed();
    if (part.etag.isEmpty()) {
        fail(QAttachmentError(
            QAttachmentError::ProtocolError,
            QStringLiteral("S3 sent no ETag for part %1 of \"%2\"").arg(index + 1).arg(m_key),
            http->httpStatus()));
        return;
    }
    part.done = true;
    reportProgress();
    const bool allDone
        = std::all_of(m_parts.cbegin(), m_parts.cend(), [](const Part &p) { return p.done; });
    if (allDone)
        complete();
    else
        startNextParts();
}

void QS3MultipartUpload::reportProgress()
{
    qint64 sent = 0;
    for (const Part &part : std::as_const(m_parts))
        sent += part.done ? part.size : 0;
    for (auto it = m_running.cbegin(); it != m_running.cend(); ++it)
        sent += it.value();
    setProgress(std::min(sent, m_size), m_size);
}

void QS3MultipartUpload::complete()
{
    QByteArray xml = "<CompleteMultipartUpload>";
    for (int i = 0; i < m_parts.size(); ++i) {
        QByteArray etag = m_parts.at(i).etag;
        etag.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        xml += "<Part><PartNumber>" + QByteArray::number(i + 1) + "</PartNumber><ETag>" + etag
            + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    m_completeBody = new QBuffer(this);
    m_completeBody->setData(xml);
    m_completeBody->open(QIODevice::ReadOnly);

    QS3Request request;
    request.kind = Upload;
    request.method = "POST";
    request.key = m_key;
    request.query = {{"uploadId", m_uploadId.toUtf8()}};
    request.body = m_completeBody;
    request.bodySize = xml.size();
    request.contentType = "application/xml";
    run(request, PartRetries, [this](QHttpTransfer *http) {
        if (http->error().isError()) {
            fail(http->error());
            return;
        }
        // S3 answers 200 first and may still report a failure in the body.
        const QByteArray body = http->responseBody();
        if (QS3ErrorDocument::parse(body).code.size() > 0) {
            fail(qS3Error(http->httpStatus(), body, QStringLiteral("\"%1\"").arg(m_key),
                          m_storage ? m_storage->objectUrl(m_key) : QUrl()));
            return;
        }
        m_uploadId.clear(); // nothing to abort any more
        setProgress(m_size, m_size);
        finishSuccess();
    });
}

void QS3MultipartUpload::abortOnServer()
{
    // Parts of an abandoned upload are billed until aborted. The request
    // belongs to the storage, not to this transfer, which may be deleted
    // right after it finishes.
    const QString uploadId = std::exchange(m_uploadId, {});
    if (!m_storage)
        return;
    QS3Request request;
    request.kind = Delete;
    request.method = "DELETE";
    request.key = m_key;
    request.query = {{"uploadId", uploadId.toUtf8()}};
    request.notFoundIsSuccess = true;
    QHttpTransfer *http = QS3RemoteStoragePrivate::get(m_storage)->transfer(request, m_storage);
    const QString key = m_key;
    QObject::connect(http, &QAttachmentTransfer::finished, http, [http, key] {
        if (http->error().isError())
            qCWarning(lcS3) << "aborting the multipart upload of" << key
                            << "failed:" << http->error();
        http->deleteLater();
    });
}
