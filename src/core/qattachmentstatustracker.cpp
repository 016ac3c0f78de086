#include "qattachmentstatustracker_p.h"

#include "qattachmentlogging_p.h"
#include "qattachmentqueue.h"
#include "qattachmentremotestorage.h"

#include <QtCore/qmetaobject.h>
#include <QtCore/qtimer.h>
#include <QtCore/qurl.h>

namespace {

QString operationName(QAttachmentTransfer::Kind kind)
{
    switch (kind) {
    case QAttachmentTransfer::Upload:
        return QStringLiteral("upload");
    case QAttachmentTransfer::Download:
        return QStringLiteral("download");
    case QAttachmentTransfer::Delete:
        return QStringLiteral("remote delete");
    }
    return QStringLiteral("transfer");
}

// host[:port] of a URL, never its user info, path or query.
QString hostOf(const QUrl &url)
{
    QString host = url.host(QUrl::FullyEncoded);
    if (host.isEmpty())
        return {};
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    if (url.port() != -1)
        host += QLatin1Char(':') + QString::number(url.port());
    return host;
}

} // namespace

QAttachmentStatusTracker::QAttachmentStatusTracker(QAttachmentQueue *queue)
    : m_queue(queue)
{
    // Every failure the queue reports, retried or given up, from one place.
    m_failures = QObject::connect(queue, &QAttachmentQueue::transferFailed, queue,
                                  [this](const QString &id, QAttachmentTransfer::Kind kind,
                                         const QAttachmentError &error,
                                         bool willRetry) { failed(id, kind, error, willRetry); });
}

QAttachmentStatusTracker::~QAttachmentStatusTracker()
{
    QObject::disconnect(m_failures);
}

void QAttachmentStatusTracker::changed(const QAttachment &row, bool keep)
{
    if (keep) {
        remember(row);
    } else if (const auto it = m_rows.find(row.id()); it != m_rows.end()) {
        *it = row;
    }
    // A new state starts a new history: its first failure is news again.
    m_loggedErrors.remove(row.id());
    emit m_queue->attachmentChanged(row);
    emit m_queue->statusChanged(row.id());
}

void QAttachmentStatusTracker::removed(const QString &id)
{
    m_rows.remove(id);
    m_loggedErrors.remove(id);
    emit m_queue->attachmentRemoved(id);
    emit m_queue->statusChanged(id);
}

void QAttachmentStatusTracker::statusChanged(const QString &id)
{
    emit m_queue->statusChanged(id);
}

std::optional<QAttachment> QAttachmentStatusTracker::knownRow(const QString &id) const
{
    const auto it = m_rows.constFind(id);
    if (it == m_rows.cend())
        return std::nullopt;
    return *it;
}

QString QAttachmentStatusTracker::remoteHost() const
{
    const QAttachmentRemoteStorage *remote = m_queue->remoteStorage();
    if (!remote)
        return {};
    // The storages of this library keep their server in a URL property
    // (baseUrl, endpoint); other storages may have none.
    const QMetaObject *meta = remote->metaObject();
    for (int i = 0; i < meta->propertyCount(); ++i) {
        const QMetaProperty property = meta->property(i);
        if (property.metaType() != QMetaType::fromType<QUrl>() || !property.isReadable())
            continue;
        const QString host = hostOf(property.read(remote).toUrl());
        if (!host.isEmpty())
            return host;
    }
    return {};
}

QString QAttachmentStatusTracker::printable(const QString &text)
{
    QString result;
    const QString bounded = text.left(LoggedMessageLimit);
    result.reserve(bounded.size());
    for (const QChar c : bounded)
        result.append(c.isPrint() ? c : QChar(QChar::ReplacementCharacter));
    if (text.size() > LoggedMessageLimit)
        result += QStringLiteral("...");
    return result;
}

void QAttachmentStatusTracker::failed(const QString &id, QAttachmentTransfer::Kind kind,
                                      const QAttachmentError &error, bool willRetry)
{
    if (!lcTransfer().isWarningEnabled())
        return;
    const QString message = printable(error.message());
    const QString key = QString::number(int(kind)) + QLatin1Char('/')
        + QString::number(int(error.code())) + QLatin1Char('/') + message;
    if (willRetry) {
        const auto it = m_loggedErrors.constFind(id);
        if (it != m_loggedErrors.cend() && *it == key)
            return; // the same failure again: said already
        m_loggedErrors.insert(id, key);
    } else {
        m_loggedErrors.remove(id); // given up: the row is archived
    }

    if (!m_window.isValid() || m_window.elapsed() >= m_windowMs) {
        m_window.start();
        m_warningsInWindow = 0;
    }
    if (m_warningsInWindow >= WarningBurst) {
        ++m_suppressed;
        if (!m_summaryPending) {
            // On the queue, so that it lives in the queue's thread and dies with it.
            m_summaryPending = true;
            QTimer::singleShot(int(qMax<qint64>(0, m_windowMs - m_window.elapsed())), m_queue,
                               [this] { flushSuppressed(); });
        }
        return;
    }
    ++m_warningsInWindow;
    const QString host = remoteHost();
    const QString where = host.isEmpty() ? QString() : QStringLiteral(" (host %1)").arg(host);
    const QString what = willRetry ? QStringLiteral("failed, will retry")
                                   : QStringLiteral("failed, given up (the row is archived)");
    qCWarning(lcTransfer).noquote().nospace()
        << operationName(kind) << " of attachment \"" << printable(id) << "\"" << where << " "
        << what << ": "
        << QString::fromLatin1(
               QMetaEnum::fromType<QAttachmentError::Code>().valueToKey(error.code()))
        << (error.httpStatus() ? QStringLiteral(" (HTTP %1)").arg(error.httpStatus()) : QString())
        << (message.isEmpty() ? QString() : QStringLiteral(": ") + message);
}

void QAttachmentStatusTracker::flushSuppressed()
{
    m_summaryPending = false;
    if (m_suppressed == 0)
        return;
    qCWarning(lcTransfer).noquote().nospace()
        << m_suppressed << " more transfer failures were not logged (at most " << WarningBurst
        << " per " << m_windowMs
        << " ms); QAttachmentQueue::transferFailed and status() report each one";
    m_suppressed = 0;
    m_window.start();
    m_warningsInWindow = 1;
}
