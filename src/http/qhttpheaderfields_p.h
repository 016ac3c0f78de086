#ifndef QHTTPHEADERFIELDS_P_H
#define QHTTPHEADERFIELDS_P_H

#include <QtCore/qbytearray.h>
#include <QtCore/qbytearrayview.h>
#include <QtCore/qlist.h>

#include <utility>

// The value of header `name` (case-insensitive) among an answer's fields, as
// HTTP/1.1 and HTTP/2 answers both keep them; several fields of that name
// are joined by ", " (RFC 9110 5.3).
inline QByteArray qHttpHeaderValue(const QList<std::pair<QByteArray, QByteArray>> &fields,
                                   QByteArrayView name)
{
    QByteArray value;
    bool found = false;
    for (const auto &field : fields) {
        if (field.first.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        if (found)
            value += ", ";
        value += field.second;
        found = true;
    }
    return value;
}

#endif // QHTTPHEADERFIELDS_P_H
