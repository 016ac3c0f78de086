#ifndef QHTTPBODYSLICE_P_H
#define QHTTPBODYSLICE_P_H

#include <QtCore/qiodevice.h>

// A window [start, start + length) of another random-access device. QNAM
// sends a device until its end, so a body that is only part of a file (a
// multipart chunk, a bodySize shorter than the rest) is handed over as a
// slice; being non-sequential it also lets QNAM rewind when it resends a
// request on a fresh connection.
class QHttpBodySlice : public QIODevice
{
public:
    QHttpBodySlice(QIODevice *source, qint64 start, qint64 length, QObject *parent)
        : QIODevice(parent)
        , m_source(source)
        , m_start(start)
        , m_length(length)
    { }

    bool isSequential() const override { return false; }
    qint64 size() const override { return m_length; }

    // The exchange is over: QNAM may still touch the slice from a queued
    // start or abort after the transfer (and the caller's device) are gone,
    // so the slice outlives them, attached to the reply, and reads nothing.
    void release(QObject *newParent)
    {
        m_source = nullptr;
        setParent(newParent);
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (!m_source)
            return -1;
        const qint64 n = qMin(maxSize, m_length - pos());
        if (n <= 0)
            return 0;
        if (m_source->pos() != m_start + pos() && !m_source->seek(m_start + pos()))
            return -1;
        return m_source->read(data, n);
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QIODevice *m_source;
    qint64 m_start;
    qint64 m_length;
};

#endif // QHTTPBODYSLICE_P_H
