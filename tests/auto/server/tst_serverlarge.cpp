// A 1 GiB upload to the embedded attachments server, streamed from a
// generator on both ends: the server's peak memory stays under 64 MiB and the
// stored file is exactly what was sent.

#include "serverclient.h"

#include <QtCore/qcryptographichash.h>
#include <QtCore/qdir.h>
#include <QtCore/qtemporarydir.h>
#include <QtTest/qtest.h>

#include <memory>

using namespace ServerClient;

namespace {

// Deterministic pseudo-random bytes of a given length, produced as they are
// read: a body of any size with no copy of it in memory.
class GeneratorDevice : public QIODevice
{
public:
    GeneratorDevice(qint64 size, quint64 seed)
        : m_size(size)
        , m_state(seed | 1)
    { }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override
    {
        return m_size - m_produced + QIODevice::bytesAvailable();
    }
    bool atEnd() const override { return m_produced >= m_size && QIODevice::atEnd(); }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 length = qMin(maxSize, m_size - m_produced);
        for (qint64 i = 0; i < length; ++i) {
            // xorshift64
            m_state ^= m_state << 13;
            m_state ^= m_state >> 7;
            m_state ^= m_state << 17;
            data[i] = char(m_state >> 56);
        }
        m_produced += length;
        return length;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    qint64 m_size;
    qint64 m_produced = 0;
    quint64 m_state;
};

} // namespace

class tst_ServerLarge : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void oneGibibyteUpload()
    {
        QVERIFY(!AttachmentsServer::program().isEmpty());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString root = dir.path() + QStringLiteral("/root");
        AttachmentsServer server;
        server.setEnvironment(serverEnvironment());
        server.setToken("large-token");
        QVERIFY2(server.start(root), qPrintable(server.errorString()));

        const qint64 size = qint64(1) << 30;
        GeneratorDevice body(size, 42);
        QVERIFY(body.open(QIODevice::ReadOnly));
        QCryptographicHash sent(QCryptographicHash::Sha256);

        QTcpSocket socket;
        QVERIFY(connectTo(socket, server.port()));
        socket.write("PUT /big/one.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer large-token\r\n"
                     "Content-Length: "
                     + QByteArray::number(size) + "\r\nExpect: 100-continue\r\n\r\n");
        QByteArray received;
        const QDeadlineTimer continueDeadline(10000);
        while (!received.contains("\r\n\r\n") && !continueDeadline.hasExpired()) {
            socket.waitForReadyRead(100);
            received += socket.readAll();
        }
        QCOMPARE(received, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        received.clear();

        QByteArray chunk(1024 * 1024, Qt::Uninitialized);
        qint64 written = 0;
        qint64 peakDuring = 0;
        const QDeadlineTimer deadline(600000);
        while (written < size && !deadline.hasExpired()
               && socket.state() == QAbstractSocket::ConnectedState) {
            if (socket.bytesToWrite() < 4 * chunk.size()) {
                const qint64 read = body.read(chunk.data(), chunk.size());
                QVERIFY(read > 0);
                sent.addData(QByteArrayView(chunk.constData(), read));
                socket.write(chunk.constData(), read);
                written += read;
                if (written % (64 * 1024 * 1024) == 0)
                    peakDuring = qMax(peakDuring, peakRssOf(server.processId()));
            } else {
                socket.waitForBytesWritten(1000);
            }
        }
        QCOMPARE(written, size);
        while (!received.contains("\r\n\r\n") && !deadline.hasExpired()
               && socket.state() == QAbstractSocket::ConnectedState) {
            socket.waitForReadyRead(1000);
            received += socket.readAll();
        }
        QVERIFY2(received.startsWith("HTTP/1.1 201 Created\r\n"), received.constData());

        const qint64 peak = peakRssOf(server.processId());
        qInfo("server peak RSS: %lld KiB (during the upload: %lld KiB)", peak / 1024,
              peakDuring / 1024);
        QVERIFY(peak > 0);
        QVERIFY2(peak < 64 * 1024 * 1024, qPrintable(QString::number(peak)));

        QFile stored(root + QStringLiteral("/big/one.bin"));
        QVERIFY(stored.open(QIODevice::ReadOnly));
        QCOMPARE(stored.size(), size);
        QCryptographicHash got(QCryptographicHash::Sha256);
        QVERIFY(got.addData(&stored));
        QCOMPARE(got.result(), sent.result());
        // Nothing left beside it.
        QCOMPARE(QDir(root + QStringLiteral("/big"))
                     .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList {QStringLiteral("one.bin")});
        QVERIFY(server.stop());
    }
};

QTEST_GUILESS_MAIN(tst_ServerLarge)
#include "tst_serverlarge.moc"
