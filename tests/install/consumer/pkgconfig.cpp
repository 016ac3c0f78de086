// Built without CMake, with only `pkg-config --cflags --libs PowerSyncAttachments`:
// the installed headers compile and the library links and runs.
#include <QAttachmentError>
#include <QAttachmentQueue>

#include <cstdio>

int main()
{
    const QAttachmentError error = QAttachmentError::fromHttpStatus(503);
    if (error.code() != QAttachmentError::RateLimited
        && error.code() != QAttachmentError::ServerError) {
        std::fprintf(stderr, "unexpected code %d\n", int(error.code()));
        return 1;
    }
    if (!QAttachmentQueue::isValidName(QStringLiteral("photo.jpg"))) {
        std::fprintf(stderr, "isValidName refused photo.jpg\n");
        return 1;
    }
    std::printf("pkg-config consumer ok (%s)\n", POWERSYNC_ATTACHMENTS_VERSION_STR);
    return 0;
}
