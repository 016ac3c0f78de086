#ifndef RESUMECHECK_H
#define RESUMECHECK_H

#include <QtCore/qstring.h>

class QAttachment;
class QAttachmentRemoteStorage;

namespace TestSupport {

// Resumed downloads never mix versions, checked through a remote storage
// against a real server:
// 1. uploads a first version and downloads it whole: the sink gets a validator;
// 2. resumes into a sink whose first bytes are marked and that carries that
//    validator: only the rest arrives (the marks stay);
// 3. uploads a second, longer version, and resumes the same way: the download
//    starts over and holds the second version alone (no mark, nothing of the first).
// Returns an empty string when all holds, else what went wrong.
QString checkResumeAcrossVersions(QAttachmentRemoteStorage *storage, const QAttachment &attachment);

} // namespace TestSupport

#endif // RESUMECHECK_H
