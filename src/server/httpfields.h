#ifndef HTTPFIELDS_H
#define HTTPFIELDS_H

#include <QtCore/qbytearray.h>
#include <QtCore/qdatetime.h>
#include <QtCore/qlist.h>
#include <QtCore/qpair.h>

// The HTTP fields the server writes and reads beyond the request line:
// status texts, dates, byte ranges, entity tags, content types, and what of a
// client's bytes may go into the log.
namespace HttpFields {

// Response headers, in the order they are sent.
using Headers = QList<QPair<QByteArray, QByteArray>>;

QByteArray reasonPhrase(int status);

QByteArray httpDate(const QDateTime &time);
// IMF-fixdate, the only form servers send today; anything else is invalid.
QDateTime parseHttpDate(const QByteArray &text);

enum class RangeKind { Whole, Partial, Unsatisfiable };

// One byte range of RFC 9110 (`bytes=N-`, `bytes=N-M`, `bytes=-N`). Anything
// else, including several ranges, is ignored and the whole file is sent, as
// the RFC allows.
RangeKind parseRange(const QByteArray &header, qint64 size, qint64 *first, qint64 *last);

// If-None-Match: `*` or a list of entity tags, compared weakly.
bool noneMatchHits(const QByteArray &header, const QByteArray &etag);

// Types a browser would run or render with scripts when a stored file is
// opened from this server's origin.
bool isActiveType(const QByteArray &type);

// What goes into the log of a target or method that may be anything a client
// sent: every byte outside visible ASCII percent-encoded, and not too much.
QByteArray loggable(const QByteArray &text);

} // namespace HttpFields

#endif // HTTPFIELDS_H
