#include "onewaystream.h"

#include <cstring>

OneWayStream::OneWayStream(const QByteArray &data)
    : m_data(data)
{
    open(QIODevice::ReadOnly);
}

qint64 OneWayStream::bytesAvailable() const
{
    return m_data.size() - m_offset + QIODevice::bytesAvailable();
}

qint64 OneWayStream::readData(char *data, qint64 maxSize)
{
    const qint64 n = qMin(maxSize, m_data.size() - m_offset);
    if (n <= 0)
        return -1;
    std::memcpy(data, m_data.constData() + m_offset, size_t(n));
    m_offset += n;
    return n;
}
