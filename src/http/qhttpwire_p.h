#ifndef QHTTPWIRE_P_H
#define QHTTPWIRE_P_H

#include "qattachmenterror.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qstring.h>
#include <QtCore/qurl.h>

#include <functional>

class QNetworkRequest;

// What goes onto the wire and what comes back from it, as small free
// functions: the checks every request passes before it is sent (by the plain
// HTTP, presigned and S3 adapters alike), the parsers of the response headers
// the engine acts on, and the redaction of URLs and secrets in messages.
//
// Exported for the unit tests and fuzzers; not part of the installed API.
namespace QHttpWire {

// Empty for a valid header name (an RFC 9110 token), else what is wrong.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString problemWithHeaderName(QByteArrayView name);
// Empty when `value` may be sent as the value of header `name`: no CR, LF,
// NUL or other control character (HTAB is allowed). The value itself never
// appears in the answer, as it may be a secret.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString problemWithHeaderValue(QByteArrayView name,
                                                                 QByteArrayView value);
// Empty for a valid request method (an RFC 9110 token).
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString problemWithMethod(QByteArrayView method);
// The method and every header of `request` (raw and known ones).
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString problemWithRequest(const QNetworkRequest &request,
                                                             QByteArrayView method);

// The longest pause a Retry-After is read as: about 68 years, so that adding
// it to any clock reading stays far from overflowing.
constexpr qint64 MaxRetryAfterMs = qint64(0x7fffffff) * 1000;

// An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850 or asctime form) in
// UTC; invalid when `value` is none.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QDateTime parseHttpDate(QByteArrayView value,
                                                          const QDateTime &now
                                                          = QDateTime::currentDateTimeUtc());
// Retry-After (delay-seconds or an HTTP-date) in milliseconds from `now`,
// between 0 and MaxRetryAfterMs; -1 when absent or malformed.
POWERSYNC_ATTACHMENTS_TEST_EXPORT qint64 parseRetryAfter(QByteArrayView value,
                                                         const QDateTime &now
                                                         = QDateTime::currentDateTimeUtc());

// A Content-Range of a 206 answer: "bytes first-last/complete", complete
// being -1 for "*". Valid only when first <= last and last < complete.
struct ContentRange
{
    qint64 first = -1;
    qint64 last = -1;
    qint64 complete = -1;
    bool valid = false;

    qint64 length() const { return valid ? last - first + 1 : -1; }
    // Whether the range runs to the end of the resource (always when its
    // length is unknown).
    bool reachesEnd() const { return valid && (complete < 0 || last == complete - 1); }
};
POWERSYNC_ATTACHMENTS_TEST_EXPORT ContentRange parseContentRange(QByteArrayView value);

// A validator that may go back to the server in a header (printable ASCII,
// at most 1 KiB); empty otherwise.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QByteArray usableValidator(const QByteArray &value);
// The validator If-Range accepts from a response's ETag and Last-Modified
// fields: a strong ETag, else the date; empty when there is neither, or when
// the ETag is weak (If-Range must not use it, and the date is no better then).
POWERSYNC_ATTACHMENTS_TEST_EXPORT QByteArray rangeValidator(const QByteArray &etag,
                                                            const QByteArray &lastModified);

// The error for a final answer outside 2xx: the status mapped to a code, the
// reason phrase, where a redirect pointed (without its query) and the start
// of the body, with secrets taken out. Retry-After is not part of it.
struct StatusAnswer
{
    int status = 0;
    QString reason;
    QByteArray location;
    QByteArray body;
    bool upload = false;
    QUrl requestUrl; // its query never appears in the message
};
POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentError statusError(const StatusAnswer &answer);
// An adapter's own reading of an error answer (status, start of the body).
using ErrorParser = std::function<QAttachmentError(int status, const QByteArray &body)>;
// The error both exchanges report for a final answer outside 2xx: `parse`'s
// (when set) or statusError()'s, the status's own code when neither named
// one, always with the status, and Retry-After (`retryAfter`) unless the
// error has a pause already.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QAttachmentError answerError(const ErrorParser &parse,
                                                               const StatusAnswer &answer,
                                                               QByteArrayView retryAfter);

// Points `request` at where a redirect (301, 302, 303, 307, 308 with a
// Location) sends it, resolved against its URL; false, and `request`
// unchanged, for any other answer, a target that is not http(s), or one
// from https to http. Every header set on the request (Authorization, static
// headers, a presigned request's) is meant for the origin that was asked:
// all go when the target is another origin.
POWERSYNC_ATTACHMENTS_TEST_EXPORT bool redirect(QNetworkRequest *request, int status,
                                                const QByteArray &location);

// "host" or "host:port" of `url`, to name the peer in messages.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString hostOf(const QUrl &url);
// `url` without user info, query or fragment: safe to log.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString redactedUrl(const QUrl &url);
// `text` (an error string, the start of a response body) with what may be a
// credential taken out: the query, user info and fragment of every http(s)
// URL in it, presigning parameters (X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, ...), the signing details S3 sends back in an error
// document, bearer tokens, and the query of `requestUrl` wherever it appears.
POWERSYNC_ATTACHMENTS_TEST_EXPORT QString redactSecrets(const QString &text,
                                                        const QUrl &requestUrl = {});

} // namespace QHttpWire

#endif // QHTTPWIRE_P_H
