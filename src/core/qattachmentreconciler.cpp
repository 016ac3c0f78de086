#include "qattachmentreconciler_p.h"

#include "qattachmentnames_p.h"

#include <QtCore/qmimedatabase.h>

using State = QAttachmentState::State;

namespace {

// Rows by id, each valid watched id once, in the order it is listed.
struct Index
{
    explicit Index(const QAttachmentReconciler::Input &input)
    {
        rows.reserve(input.rows.size());
        for (const QAttachment &row : input.rows)
            rows.insert(row.id(), &row);
    }
    QHash<QString, const QAttachment *> rows;
};

// Whether an archived row of a watched id is restored now.
bool restores(const QAttachment &row, const QAttachmentReconciler::Options &options)
{
    if (row.state() != State::Archived)
        return false;
    // Archived while watched: an error handler gave up on it.
    return options.restoreAllWatched || !options.previouslyWatched.contains(row.id());
}

} // namespace

QStringList QAttachmentReconciler::localFilesToCheck(const Input &input, const Options &options)
{
    const Index index(input);
    QStringList names;
    for (const QWatchedAttachmentItem &item : input.watched) {
        const QAttachment *row = index.rows.value(item.id());
        if (row && !input.leftAlone.contains(row->id()) && restores(*row, options)
            && !row->localUri().isEmpty())
            names.append(row->localUri());
    }
    return names;
}

QAttachmentReconciler::Plan QAttachmentReconciler::plan(const Input &input, const Options &options)
{
    const Index index(input);
    Plan plan;
    QSet<QString> &watchedIds = plan.watchedIds;
    watchedIds.reserve(input.watched.size());
    QHash<QString, QString> mediaTypes; // by extension: QMimeDatabase lookups are not free
    QMimeDatabase mimeDatabase;

    for (const QWatchedAttachmentItem &item : input.watched) {
        const QString &id = item.id();
        QString bad = QAttachmentNames::problemWith(id, QStringLiteral("watched attachment id"));
        if (!bad.isEmpty()) {
            plan.problems.append({id, bad});
            continue;
        }
        if (watchedIds.contains(id))
            continue; // listed twice
        watchedIds.insert(id);
        if (input.leftAlone.contains(id))
            continue;
        const QAttachment *existing = index.rows.value(id);
        if (!existing) {
            if (!options.downloadAttachments)
                continue;
            QString filename = item.filename();
            if (filename.isEmpty()) {
                QString extension = item.fileExtension();
                if (extension.isEmpty())
                    extension = options.defaultFileExtension;
                bad = extension.isEmpty() ? QString()
                                          : QAttachmentNames::problemWithExtension(extension);
                if (bad.isEmpty()) {
                    filename = options.resolveFilename ? options.resolveFilename(id, extension)
                                                       : id + QLatin1Char('.')
                            + (extension.isEmpty() ? QStringLiteral("dat") : extension);
                }
            }
            if (bad.isEmpty())
                bad = QAttachmentNames::problemWith(filename, QStringLiteral("filename"));
            if (!bad.isEmpty()) {
                plan.problems.append(
                    {id, QStringLiteral("watched attachment %1: %2").arg(id, bad)});
                continue;
            }
            QAttachment row(id, filename, State::QueuedDownload);
            row.setTimestamp(options.now);
            row.setMetaData(item.metaData());
            const QString suffix = filename.section(QLatin1Char('.'), -1).toLower();
            auto type = mediaTypes.constFind(suffix);
            if (type == mediaTypes.cend()) {
                const QMimeType mime
                    = mimeDatabase.mimeTypeForFile(filename, QMimeDatabase::MatchExtension);
                type = mediaTypes.insert(suffix, mime.isDefault() ? QString() : mime.name());
            }
            row.setMediaType(*type);
            plan.inserts.append(row);
            continue;
        }
        if (!restores(*existing, options))
            continue;
        QAttachment row = *existing;
        const bool fileThere
            = !row.localUri().isEmpty() && input.presentFiles.contains(row.localUri());
        if (row.hasSynced() && fileThere) {
            row.setState(State::Synced);
        } else if (!row.hasSynced() && fileThere) {
            row.setState(State::QueuedUpload);
        } else {
            row.setState(State::QueuedDownload);
            row.setLocalUri(QString());
            row.setHasSynced(false);
        }
        row.setTimestamp(options.now);
        plan.restores.append({row, State::Archived});
    }

    for (const QAttachment &existing : input.rows) {
        if (watchedIds.contains(existing.id()) || input.leftAlone.contains(existing.id()))
            continue;
        bool archive = false;
        switch (existing.state()) {
        case State::QueuedUpload:
        case State::QueuedDelete:
            // An upload that never reached the server must not be lost.
            archive = existing.hasSynced();
            break;
        case State::QueuedDownload:
        case State::Synced:
            archive = true;
            break;
        case State::Archived:
        case State::Invalid:
            break;
        }
        if (!archive)
            continue;
        QAttachment row = existing;
        row.setState(State::Archived);
        row.setTimestamp(options.now);
        plan.archives.append({row, existing.state()});
    }
    return plan;
}
