#ifndef TESTCERTIFICATE_H
#define TESTCERTIFICATE_H

#include <QtCore/qstring.h>
#include <QtCore/qtemporarydir.h>
#include <QtNetwork/qsslcertificate.h>
#include <QtNetwork/qsslconfiguration.h>
#include <QtNetwork/qsslkey.h>

// A TLS certificate for 127.0.0.1 (CN and subjectAltName) and its RSA key,
// valid for a day, made with openssl in a temporary directory: either signed
// by itself, or by a CA made for it ("Test CA").
class TestCertificate
{
public:
    enum class Issuer { Itself, TestCa };

    // Empty where certificates can be made and used; otherwise why not
    // ("no TLS backend", "openssl is not installed"), for QSKIP.
    static QString unavailableReason();

    bool make(Issuer issuer, QString *errorString);

    QSslCertificate certificate() const { return m_certificate; }
    QSslKey key() const { return m_key; }
    // The CA that signed the certificate (Issuer::TestCa); null otherwise.
    QSslCertificate ca() const { return m_ca; }
    // A server's configuration presenting the certificate, asking clients for none.
    QSslConfiguration serverConfiguration() const;

private:
    QTemporaryDir m_dir;
    QSslCertificate m_certificate;
    QSslKey m_key;
    QSslCertificate m_ca;
};

// In a test function: skips the test where certificates cannot be made or
// used, and makes `certificate` (a TestCertificate) issued by `issuer` (a
// TestCertificate::Issuer), failing the test when that fails.
#define PSA_MAKE_CERTIFICATE(certificate, issuer) \
    do { \
        if (const QString why_ = TestCertificate::unavailableReason(); !why_.isEmpty()) \
            QSKIP(qPrintable(why_)); \
        QString certificateError_; \
        QVERIFY2((certificate).make((issuer), &certificateError_), qPrintable(certificateError_)); \
    } while (false)

#endif // TESTCERTIFICATE_H
