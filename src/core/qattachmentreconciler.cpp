#include "qattachmentreconciler_p.h"

#include "qattachmentnames_p.h"

#include <limits>

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
    QHash<QString, qsizetype> index;
    index.reserve(input.rows.size());
    for (qsizetype i = 0; i < input.rows.size(); ++i)
        index.insert(input.rows.at(i).id(), i);
    Options withFiles = options;
    if (!withFiles.fileExists) {
        const QSet<QString> &present = input.presentFiles;
        withFiles.fileExists = [&present](const QString &name) { return present.contains(name); };
    }
    Planner planner(input.rows, index, input.leftAlone, input.watched, std::move(withFiles));
    while (!planner.step(std::numeric_limits<qsizetype>::max())) { }
    return planner.takePlan();
}

bool QAttachmentReconciler::archivesUnwatched(const QAttachment &row)
{
    switch (row.state()) {
    case State::QueuedUpload:
    case State::QueuedDelete:
        // An upload that never reached the server must not be lost.
        return row.hasSynced();
    case State::QueuedDownload:
    case State::Synced:
        return true;
    case State::Archived:
    case State::Invalid:
        break;
    }
    return false;
}

QAttachmentReconciler::Planner::Planner(const QList<QAttachment> &rows,
                                        const QHash<QString, qsizetype> &index,
                                        const QSet<QString> &leftAlone,
                                        QList<QWatchedAttachmentItem> watched, Options options)
    : m_rows(rows)
    , m_index(index)
    , m_leftAlone(leftAlone)
    , m_watched(std::move(watched))
    , m_options(std::move(options))
{
    m_plan.watchedIds.reserve(m_watched.size());
}

bool QAttachmentReconciler::Planner::step(qsizetype items)
{
    // Every watched item before any row: a row is archived only once the
    // whole watched set is known.
    for (; items > 0 && m_item < m_watched.size(); --items)
        planItem(m_watched.at(m_item++));
    for (; items > 0 && m_item >= m_watched.size() && m_row < m_rows.size(); --items)
        planRow(m_rows.at(m_row++));
    return isDone();
}

void QAttachmentReconciler::Planner::planItem(const QWatchedAttachmentItem &item)
{
    const QString &id = item.id();
    QString bad = QAttachmentNames::problemWith(id, QStringLiteral("watched attachment id"));
    if (!bad.isEmpty()) {
        m_plan.problems.append({id, bad});
        return;
    }
    if (m_plan.watchedIds.contains(id))
        return; // listed twice
    m_plan.watchedIds.insert(id);
    if (m_leftAlone.contains(id))
        return;
    const auto at = m_index.constFind(id);
    const QAttachment *existing = at == m_index.cend() ? nullptr : &m_rows.at(*at);
    if (existing && existing->id().isEmpty())
        existing = nullptr; // a row that went away
    if (!existing) {
        if (!m_options.downloadAttachments)
            return;
        QString filename = item.filename();
        if (filename.isEmpty()) {
            QString extension = item.fileExtension();
            if (extension.isEmpty())
                extension = m_options.defaultFileExtension;
            bad = extension.isEmpty() ? QString()
                                      : QAttachmentNames::problemWithExtension(extension);
            if (bad.isEmpty()) {
                filename = m_options.resolveFilename ? m_options.resolveFilename(id, extension)
                                                     : id + QLatin1Char('.')
                        + (extension.isEmpty() ? QStringLiteral("dat") : extension);
            }
        }
        if (bad.isEmpty())
            bad = QAttachmentNames::problemWith(filename, QStringLiteral("filename"));
        if (!bad.isEmpty()) {
            m_plan.problems.append({id, QStringLiteral("watched attachment %1: %2").arg(id, bad)});
            return;
        }
        QAttachment row(id, filename, State::QueuedDownload);
        row.setTimestamp(m_options.now);
        row.setMetaData(item.metaData());
        const QString suffix = filename.section(QLatin1Char('.'), -1).toLower();
        auto type = m_mediaTypes.constFind(suffix);
        if (type == m_mediaTypes.cend()) {
            const QMimeType mime
                = m_mimeDatabase.mimeTypeForFile(filename, QMimeDatabase::MatchExtension);
            type = m_mediaTypes.insert(suffix, mime.isDefault() ? QString() : mime.name());
        }
        row.setMediaType(*type);
        m_plan.inserts.append(row);
        return;
    }
    if (!restores(*existing, m_options))
        return;
    QAttachment row = *existing;
    const bool fileThere
        = !row.localUri().isEmpty() && m_options.fileExists && m_options.fileExists(row.localUri());
    if (row.hasSynced() && fileThere) {
        row.setState(State::Synced);
    } else if (!row.hasSynced() && fileThere) {
        row.setState(State::QueuedUpload);
    } else {
        row.setState(State::QueuedDownload);
        row.setLocalUri(QString());
        row.setHasSynced(false);
    }
    row.setTimestamp(m_options.now);
    m_plan.restores.append({row, State::Archived});
}

void QAttachmentReconciler::Planner::planRow(const QAttachment &existing)
{
    if (existing.id().isEmpty() || m_plan.watchedIds.contains(existing.id())
        || m_leftAlone.contains(existing.id()) || !archivesUnwatched(existing))
        return;
    QAttachment row = existing;
    row.setState(State::Archived);
    row.setTimestamp(m_options.now);
    m_plan.archives.append({row, existing.state()});
}
