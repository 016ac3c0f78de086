// The SigV4 canonical encoder on arbitrary bytes: URI encoding, canonical
// URIs and queries, and canonical requests. What is signed must be
// unambiguous: one line per header, only unreserved characters and %XX in
// encoded parts, and encoding must reverse exactly.

#include "fuzzpromise.h"
#include "qhttpwire_p.h"
#include "qs3signer_p.h"

#include <QtCore/qset.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

// Only unreserved characters, `extra`, and %XX with upper-case hex.
bool isEncoded(const QByteArray &s, const char *extra = "")
{
    for (qsizetype i = 0; i < s.size(); ++i) {
        const char c = s.at(i);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
            || c == '_' || c == '.' || c == '~' || (c != 0 && strchr(extra, c)))
            continue;
        if (c == '%' && i + 2 < s.size() && isHex(s.at(i + 1)) && isHex(s.at(i + 2))) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));

    const QByteArray all = QS3Signer::uriEncode(input);
    check(isEncoded(all), "uriEncode left a reserved byte");
    check(QByteArray::fromPercentEncoding(all) == input, "uriEncode does not reverse");
    const QByteArray path = QS3Signer::uriEncode(input, false);
    check(isEncoded(path, "/"), "uriEncode of a path left a reserved byte");
    check(QByteArray::fromPercentEncoding(path) == input, "path encoding does not reverse");

    QS3Signer signer("AKIDEXAMPLE", "secret", "us-east-1");
    check(isEncoded(signer.canonicalUri(input), "/"), "S3 canonical URI not encoded");
    signer.setPathEncoding(QS3Signer::DoublePathEncoding);
    check(isEncoded(signer.canonicalUri(input), "/"), "canonical URI not encoded");
    signer.setPathEncoding(QS3Signer::S3PathEncoding);

    const QList<QS3Signer::Pair> query = QS3Signer::parseQuery(input);
    const QByteArray canonicalQuery = QS3Signer::canonicalQuery(query);
    check(isEncoded(canonicalQuery, "=&"), "canonical query not encoded");
    if (!canonicalQuery.isEmpty()) {
        const QList<QByteArray> items = canonicalQuery.split('&');
        check(items.size() == query.size(), "canonical query lost or gained a parameter");
        for (const QByteArray &item : items)
            check(item.count('=') == 1, "canonical query item without exactly one =");
    }

    // A request of headers split from the input at NUL bytes (name) and the
    // byte after (value), as far as each would be sent at all.
    QS3Signer::Request request;
    request.method = "PUT";
    request.path = input.left(64);
    request.query = query;
    request.payloadHash = QS3Signer::unsignedPayload();
    request.headers.append(QS3Signer::Pair("host", "h.example"));
    QSet<QByteArray> names = {"host"};
    const QList<QByteArray> parts = input.split('\0');
    for (qsizetype i = 0; i + 1 < parts.size(); i += 2) {
        const QByteArray &name = parts.at(i);
        const QByteArray &value = parts.at(i + 1);
        if (!QHttpWire::problemWithHeaderName(name).isEmpty()
            || !QHttpWire::problemWithHeaderValue(name, value).isEmpty())
            continue;
        request.headers.append(QS3Signer::Pair(name, value));
        names.insert(name.toLower());
    }
    const QByteArray canonical = signer.canonicalRequest(request);
    // method, URI, query, one line per distinct header, blank, signed headers, payload hash
    check(canonical.count('\n') == 5 + names.size(), "canonical request lines do not add up");
    check(signer.signedHeaders(request).count(';') == names.size() - 1,
          "signed headers do not add up");
    return 0;
}
