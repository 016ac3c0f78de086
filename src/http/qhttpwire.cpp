#include "qhttpwire_p.h"

#include "qattachmentnames_p.h"

#include <QtCore/qtimezone.h>
#include <QtNetwork/qnetworkrequest.h>

#include <limits>

namespace QHttpWire {

namespace {

constexpr int MessageBodyLimit = 300;
constexpr qsizetype RedactedBodyWindow = 16 * 1024;
constexpr qsizetype LocationLimit = 2048;
const QString Redacted = QStringLiteral("[redacted]");

bool isTokenChar(char c)
{
    return QAttachmentNames::isTokenChar(char16_t(uchar(c)));
}

bool isControl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

QString nameOfByte(char c)
{
    switch (c) {
    case '\r':
        return QStringLiteral("CR");
    case '\n':
        return QStringLiteral("LF");
    case '\0':
        return QStringLiteral("NUL");
    default:
        return QStringLiteral("0x%1").arg(uint(static_cast<unsigned char>(c)), 2, 16,
                                          QLatin1Char('0'));
    }
}

// `bytes` for a message: printable ASCII as is, everything else escaped, cut short.
QString printable(QByteArrayView bytes)
{
    QString out;
    for (qsizetype i = 0; i < bytes.size() && i < 64; ++i) {
        const auto u = static_cast<unsigned char>(bytes[i]);
        if (u >= 0x20 && u < 0x7f && u != '\\' && u != '"')
            out += QLatin1Char(char(u));
        else
            out += QStringLiteral("\\x%1").arg(uint(u), 2, 16, QLatin1Char('0'));
    }
    if (bytes.size() > 64)
        out += QStringLiteral("...");
    return out;
}

QString problemWithToken(QByteArrayView token, const QString &what)
{
    if (token.isEmpty())
        return QStringLiteral("the %1 is empty").arg(what);
    for (const char c : token) {
        if (!isTokenChar(c))
            return QStringLiteral("the %1 \"%2\" contains %3, which is not allowed in it")
                .arg(what, printable(token),
                     isControl(c) ? QStringLiteral("the control character ") + nameOfByte(c)
                                  : QStringLiteral("the character ") + nameOfByte(c));
    }
    return {};
}

QByteArrayView trimmed(QByteArrayView v)
{
    qsizetype b = 0;
    qsizetype e = v.size();
    while (b < e && (v[b] == ' ' || v[b] == '\t'))
        ++b;
    while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        --e;
    return v.sliced(b, e - b);
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A reader over one header value.
struct Cursor
{
    QByteArrayView s;
    qsizetype i = 0;

    bool atEnd() const { return i >= s.size(); }
    bool literal(char c)
    {
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    // Exactly `n` digits.
    bool digits(int n, int *out)
    {
        int value = 0;
        for (int k = 0; k < n; ++k) {
            if (i >= s.size() || !isDigit(s[i]))
                return false;
            value = value * 10 + (s[i] - '0');
            ++i;
        }
        *out = value;
        return true;
    }
    // One or more digits as a non-negative number; false on overflow.
    bool number(qint64 *out)
    {
        const qsizetype start = i;
        qint64 value = 0;
        while (i < s.size() && isDigit(s[i])) {
            const int digit = s[i] - '0';
            if (value > (std::numeric_limits<qint64>::max() - digit) / 10)
                return false;
            value = value * 10 + digit;
            ++i;
        }
        *out = value;
        return i > start;
    }
    QByteArrayView letters()
    {
        const qsizetype start = i;
        while (i < s.size() && isAlpha(s[i]))
            ++i;
        return s.sliced(start, i - start);
    }
    bool spaces()
    {
        const qsizetype start = i;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        return i > start;
    }
};

bool equalsIgnoringCase(QByteArrayView a, const char *b)
{
    return QByteArrayView(b).compare(a, Qt::CaseInsensitive) == 0;
}

bool isDayName(QByteArrayView word)
{
    static const char *const names[]
        = {"Mon",    "Tue",     "Wed",       "Thu",      "Fri",    "Sat",      "Sun",
           "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    for (const char *name : names) {
        if (equalsIgnoringCase(word, name))
            return true;
    }
    return false;
}

int monthOf(QByteArrayView word)
{
    static const char *const names[]
        = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; ++m) {
        if (equalsIgnoringCase(word, names[m]))
            return m + 1;
    }
    return 0;
}

bool timeOfDay(Cursor &c, QTime *time)
{
    int h = 0;
    int m = 0;
    int s = 0;
    if (!c.digits(2, &h) || !c.literal(':') || !c.digits(2, &m) || !c.literal(':')
        || !c.digits(2, &s))
        return false;
    if (h > 23 || m > 59 || s > 60)
        return false;
    *time = QTime(h, m, qMin(s, 59)); // a leap second counts as the one before
    return true;
}

bool isParameterBoundary(const QString &text, qsizetype at)
{
    if (at == 0)
        return true;
    const QChar c = text.at(at - 1);
    return !(c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_'));
}

bool endsSecret(QChar c)
{
    return c.isSpace() || c == QLatin1Char('&') || c == QLatin1Char('"') || c == QLatin1Char('\'')
        || c == QLatin1Char('<') || c == QLatin1Char('>') || c == QLatin1Char(',')
        || c == QLatin1Char(';');
}

// Replaces the value after every `name=` or `name:` with [redacted].
void redactParameter(QString &text, QLatin1String name)
{
    qsizetype from = 0;
    while (from < text.size()) {
        const qsizetype at = text.indexOf(name, from, Qt::CaseInsensitive);
        if (at < 0)
            return;
        qsizetype i = at + name.size();
        from = i;
        if (!isParameterBoundary(text, at) || i >= text.size())
            continue;
        if (text.at(i) == QLatin1Char(':')) {
            ++i;
            while (i < text.size() && (text.at(i) == QLatin1Char(' ')))
                ++i;
        } else if (text.at(i) == QLatin1Char('=')) {
            ++i;
        } else {
            continue;
        }
        qsizetype end = i;
        while (end < text.size() && !endsSecret(text.at(end)))
            ++end;
        if (end == i || text.mid(i, end - i) == Redacted)
            continue;
        text.replace(i, end - i, Redacted);
        from = i + Redacted.size();
    }
}

// Replaces the content of every <name>...</name> with [redacted].
void redactElement(QString &text, const QString &name)
{
    const QString open = QLatin1Char('<') + name + QLatin1Char('>');
    const QString close = QStringLiteral("</") + name + QLatin1Char('>');
    qsizetype from = 0;
    while (from < text.size()) {
        const qsizetype at = text.indexOf(open, from, Qt::CaseInsensitive);
        if (at < 0)
            return;
        const qsizetype start = at + open.size();
        qsizetype end = text.indexOf(close, start, Qt::CaseInsensitive);
        if (end < 0)
            end = text.size(); // cut off: everything after the tag
        text.replace(start, end - start, Redacted);
        from = start + Redacted.size();
    }
}

// Takes user info, query and fragment out of every http(s) URL in `text`.
void redactUrls(QString &text)
{
    qsizetype from = 0;
    while (from < text.size()) {
        const qsizetype http = text.indexOf(QLatin1String("http://"), from, Qt::CaseInsensitive);
        const qsizetype https = text.indexOf(QLatin1String("https://"), from, Qt::CaseInsensitive);
        qsizetype at = http < 0 ? https : (https < 0 ? http : qMin(http, https));
        if (at < 0)
            return;
        const qsizetype authority = text.indexOf(QLatin1String("://"), at) + 3;
        qsizetype end = authority;
        while (end < text.size() && !text.at(end).isSpace() && text.at(end) != QLatin1Char('"')
               && text.at(end) != QLatin1Char('\'') && text.at(end) != QLatin1Char('<')
               && text.at(end) != QLatin1Char('>'))
            ++end;
        qsizetype authorityEnd = authority;
        while (authorityEnd < end && text.at(authorityEnd) != QLatin1Char('/')
               && text.at(authorityEnd) != QLatin1Char('?')
               && text.at(authorityEnd) != QLatin1Char('#'))
            ++authorityEnd;
        const qsizetype atSign = text.lastIndexOf(QLatin1Char('@'), authorityEnd - 1);
        if (atSign >= authority && atSign < authorityEnd) {
            text.remove(authority, atSign + 1 - authority);
            end -= atSign + 1 - authority;
            authorityEnd -= atSign + 1 - authority;
        }
        qsizetype cut = authorityEnd;
        while (cut < end && text.at(cut) != QLatin1Char('?') && text.at(cut) != QLatin1Char('#'))
            ++cut;
        text.remove(cut, end - cut);
        from = cut;
    }
}

QString bodySnippet(const QByteArray &body, const QUrl &requestUrl)
{
    QString text
        = redactSecrets(QString::fromUtf8(body.left(RedactedBodyWindow)), requestUrl).simplified();
    if (text.size() > MessageBodyLimit)
        text = text.left(MessageBodyLimit) + QStringLiteral("...");
    return text;
}

} // namespace

QString problemWithHeaderName(QByteArrayView name)
{
    return problemWithToken(name, QStringLiteral("header name"));
}

QString problemWithHeaderValue(QByteArrayView name, QByteArrayView value)
{
    for (const char c : value) {
        if (isControl(c))
            return QStringLiteral("the value of the header \"%1\" contains the control "
                                  "character %2")
                .arg(printable(name), nameOfByte(c));
    }
    return {};
}

QString problemWithMethod(QByteArrayView method)
{
    return problemWithToken(method, QStringLiteral("request method"));
}

QString problemWithRequest(const QNetworkRequest &request, QByteArrayView method)
{
    QString problem = problemWithMethod(method);
    if (!problem.isEmpty())
        return problem;
    const QList<QByteArray> names = request.rawHeaderList();
    for (const QByteArray &name : names) {
        problem = problemWithHeaderName(name);
        if (problem.isEmpty())
            problem = problemWithHeaderValue(name, request.rawHeader(name));
        if (!problem.isEmpty())
            return problem;
    }
    return {};
}

QDateTime parseHttpDate(QByteArrayView value, const QDateTime &now)
{
    Cursor c {trimmed(value)};
    const QByteArrayView dayName = c.letters();
    if (!isDayName(dayName))
        return {};
    int day = 0;
    int month = 0;
    int year = 0;
    QTime time;
    if (c.literal(',')) {
        if (!c.literal(' ') || !c.digits(2, &day))
            return {};
        if (c.literal(' ')) {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            month = monthOf(c.letters());
            if (!month || !c.literal(' ') || !c.digits(4, &year))
                return {};
        } else if (c.literal('-')) {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            int twoDigits = 0;
            month = monthOf(c.letters());
            if (!month || !c.literal('-') || !c.digits(2, &twoDigits))
                return {};
            // More than 50 years ahead means the century before (RFC 9110).
            const int nowYear = now.toUTC().date().year();
            year = nowYear - nowYear % 100 + twoDigits;
            if (year > nowYear + 50)
                year -= 100;
        } else {
            return {};
        }
        if (!c.literal(' ') || !timeOfDay(c, &time) || !c.literal(' ')
            || c.letters() != QByteArrayView("GMT"))
            return {};
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        if (!c.literal(' '))
            return {};
        month = monthOf(c.letters());
        if (!month || !c.literal(' '))
            return {};
        if (c.literal(' ')) {
            if (!c.digits(1, &day))
                return {};
        } else if (!c.digits(2, &day)) {
            return {};
        }
        if (!c.literal(' ') || !timeOfDay(c, &time) || !c.literal(' ') || !c.digits(4, &year))
            return {};
    }
    if (!c.atEnd())
        return {};
    const QDate date(year, month, day);
    if (!date.isValid() || !time.isValid())
        return {};
    return QDateTime(date, time, QTimeZone::utc());
}

qint64 parseRetryAfter(QByteArrayView value, const QDateTime &now)
{
    const QByteArrayView v = trimmed(value);
    if (v.isEmpty())
        return -1;
    if (isDigit(v[0])) {
        // delay-seconds: 1*DIGIT, any length; beyond the cap it is the cap.
        qint64 seconds = 0;
        for (const char c : v) {
            if (!isDigit(c))
                return -1;
            if (seconds <= MaxRetryAfterMs / 1000)
                seconds = seconds * 10 + (c - '0');
        }
        return seconds > MaxRetryAfterMs / 1000 ? MaxRetryAfterMs : seconds * 1000;
    }
    const QDateTime when = parseHttpDate(v, now);
    if (!when.isValid() || !now.isValid())
        return -1;
    const qint64 ms = now.msecsTo(when);
    return qBound<qint64>(0, ms, MaxRetryAfterMs);
}

ContentRange parseContentRange(QByteArrayView value)
{
    ContentRange range;
    Cursor c {trimmed(value)};
    if (!equalsIgnoringCase(c.letters(), "bytes") || !c.spaces())
        return range;
    qint64 first = 0;
    qint64 last = 0;
    if (!c.number(&first) || !c.literal('-') || !c.number(&last) || !c.literal('/'))
        return range;
    qint64 complete = -1;
    if (!c.literal('*') && !c.number(&complete))
        return range;
    if (!c.atEnd() || first > last || (complete >= 0 && last >= complete))
        return range;
    range.first = first;
    range.last = last;
    range.complete = complete;
    range.valid = true;
    return range;
}

QByteArray usableValidator(const QByteArray &value)
{
    if (value.size() > 1024)
        return {};
    for (const char c : value) {
        if (c < 0x20 || c > 0x7e)
            return {};
    }
    return value;
}

QByteArray rangeValidator(const QByteArray &etag, const QByteArray &lastModified)
{
    const QByteArray tag = etag.trimmed();
    if (tag.size() >= 2 && tag.startsWith('"') && tag.endsWith('"'))
        return usableValidator(tag);
    if (!tag.isEmpty())
        return {};
    return usableValidator(lastModified.trimmed());
}

bool redirect(QNetworkRequest *request, int status, const QByteArray &location)
{
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return false;
    const QByteArray trimmed = location.trimmed();
    if (trimmed.isEmpty())
        return false;
    const QUrl from = request->url();
    const QUrl target = from.resolved(QUrl::fromEncoded(trimmed));
    const QString scheme = target.scheme();
    if (!target.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || (from.scheme() == QLatin1String("https") && scheme != QLatin1String("https")))
        return false;
    // Once dropped, the headers stay dropped, also on a way back.
    const auto origin = [](const QUrl &url) {
        return url.adjusted(QUrl::RemoveUserInfo | QUrl::RemovePath | QUrl::RemoveQuery
                            | QUrl::RemoveFragment);
    };
    if (origin(target) != origin(from)) {
        const QList<QByteArray> names = request->rawHeaderList();
        for (const QByteArray &name : names)
            request->setRawHeader(name, QByteArray());
    }
    request->setUrl(target);
    return true;
}

QAttachmentError statusError(const StatusAnswer &answer)
{
    QString message = QStringLiteral("HTTP %1").arg(answer.status);
    const QString reason = answer.reason.simplified().left(100);
    if (!reason.isEmpty())
        message += QLatin1Char(' ') + reason;
    // Where the answer came from: the host, never the path or query.
    if (!answer.requestUrl.host().isEmpty())
        message += QStringLiteral(" from ") + hostOf(answer.requestUrl);
    if (answer.status >= 300 && answer.status < 400) {
        QUrl target = QUrl::fromEncoded(answer.location.left(LocationLimit).trimmed());
        if (!answer.requestUrl.isEmpty())
            target = answer.requestUrl.resolved(target);
        const QString where = answer.location.trimmed().isEmpty()
            ? QString()
            : redactSecrets(redactedUrl(target), answer.requestUrl);
        message += answer.upload
            ? QStringLiteral(": the server redirected the upload to \"%1\"; uploads do "
                             "not follow redirects, point the storage at the final URL")
                  .arg(where)
            : QStringLiteral(": redirected to \"%1\", which is not followed").arg(where);
    }
    const QString snippet = bodySnippet(answer.body, answer.requestUrl);
    if (!snippet.isEmpty())
        message += QStringLiteral(": ") + snippet;
    return QAttachmentError::fromHttpStatus(answer.status, message);
}

QAttachmentError answerError(const ErrorParser &parse, const StatusAnswer &answer,
                             QByteArrayView retryAfter)
{
    QAttachmentError error = parse ? parse(answer.status, answer.body) : statusError(answer);
    if (!error.isError())
        error = QAttachmentError::fromHttpStatus(answer.status);
    if (error.httpStatus() == 0)
        error.setHttpStatus(answer.status);
    if (error.retryAfterMs() < 0)
        error.setRetryAfterMs(parseRetryAfter(retryAfter));
    return error;
}

QString hostOf(const QUrl &url)
{
    QString host = url.host(QUrl::FullyEncoded);
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    if (url.port() != -1)
        host += QLatin1Char(':') + QString::number(url.port());
    return host;
}

QString redactedUrl(const QUrl &url)
{
    return url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment
                        | QUrl::FullyEncoded);
}

QString redactSecrets(const QString &input, const QUrl &requestUrl)
{
    QString text = input;
    if (requestUrl.hasQuery()) {
        // The query as sent and as decoded, and each of its values long
        // enough to be a secret.
        QStringList secrets
            = {requestUrl.query(QUrl::FullyEncoded), requestUrl.query(QUrl::FullyDecoded)};
        const QStringList items = requestUrl.query(QUrl::FullyEncoded).split(QLatin1Char('&'));
        for (const QString &item : items) {
            const qsizetype eq = item.indexOf(QLatin1Char('='));
            if (eq < 0)
                continue;
            const QString encoded = item.mid(eq + 1);
            secrets << encoded << QUrl::fromPercentEncoding(encoded.toLatin1());
        }
        for (const QString &secret : std::as_const(secrets)) {
            if (secret.size() >= 8)
                text.replace(secret, Redacted);
        }
    }
    redactUrls(text);
    static const QLatin1String parameters[] = {
        QLatin1String("X-Amz-Signature"),
        QLatin1String("X-Amz-Credential"),
        QLatin1String("X-Amz-Security-Token"),
        QLatin1String("X-Goog-Signature"),
        QLatin1String("X-Goog-Credential"),
        QLatin1String("Signature"),
        QLatin1String("Credential"),
        QLatin1String("AWSAccessKeyId"),
        QLatin1String("sig"),
        QLatin1String("token"),
        QLatin1String("access_token"),
    };
    for (const QLatin1String &name : parameters)
        redactParameter(text, name);
    static const QStringList elements = {
        QStringLiteral("SignatureProvided"),     QStringLiteral("StringToSign"),
        QStringLiteral("StringToSignBytes"),     QStringLiteral("CanonicalRequest"),
        QStringLiteral("CanonicalRequestBytes"), QStringLiteral("AWSAccessKeyId"),
    };
    for (const QString &name : elements)
        redactElement(text, name);
    // Bearer tokens, wherever an Authorization header is echoed.
    qsizetype from = 0;
    while (from < text.size()) {
        const qsizetype at = text.indexOf(QLatin1String("Bearer "), from, Qt::CaseInsensitive);
        if (at < 0)
            break;
        qsizetype start = at + 7;
        while (start < text.size() && text.at(start) == QLatin1Char(' '))
            ++start;
        qsizetype end = start;
        while (end < text.size() && !endsSecret(text.at(end)))
            ++end;
        if (end > start && text.mid(start, end - start) != Redacted)
            text.replace(start, end - start, Redacted);
        from = start + Redacted.size();
    }
    return text;
}

} // namespace QHttpWire
