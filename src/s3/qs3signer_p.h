#ifndef QS3SIGNER_P_H
#define QS3SIGNER_P_H

#include "qpowersyncattachmentsglobal.h"

#include <QtCore/qbytearray.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qlist.h>
#include <QtCore/qurl.h>

#include <utility>

class QIODevice;
class QNetworkRequest;

// AWS Signature Version 4 (header and query-string forms).
//
// Exported for the unit tests, which check it against the published AWS
// vectors; not part of the installed API.
class POWERSYNC_ATTACHMENTS_TEST_EXPORT QS3Signer
{
public:
    // S3 signs the path as sent, with each segment encoded exactly once; every
    // other AWS service encodes the path as it appears on the request line
    // again, so an already encoded `%` becomes `%25`.
    enum PathEncoding { S3PathEncoding, DoublePathEncoding };

    using Pair = std::pair<QByteArray, QByteArray>;

    struct Request
    {
        QByteArray method;
        // The path as it appears on the request line: raw UTF-8 or
        // percent-encoded (S3 decodes it first, so both sign alike).
        QByteArray path = "/";
        // Query parameters, percent-decoded.
        QList<Pair> query;
        // Headers to sign, any case and with any surrounding space; must
        // include host.
        QList<Pair> headers;
        // Hex SHA-256 of the body, or UNSIGNED-PAYLOAD.
        QByteArray payloadHash;
    };

    QS3Signer() = default;
    QS3Signer(const QByteArray &accessKeyId, const QByteArray &secretAccessKey,
              const QByteArray &region, const QByteArray &service = "s3",
              const QByteArray &sessionToken = {});

    QByteArray accessKeyId() const { return m_accessKeyId; }
    QByteArray region() const { return m_region; }
    QByteArray service() const { return m_service; }
    QByteArray sessionToken() const { return m_sessionToken; }
    PathEncoding pathEncoding() const { return m_pathEncoding; }
    void setPathEncoding(PathEncoding encoding) { m_pathEncoding = encoding; }

    // RFC 3986 encoding as AWS defines it: unreserved characters stay, every
    // other byte becomes %XX (upper case); `/` stays unless `encodeSlash`.
    static QByteArray uriEncode(const QByteArray &bytes, bool encodeSlash = true);
    static QByteArray sha256Hex(const QByteArray &data);
    // SHA-256 of `length` bytes of `device` from `offset`, read in chunks
    // (-1: to the end). Empty on a read error.
    static QByteArray sha256Hex(QIODevice *device, qint64 offset = 0, qint64 length = -1);
    static QByteArray emptyPayloadHash();
    static QByteArray unsignedPayload() { return QByteArrayLiteral("UNSIGNED-PAYLOAD"); }
    static QByteArray amzDate(const QDateTime &time); // 20150830T123600Z
    // Splits a percent-encoded query string into decoded pairs.
    static QList<Pair> parseQuery(const QByteArray &encodedQuery);
    // The Host header value for `url` (host, plus the port when it is not the
    // scheme's default).
    static QByteArray hostHeader(const QUrl &url);

    QByteArray canonicalUri(const QByteArray &path) const;
    static QByteArray canonicalQuery(const QList<Pair> &query);
    QByteArray canonicalRequest(const Request &request) const;
    QByteArray signedHeaders(const Request &request) const;
    QByteArray credentialScope(const QDateTime &time) const;
    QByteArray stringToSign(const QByteArray &canonicalRequest, const QDateTime &time) const;
    QByteArray signingKey(const QDate &date) const;
    QByteArray signature(const Request &request, const QDateTime &time) const;
    QByteArray authorization(const Request &request, const QDateTime &time) const;

    // Signs `request` for `method` in place: sets Host, x-amz-date,
    // x-amz-content-sha256, x-amz-security-token (with a session token) and
    // Authorization. Headers already on the request named in
    // `extraSignedHeaders` (lower case) are signed too.
    void sign(QNetworkRequest &request, const QByteArray &method, const QByteArray &payloadHash,
              const QDateTime &time = QDateTime::currentDateTimeUtc(),
              const QList<QByteArray> &extraSignedHeaders = {}) const;

    // A URL anyone can use with `method` until `expiresSeconds` after `time`
    // (at most 7 days), signed over the host only with an unsigned payload.
    QUrl presign(const QUrl &url, const QByteArray &method, int expiresSeconds,
                 const QDateTime &time = QDateTime::currentDateTimeUtc()) const;

private:
    QByteArray m_accessKeyId;
    QByteArray m_secretAccessKey;
    QByteArray m_region;
    QByteArray m_service = "s3";
    QByteArray m_sessionToken;
    PathEncoding m_pathEncoding = S3PathEncoding;
};

#endif // QS3SIGNER_P_H
