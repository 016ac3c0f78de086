// S3's XML answers on arbitrary bytes: the error document parser, the error
// it maps to and single-element reads. Messages stay bounded whatever the
// server sends.

#include "fuzzpromise.h"
#include "qs3errors_p.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    const QS3ErrorDocument doc = QS3ErrorDocument::parse(body);
    check(doc.code.size() <= 100, "unbounded code");
    check(doc.message.size() <= 303, "unbounded message");
    for (const int status : {200, 403, 404, 500, 503}) {
        const QAttachmentError error = qS3Error(status, body, QStringLiteral("\"key\""));
        check(error.isError(), "an S3 error document that is no error");
        check(error.httpStatus() == status, "status lost");
        check(error.message().size() < 1000, "unbounded error message");
        check(!error.message().contains(QLatin1Char('\n')), "message spans lines");
    }
    qS3XmlElementText(body, u"UploadId");
    return 0;
}
