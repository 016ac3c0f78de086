#ifndef UPLOADFILE_H
#define UPLOADFILE_H

#include <QtCore/qbytearray.h>
#include <QtCore/qstring.h>

#include <memory>

class QTemporaryFile;

// The body of one PUT on its way to disk: written to a temporary file next to
// the final name (named with FileServer::UploadPrefix) and renamed over it
// only when complete, so readers see the old file or the new one, never a
// part. Destroyed before commit(), it removes what it wrote.
class UploadFile
{
public:
    explicit UploadFile(const QString &targetPath);
    ~UploadFile();
    UploadFile(const UploadFile &) = delete;
    UploadFile &operator=(const UploadFile &) = delete;

    // Creates the temporary file in the target's directory (which exists).
    bool open(QByteArray *errorString);

    // Appends `length` bytes; what arrived is handed to the disk every few
    // megabytes, so that the final sync is short.
    bool write(const char *data, qsizetype length, QByteArray *errorString);

    struct Result
    {
        int status = 0; // 201 created, 204 replaced, or the HTTP error status
        QByteArray error;
    };
    // Syncs the data, makes the file readable by all and renames it into
    // place, then syncs the directory.
    Result commit();

private:
    QString m_targetPath;
    std::unique_ptr<QTemporaryFile> m_file;
    qint64 m_written = 0;
    qint64 m_synced = 0;
};

#endif // UPLOADFILE_H
