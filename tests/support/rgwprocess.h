#ifndef RGWPROCESS_H
#define RGWPROCESS_H

#include "serverprocess.h"

#include <QtCore/qtemporarydir.h>
#include <QtCore/qurl.h>

// A single-node Ceph cluster (one monitor, one OSD on an in-memory object
// store) with the RADOS Gateway on 127.0.0.1 and a free port, from Debian's
// ceph-mon, ceph-osd, radosgw and ceph-common packages. Everything lives in a
// fresh temporary directory (tests/support/rgw/rgwcluster.sh does the work);
// the cluster stops and the directory goes with the object.
//
// Two users, each owning one bucket: "tester" owns "attachments" and may ask
// the Secure Token Service for temporary credentials; "other" owns "private".
class RgwProcess
{
public:
    RgwProcess();
    ~RgwProcess();

    // Whether the Ceph programs are installed; otherwise `why` says what is missing.
    static bool isAvailable(QString *why = nullptr);

    // Starts the cluster and waits (at most `timeoutMs`) until the gateway
    // answers and the users and buckets exist.
    bool start(QString *errorString = nullptr, int timeoutMs = 120000);
    void stop();

    QUrl endpoint() const; // http://127.0.0.1:PORT
    quint16 port() const { return m_port; }
    // A second gateway of the same cluster that also runs the Secure Token
    // Service and accepts its temporary credentials. (With it, RGW 16.2 reports
    // every failed signature check as AccessDenied.)
    QUrl stsEndpoint() const;
    static QString bucket() { return QStringLiteral("attachments"); }
    static QString accessKeyId() { return QStringLiteral("TESTERKEY"); }
    static QString secretAccessKey() { return QStringLiteral("TESTERSECRET"); }
    static QString otherBucket() { return QStringLiteral("private"); }
    static QString otherAccessKeyId() { return QStringLiteral("OTHERKEY"); }
    static QString otherSecretAccessKey() { return QStringLiteral("OTHERSECRET"); }

    // Milliseconds from start() until the gateway was ready.
    qint64 startupMs() const { return m_startupMs; }
    // Peak resident memory of the three daemons together, in KiB, known after stop().
    qint64 peakMemoryKiB() const;
    // What the start script printed (errors, log excerpts, memory).
    QByteArray output() const { return m_server.output(); }

private:
    QTemporaryDir m_dir;
    ServerProcess m_server;
    quint16 m_port = 0;
    quint16 m_stsPort = 0;
    qint64 m_startupMs = 0;
};

#endif // RGWPROCESS_H
