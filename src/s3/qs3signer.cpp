#include "qs3signer_p.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qiodevice.h>
#include <QtCore/qmessageauthenticationcode.h>
#include <QtNetwork/qnetworkrequest.h>

#include <algorithm>

namespace {

constexpr char algorithmName[] = "AWS4-HMAC-SHA256";

QByteArray hmac(const QByteArray &key, const QByteArray &message)
{
    return QMessageAuthenticationCode::hash(message, key, QCryptographicHash::Sha256);
}

bool isUnreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_' || c == '.' || c == '~';
}

// Header values are signed trimmed, with runs of spaces collapsed to one.
QByteArray canonicalHeaderValue(const QByteArray &value)
{
    QByteArray out;
    out.reserve(value.size());
    bool pendingSpace = false;
    for (char c : value.trimmed()) {
        if (c == ' ' || c == '\t') {
            pendingSpace = true;
            continue;
        }
        if (pendingSpace)
            out += ' ';
        pendingSpace = false;
        out += c;
    }
    return out;
}

// Lower-cased names, sorted; repeated names are joined with commas as the
// specification asks.
QList<QS3Signer::Pair> canonicalHeaderList(const QList<QS3Signer::Pair> &headers)
{
    QList<QS3Signer::Pair> list;
    for (const auto &[name, value] : headers) {
        const QByteArray lower = name.trimmed().toLower();
        const QByteArray canonicalValue = canonicalHeaderValue(value);
        auto it = std::find_if(list.begin(), list.end(),
                               [&](const QS3Signer::Pair &p) { return p.first == lower; });
        if (it != list.end())
            it->second += ',' + canonicalValue;
        else
            list.append({lower, canonicalValue});
    }
    std::sort(list.begin(), list.end(),
              [](const QS3Signer::Pair &a, const QS3Signer::Pair &b) { return a.first < b.first; });
    return list;
}

} // namespace

QS3Signer::QS3Signer(const QByteArray &accessKeyId, const QByteArray &secretAccessKey,
                     const QByteArray &region, const QByteArray &service,
                     const QByteArray &sessionToken)
    : m_accessKeyId(accessKeyId)
    , m_secretAccessKey(secretAccessKey)
    , m_region(region)
    , m_service(service)
    , m_sessionToken(sessionToken)
{ }

