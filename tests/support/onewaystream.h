#ifndef ONEWAYSTREAM_H
#define ONEWAYSTREAM_H

#include <QtCore/qbytearray.h>
#include <QtCore/qiodevice.h>

// A device that can be read once, like a pipe or a socket: sequential, no
// seeking back, and no size known up front.
class OneWayStream : public QIODevice
{
public:
    explicit OneWayStream(const QByteArray &data);
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qint64 m_offset = 0;
};

#endif // ONEWAYSTREAM_H
