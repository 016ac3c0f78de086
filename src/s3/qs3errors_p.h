#ifndef QS3ERRORS_P_H
#define QS3ERRORS_P_H

#include "qattachmenterror.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>
#include <QtCore/qstringview.h>
#include <QtCore/qurl.h>

// What S3 answers in XML, read without trusting it: the error document of a
// failed request (also inside a 200 answer to CompleteMultipartUpload) and
// single elements of the other answers. Exported for the unit tests; the
// fuzzers compile it directly.

// Code and Message of an S3 <Error> document; empty when `body` is none.
struct POWERSYNC_ATTACHMENTS_TEST_EXPORT QS3ErrorDocument
{
    QString code;
    QString message;

    static QS3ErrorDocument parse(const QByteArray &body);
};

// Maps an S3 error answer to a QAttachmentError. `what` names the object for
// the message and the host of `requestUrl` where the answer came from (never
// its path or query); the server's code and message are cut short and any
// secret in them taken out.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentError qS3Error(int status, const QByteArray &body,
                                                            const QString &what,
                                                            const QUrl &requestUrl = {});

// The text of the first element named `name` anywhere in `xml`; empty when
// there is none or the document is not well-formed up to it.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString qS3XmlElementText(const QByteArray &xml,
                                                            QStringView name);

#endif // QS3ERRORS_P_H
