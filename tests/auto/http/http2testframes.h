#ifndef HTTP2TESTFRAMES_H
#define HTTP2TESTFRAMES_H

#include <QtCore/qbytearray.h>

// HTTP/2 frames as a server would send them (RFC 9113 4.1), built byte by
// byte for the tests of the streamed HTTP/2 upload.

inline QByteArray u32(quint32 value)
{
    QByteArray out;
    for (int shift = 24; shift >= 0; shift -= 8)
        out.append(char(value >> shift));
    return out;
}

inline QByteArray frame(quint8 type, quint8 flags, quint32 stream, const QByteArray &payload)
{
    QByteArray out;
    const quint32 length = quint32(payload.size());
    out.append(char(length >> 16));
    out.append(char(length >> 8));
    out.append(char(length));
    out.append(char(type));
    out.append(char(flags));
    out += u32(stream);
    out += payload;
    return out;
}

#endif // HTTP2TESTFRAMES_H
