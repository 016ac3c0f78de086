// The HTTP response helpers and request checks on arbitrary bytes: Retry-After
// and HTTP dates, Content-Range, the status error, header checks and the
// redaction of secrets. Each result must keep its promises, not only not crash.

#include "fuzzpromise.h"
#include "qhttpwire_p.h"

#include <QtCore/qtimezone.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

bool isDigits(QByteArrayView v)
{
    if (v.isEmpty())
        return false;
    for (char c : v) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QDateTime now(QDate(2024, 5, 1), QTime(12, 0, 0), QTimeZone::utc());

    // Retry-After: -1, or a pause within the cap; digits are always a pause.
    const qint64 retryAfter = QHttpWire::parseRetryAfter(input, now);
    check(retryAfter == -1 || (retryAfter >= 0 && retryAfter <= QHttpWire::MaxRetryAfterMs),
          "Retry-After outside [0, cap]");
    if (isDigits(trimmed(input)))
        check(retryAfter >= 0, "delay-seconds not read");
    const QDateTime date = QHttpWire::parseHttpDate(input, now);
    if (date.isValid())
        check(date.timeSpec() == Qt::UTC || date.offsetFromUtc() == 0, "date not in UTC");

    // Content-Range: a valid range is ordered, inside its length, and reads back the same.
    const QHttpWire::ContentRange range = QHttpWire::parseContentRange(input);
    if (range.valid) {
        check(range.first >= 0 && range.first <= range.last, "range out of order");
        check(range.complete < 0 || range.last < range.complete, "range beyond its length");
        check(range.length() > 0, "empty range");
        const QByteArray again = "bytes " + QByteArray::number(range.first) + '-'
            + QByteArray::number(range.last) + '/'
            + (range.complete < 0 ? QByteArray("*") : QByteArray::number(range.complete));
        const QHttpWire::ContentRange reread = QHttpWire::parseContentRange(again);
        check(reread.valid && reread.first == range.first && reread.last == range.last
                  && reread.complete == range.complete,
              "range does not read back");
    }

    // Header checks: what passes cannot end a header line.
    if (QHttpWire::problemWithHeaderValue("X", input).isEmpty()) {
        check(!input.contains('\r') && !input.contains('\n') && !input.contains('\0'),
              "a header value with CR, LF or NUL passed");
    }
    if (QHttpWire::problemWithHeaderName(input).isEmpty()) {
        check(!input.isEmpty() && !input.contains(':') && !input.contains(' ')
                  && !input.contains('\r') && !input.contains('\n'),
              "a bad header name passed");
    }

    // The status error: any status, reason, location and body make a
    // one-line message with the status kept.
    if (size >= 2) {
        const int status = int(int16_t(uint16_t(data[0]) << 8 | data[1]));
        const QByteArrayView rest = input.sliced(2);
        const qsizetype third = rest.size() / 3;
        QHttpWire::StatusAnswer answer;
        answer.status = status;
        answer.reason = QString::fromUtf8(rest.first(third));
        answer.location = rest.sliced(third, third).toByteArray();
        answer.body = rest.sliced(2 * third).toByteArray();
        answer.upload = (data[0] & 1) != 0;
        answer.requestUrl = QUrl(QStringLiteral("https://h.example/k?X-Amz-Signature=QUERYSECRET"));
        const QAttachmentError error = QHttpWire::statusError(answer);
        check(error.httpStatus() == status, "status lost");
        check(!error.message().contains(QLatin1Char('\n'))
                  && !error.message().contains(QLatin1Char('\r')),
              "message spans lines");
        check(!error.message().contains(QLatin1String("QUERYSECRET")), "request query in message");
    }

    // Redaction: a planted signature never survives, whatever surrounds it.
    const qsizetype half = input.size() / 2;
    const QString text = QString::fromUtf8(input.first(half))
        + QStringLiteral(" X-Amz-Signature=PLANTEDSECRET ") + QString::fromUtf8(input.sliced(half));
    check(!QHttpWire::redactSecrets(text).contains(QLatin1String("PLANTEDSECRET")),
          "a signature survived redaction");
    const QString echoed = QString::fromUtf8(input) + QStringLiteral("QUERYVALUESECRET");
    const QUrl url(QStringLiteral("https://h.example/k?v=QUERYVALUESECRET"));
    check(!QHttpWire::redactSecrets(echoed, url).contains(QLatin1String("QUERYVALUESECRET")),
          "the request's query survived redaction");
    QHttpWire::redactedUrl(QUrl::fromEncoded(input.toByteArray()));
    return 0;
}
