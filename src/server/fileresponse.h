#ifndef FILERESPONSE_H
#define FILERESPONSE_H

#include "httpfields.h"
#include "httprequestparser.h"

#include <QtCore/qfile.h>

#include <memory>

// The answer to a GET or HEAD of one file under the root, before any of it is
// sent: the status (200, 206, 304, or an error), its headers (type, entity
// tag, dates, range, the policies that keep stored files inert in a browser)
// and the open file with the byte range to send.
struct FileResponse
{
    int status = 0;
    HttpFields::Headers headers;
    // Set (and sent as the body) when the status is an error.
    QByteArray error;
    std::unique_ptr<QFile> file;
    qint64 first = 0;
    // Bytes of the body; -1 for a response without one (304).
    qint64 length = -1;

    bool isError() const { return !error.isNull(); }

    // Honours If-None-Match, If-Modified-Since, Range and If-Range.
    static FileResponse prepare(const QString &filePath, const HttpRequestHead &request);
};

#endif // FILERESPONSE_H
