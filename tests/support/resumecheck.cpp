#include "resumecheck.h"

#include "testsupport.h"

#include "qattachmentremotestorage.h"
#include "qattachmenttransfer.h"

#include <QtCore/qbuffer.h>
#include <QtTest/qsignalspy.h>

#include <memory>

namespace {

QString run(QAttachmentTransfer *started, const QString &what)
{
    std::unique_ptr<QAttachmentTransfer> transfer(started);
    if (!transfer)
        return what + QStringLiteral(": no transfer");
    if (!transfer->isFinished()) {
        QSignalSpy finished(transfer.get(), &QAttachmentTransfer::finished);
        if (!finished.wait(60000))
            return what + QStringLiteral(": timed out");
    }
    if (transfer->error().isError())
        return what + QStringLiteral(": ") + transfer->error().message();
    return {};
}

QByteArray validatorOf(const QIODevice &sink)
{
    return sink.property(QAttachmentRemoteStorage::ResumeValidatorProperty).toByteArray();
}

} // namespace

QString TestSupport::checkResumeAcrossVersions(QAttachmentRemoteStorage *storage,
                                               const QAttachment &attachment)
{
    const QByteArray first = TestSupport::randomBytes(150 * 1024, 41);
    const QByteArray second = TestSupport::randomBytes(190 * 1024, 42);
    const qint64 kept = 50 * 1024;
    const QByteArray marks(kept, 'M');
    QString problem;

    QBuffer source;
    source.setData(first);
    source.open(QIODevice::ReadOnly);
    if (!(problem = run(storage->upload(attachment, &source), QStringLiteral("upload"))).isEmpty())
        return problem;

    QBuffer whole;
    whole.open(QIODevice::ReadWrite);
    if (!(problem = run(storage->download(attachment, &whole), QStringLiteral("download")))
             .isEmpty())
        return problem;
    if (whole.data() != first)
        return QStringLiteral("the first download differs from the upload");
    const QByteArray validator = validatorOf(whole);
    if (validator.isEmpty())
        return QStringLiteral("the download left no validator on the sink");

    QBuffer same;
    same.open(QIODevice::ReadWrite);
    same.write(marks);
    same.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, validator);
    if (!(problem = run(storage->download(attachment, &same), QStringLiteral("resume"))).isEmpty())
        return problem;
    if (same.pos() != first.size() || same.data() != marks + first.mid(kept))
        return QStringLiteral("resuming the unchanged object did not fetch only the rest");

    QBuffer replacement;
    replacement.setData(second);
    replacement.open(QIODevice::ReadOnly);
    if (!(problem = run(storage->upload(attachment, &replacement), QStringLiteral("replace")))
             .isEmpty())
        return problem;
    QBuffer stale;
    stale.open(QIODevice::ReadWrite);
    stale.write(marks);
    stale.setProperty(QAttachmentRemoteStorage::ResumeValidatorProperty, validator);
    if (!(problem = run(storage->download(attachment, &stale),
                        QStringLiteral("resume after the replacement")))
             .isEmpty())
        return problem;
    if (stale.pos() != second.size() || stale.data().left(stale.pos()) != second)
        return QStringLiteral("resuming a replaced object joined the two versions (%1 bytes, "
                              "starts with marks: %2)")
            .arg(stale.pos())
            .arg(stale.data().startsWith("MMMM") ? QStringLiteral("yes") : QStringLiteral("no"));
    if (validatorOf(stale) == validator || validatorOf(stale).isEmpty())
        return QStringLiteral("the sink does not carry the new version's validator");
    return {};
}
