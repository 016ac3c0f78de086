#include "httpfields.h"

#include <QtCore/qlocale.h>
#include <QtCore/qtimezone.h>

namespace HttpFields {

namespace {

// Longest target written to the log.
constexpr qsizetype MaxLoggedTarget = 1024;

bool parseDigits(const QByteArray &text, qint64 *value)
{
    // Digits only (no sign, no blanks) and short enough not to overflow.
    if (text.isEmpty() || text.size() > 18)
        return false;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
    }
    *value = text.toLongLong();
    return true;
}

} // namespace

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    }
    return "Unknown";
}

QByteArray httpDate(const QDateTime &time)
{
    return QLocale::c()
        .toString(time.toUTC(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
        .toLatin1();
}

QDateTime parseHttpDate(const QByteArray &text)
{
    if (text.size() != 29 || text.at(16) != ' ' || !text.endsWith(" GMT"))
        return {};
    const QDate date = QLocale::c().toDate(QString::fromLatin1(text.left(16)),
                                           QStringLiteral("ddd, dd MMM yyyy"));
    const QTime time
        = QTime::fromString(QString::fromLatin1(text.mid(17, 8)), QStringLiteral("hh:mm:ss"));
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, QTimeZone::utc());
}

RangeKind parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last)
{
    const QByteArray spec = header.trimmed();
    if (spec.size() < 6 || spec.left(6).compare("bytes=", Qt::CaseInsensitive) != 0)
        return RangeKind::Whole;
    const QByteArray set = spec.mid(6).trimmed();
    if (set.contains(','))
        return RangeKind::Whole;
    const qsizetype dash = set.indexOf('-');
    if (dash < 0)
        return RangeKind::Whole;
    const QByteArray from = set.left(dash).trimmed();
    const QByteArray to = set.mid(dash + 1).trimmed();
    if (from.isEmpty()) {
        qint64 suffix = 0;
        if (!parseDigits(to, &suffix))
            return RangeKind::Whole;
        if (suffix == 0 || size == 0)
            return RangeKind::Unsatisfiable;
        *first = qMax<qint64>(0, size - suffix);
        *last = size - 1;
        return RangeKind::Partial;
    }
    qint64 start = 0;
    if (!parseDigits(from, &start))
        return RangeKind::Whole;
    qint64 end = size - 1;
    if (!to.isEmpty()) {
        if (!parseDigits(to, &end) || end < start)
            return RangeKind::Whole;
        end = qMin(end, size - 1);
    }
    if (start >= size)
        return RangeKind::Unsatisfiable;
    *first = start;
    *last = end;
    return RangeKind::Partial;
}

bool noneMatchHits(const QByteArray &header, const QByteArray &etag)
{
    for (const QByteArray &part : header.split(',')) {
        QByteArray tag = part.trimmed();
        if (tag == "*")
            return true;
        if (tag.startsWith("W/"))
            tag = tag.mid(2);
        if (tag == etag)
            return true;
    }
    return false;
}

bool isActiveType(const QByteArray &type)
{
    static const QByteArrayList active {
        "text/html",       "application/xhtml+xml",  "text/xml",
        "application/xml", "text/javascript",        "application/javascript",
        "text/xsl",        "application/xslt+xml",   "application/x-shockwave-flash",
        "text/ecmascript", "application/ecmascript", "application/x-javascript",
    };
    return active.contains(type) || type.endsWith("+xml");
}

QByteArray loggable(const QByteArray &text)
{
    if (text.isEmpty())
        return "-";
    QByteArray out;
    const qsizetype length = qMin(text.size(), MaxLoggedTarget);
    out.reserve(length);
    static const char hex[] = "0123456789ABCDEF";
    for (qsizetype i = 0; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text.at(i));
        if (byte > 0x20 && byte < 0x7f) {
            out += char(byte);
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    if (text.size() > length)
        out += "...";
    return out;
}

} // namespace HttpFields
