#include "fileresponse.h"

#include <QtCore/qdatetime.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qmimedatabase.h>

using namespace HttpFields;

namespace {

FileResponse errorResponse(int status, const QByteArray &message, Headers headers = {})
{
    FileResponse response;
    response.status = status;
    response.error = message;
    response.headers = std::move(headers);
    return response;
}

} // namespace

FileResponse FileResponse::prepare(const QString &filePath, const HttpRequestHead &request)
{
    const QFileInfo info(filePath);
    if (!info.isFile())
        return errorResponse(404, "no such file");
    auto file = std::make_unique<QFile>(filePath);
    if (!file->open(QIODevice::ReadOnly))
        return errorResponse(info.isReadable() ? 500 : 403, file->errorString().toUtf8());
    const qint64 size = file->size();
    const QDateTime modified = info.lastModified();
    const QByteArray lastModified = httpDate(modified);
    // Every upload is a new file (renamed into place), so size and
    // modification time in milliseconds tell versions apart far better
    // than Last-Modified's whole seconds.
    const QByteArray etag = '"' + QByteArray::number(size, 16) + '-'
        + QByteArray::number(modified.toMSecsSinceEpoch(), 16) + '"';

    const QByteArray ifNoneMatch = request.header("if-none-match");
    bool notModified = false;
    if (!ifNoneMatch.isNull()) {
        notModified = noneMatchHits(ifNoneMatch, etag);
    } else {
        const QDateTime since = parseHttpDate(request.header("if-modified-since"));
        notModified = since.isValid() && modified.toSecsSinceEpoch() <= since.toSecsSinceEpoch();
    }
    FileResponse response;
    if (notModified) {
        response.status = 304;
        response.headers = {{"ETag", etag}, {"Last-Modified", lastModified}};
        return response;
    }

    static const QMimeDatabase mimeDatabase;
    const QByteArray type
        = mimeDatabase.mimeTypeForFile(info, QMimeDatabase::MatchExtension).name().toUtf8();
    Headers headers {
        {"Content-Type", type},
        {"Accept-Ranges", "bytes"},
        {"Last-Modified", lastModified},
        {"ETag", etag},
        {"Content-Security-Policy", "default-src 'none'; sandbox"},
    };
    // Stored files are data: a browser saves what could run as a page.
    if (isActiveType(type))
        headers.emplaceBack("Content-Disposition", "attachment");

    QByteArray range = request.header("range");
    // A range of a file that changed since the client's copy would splice
    // two versions together: send the whole file instead.
    const QByteArray ifRange = request.header("if-range").trimmed();
    if (!ifRange.isEmpty() && ifRange != etag && ifRange != lastModified)
        range.clear();

    qint64 first = 0;
    qint64 last = size - 1;
    int status = 200;
    switch (parseRange(range, size, &first, &last)) {
    case RangeKind::Whole:
        break;
    case RangeKind::Partial:
        status = 206;
        headers.emplaceBack("Content-Range",
                            "bytes " + QByteArray::number(first) + '-' + QByteArray::number(last)
                                + '/' + QByteArray::number(size));
        break;
    case RangeKind::Unsatisfiable:
        return errorResponse(416, "the requested range is outside the file",
                             {{"Content-Range", "bytes */" + QByteArray::number(size)}});
    }

    response.status = status;
    response.headers = std::move(headers);
    response.file = std::move(file);
    response.first = first;
    response.length = size == 0 ? 0 : last - first + 1;
    return response;
}