QByteArray QS3Signer::uriEncode(const QByteArray &bytes, bool encodeSlash)
{
    static const char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(bytes.size() * 3);
    for (char c : bytes) {
        if (isUnreserved(c) || (c == '/' && !encodeSlash)) {
            out += c;
        } else {
            const auto u = static_cast<unsigned char>(c);
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
    return out;
}

QByteArray QS3Signer::sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

QByteArray QS3Signer::sha256Hex(QIODevice *device, qint64 offset, qint64 length)
{
    if (!device || !device->isReadable() || !device->seek(offset))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    QByteArray buffer(1024 * 1024, Qt::Uninitialized);
    qint64 remaining = length;
    while (remaining != 0) {
        const qint64 want
            = remaining < 0 ? buffer.size() : std::min<qint64>(remaining, buffer.size());
        const qint64 got = device->read(buffer.data(), want);
        if (got < 0)
            return {};
        if (got == 0) {
            if (remaining > 0)
                return {}; // shorter than promised
            break;
        }
        hash.addData(QByteArrayView(buffer.constData(), got));
        if (remaining > 0)
            remaining -= got;
    }
    return hash.result().toHex();
}

QByteArray QS3Signer::emptyPayloadHash()
{
    return QByteArrayLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

QByteArray QS3Signer::amzDate(const QDateTime &time)
{
    return time.toUTC().toString(QStringLiteral("yyyyMMdd'T'HHmmss'Z'")).toLatin1();
}

QList<QS3Signer::Pair> QS3Signer::parseQuery(const QByteArray &encodedQuery)
{
    QList<Pair> pairs;
    for (const QByteArray &item : encodedQuery.split('&')) {
        if (item.isEmpty())
            continue;
        const qsizetype eq = item.indexOf('=');
        const QByteArray name = eq < 0 ? item : item.left(eq);
        const QByteArray value = eq < 0 ? QByteArray() : item.mid(eq + 1);
        pairs.append(
            {QByteArray::fromPercentEncoding(name), QByteArray::fromPercentEncoding(value)});
    }
    return pairs;
}

QByteArray QS3Signer::hostHeader(const QUrl &url)
{
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    const int port = url.port();
    const int defaultPort = url.scheme() == QLatin1String("https") ? 443 : 80;
    if (port != -1 && port != defaultPort)
        host += ':' + QByteArray::number(port);
    return host;
}

QByteArray QS3Signer::canonicalUri(const QByteArray &path) const
{
    if (path.isEmpty())
        return QByteArrayLiteral("/");
    if (m_pathEncoding == S3PathEncoding)
        return uriEncode(QByteArray::fromPercentEncoding(path), false);
    return uriEncode(path, false);
}

QByteArray QS3Signer::canonicalQuery(const QList<Pair> &query)
{
    QList<Pair> encoded;
    encoded.reserve(query.size());
    for (const auto &[name, value] : query)
        encoded.append({uriEncode(name), uriEncode(value)});
    std::sort(encoded.begin(), encoded.end());
    QByteArray out;
    for (const auto &[name, value] : encoded) {
        if (!out.isEmpty())
            out += '&';
        out += name + '=' + value;
    }
    return out;
}

QByteArray QS3Signer::signedHeaders(const Request &request) const
{
    QByteArray out;
    for (const auto &header : canonicalHeaderList(request.headers)) {
        if (!out.isEmpty())
            out += ';';
        out += header.first;
    }
    return out;
}

QByteArray QS3Signer::canonicalRequest(const Request &request) const
{
    QByteArray out = request.method + '\n' + canonicalUri(request.path) + '\n'
        + canonicalQuery(request.query) + '\n';
    for (const auto &[name, value] : canonicalHeaderList(request.headers))
        out += name + ':' + value + '\n';
    out += '\n' + signedHeaders(request) + '\n' + request.payloadHash;
    return out;
}

QByteArray QS3Signer::credentialScope(const QDateTime &time) const
{
    return time.toUTC().date().toString(QStringLiteral("yyyyMMdd")).toLatin1() + '/' + m_region
        + '/' + m_service + "/aws4_request";
}

QByteArray QS3Signer::stringToSign(const QByteArray &canonicalRequest, const QDateTime &time) const
{
    return QByteArray(algorithmName) + '\n' + amzDate(time) + '\n' + credentialScope(time) + '\n'
        + sha256Hex(canonicalRequest);
}

QByteArray QS3Signer::signingKey(const QDate &date) const
{
    const QByteArray dateKey
        = hmac("AWS4" + m_secretAccessKey, date.toString(QStringLiteral("yyyyMMdd")).toLatin1());
    return hmac(hmac(hmac(dateKey, m_region), m_service), QByteArrayLiteral("aws4_request"));
}

QByteArray QS3Signer::signature(const Request &request, const QDateTime &time) const
{
    const QDateTime utc = time.toUTC();
    return hmac(signingKey(utc.date()), stringToSign(canonicalRequest(request), utc)).toHex();
}

QByteArray QS3Signer::authorization(const Request &request, const QDateTime &time) const
{
    return QByteArray(algorithmName) + " Credential=" + m_accessKeyId + '/' + credentialScope(time)
        + ", SignedHeaders=" + signedHeaders(request) + ", Signature=" + signature(request, time);
}

void QS3Signer::sign(QNetworkRequest &request, const QByteArray &method,
                     const QByteArray &payloadHash, const QDateTime &time,
                     const QList<QByteArray> &extraSignedHeaders) const
{
    const QUrl url = request.url();
    const QByteArray host = hostHeader(url);
    const QByteArray date = amzDate(time);
    request.setRawHeader("Host", host);
    request.setRawHeader("x-amz-date", date);
    request.setRawHeader("x-amz-content-sha256", payloadHash);
    if (!m_sessionToken.isEmpty())
        request.setRawHeader("x-amz-security-token", m_sessionToken);

    Request r;
    r.method = method;
    r.path = url.path(QUrl::FullyEncoded).toLatin1();
    r.query = parseQuery(url.query(QUrl::FullyEncoded).toLatin1());
    r.payloadHash = payloadHash;
    r.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payloadHash}};
    if (!m_sessionToken.isEmpty())
        r.headers.append({"x-amz-security-token", m_sessionToken});
    for (const QByteArray &name : extraSignedHeaders) {
        if (request.hasRawHeader(name))
            r.headers.append({name.toLower(), request.rawHeader(name)});
    }
    request.setRawHeader("Authorization", authorization(r, time));
}

QUrl QS3Signer::presign(const QUrl &url, const QByteArray &method, int expiresSeconds,
                        const QDateTime &time) const
{
    Request r;
    r.method = method;
    r.path = url.path(QUrl::FullyEncoded).toLatin1();
    r.query = parseQuery(url.query(QUrl::FullyEncoded).toLatin1());
    r.query.append(Pair("X-Amz-Algorithm", algorithmName));
    r.query.append(Pair("X-Amz-Credential", m_accessKeyId + '/' + credentialScope(time)));
    r.query.append({"X-Amz-Date", amzDate(time)});
    r.query.append({"X-Amz-Expires", QByteArray::number(std::clamp(expiresSeconds, 1, 604800))});
    if (!m_sessionToken.isEmpty())
        r.query.append({"X-Amz-Security-Token", m_sessionToken});
    r.query.append(Pair("X-Amz-SignedHeaders", "host"));
    r.headers = {{"host", hostHeader(url)}};
    r.payloadHash = unsignedPayload();

    QList<Pair> query = r.query;
    query.append({"X-Amz-Signature", signature(r, time)});
    QByteArray encoded;
    for (const auto &[name, value] : query) {
        if (!encoded.isEmpty())
            encoded += '&';
        encoded += uriEncode(name) + '=' + uriEncode(value);
    }
    QUrl out = url;
    out.setQuery(QString::fromLatin1(encoded), QUrl::StrictMode);
    return out;
}
