#include "testcertificate.h"

#include <QtCore/qfile.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstandardpaths.h>
#include <QtNetwork/qsslsocket.h>

namespace {

QString opensslProgram()
{
    return QStandardPaths::findExecutable(QStringLiteral("openssl"));
}

bool runOpenssl(const QStringList &arguments, QString *errorString)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(opensslProgram(), arguments);
    if (process.waitForFinished(60000) && process.exitStatus() == QProcess::NormalExit
        && process.exitCode() == 0)
        return true;
    *errorString = QStringLiteral("openssl %1 failed: %2")
                       .arg(arguments.value(0), QString::fromLocal8Bit(process.readAll()));
    return false;
}

QSslCertificate onlyCertificateIn(const QString &path, QString *errorString)
{
    const QList<QSslCertificate> certificates = QSslCertificate::fromPath(path);
    if (certificates.size() != 1) {
        *errorString = QStringLiteral("%1 holds %2 certificates, not one")
                           .arg(path)
                           .arg(certificates.size());
        return QSslCertificate();
    }
    return certificates.first();
}

} // namespace

QString TestCertificate::unavailableReason()
{
    if (!QSslSocket::supportsSsl())
        return QStringLiteral("no TLS backend");
    if (opensslProgram().isEmpty())
        return QStringLiteral("openssl is not installed");
    return {};
}

bool TestCertificate::make(Issuer issuer, QString *errorString)
{
    if (!m_dir.isValid()) {
        *errorString = QStringLiteral("no temporary directory");
        return false;
    }
    const QString keyPath = m_dir.filePath(QStringLiteral("key.pem"));
    const QString certPath = m_dir.filePath(QStringLiteral("cert.pem"));
    if (issuer == Issuer::Itself) {
        if (!runOpenssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                         QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                         QStringLiteral("-keyout"), keyPath, QStringLiteral("-out"), certPath,
                         QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                         QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                         QStringLiteral("subjectAltName=IP:127.0.0.1")},
                        errorString))
            return false;
    } else {
        const QString caKey = m_dir.filePath(QStringLiteral("ca.key"));
        const QString caCert = m_dir.filePath(QStringLiteral("ca.pem"));
        const QString csr = m_dir.filePath(QStringLiteral("req.csr"));
        const QString ext = m_dir.filePath(QStringLiteral("ext.cnf"));
        if (!runOpenssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                         QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                         QStringLiteral("-keyout"), caKey, QStringLiteral("-out"), caCert,
                         QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                         QStringLiteral("/CN=Test CA")},
                        errorString)
            || !runOpenssl({QStringLiteral("req"), QStringLiteral("-newkey"),
                            QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                            QStringLiteral("-keyout"), keyPath, QStringLiteral("-out"), csr,
                            QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1")},
                           errorString))
            return false;
        QFile extFile(ext);
        const QByteArray extension = "subjectAltName=IP:127.0.0.1\n";
        if (!extFile.open(QIODevice::WriteOnly) || extFile.write(extension) != extension.size()
            || !extFile.flush()) {
            *errorString = QStringLiteral("cannot write %1").arg(ext);
            return false;
        }
        extFile.close();
        if (!runOpenssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), csr,
                         QStringLiteral("-CA"), caCert, QStringLiteral("-CAkey"), caKey,
                         QStringLiteral("-CAcreateserial"), QStringLiteral("-out"), certPath,
                         QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-extfile"),
                         ext},
                        errorString))
            return false;
        m_ca = onlyCertificateIn(caCert, errorString);
        if (m_ca.isNull())
            return false;
    }
    m_certificate = onlyCertificateIn(certPath, errorString);
    if (m_certificate.isNull())
        return false;
    QFile keyFile(keyPath);
    if (!keyFile.open(QIODevice::ReadOnly)) {
        *errorString = QStringLiteral("cannot read %1").arg(keyPath);
        return false;
    }
    m_key = QSslKey(&keyFile, QSsl::Rsa);
    if (m_key.isNull()) {
        *errorString = QStringLiteral("%1 holds no RSA key").arg(keyPath);
        return false;
    }
    return true;
}

QSslConfiguration TestCertificate::serverConfiguration() const
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(m_certificate);
    configuration.setPrivateKey(m_key);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}
