#include "qhttpremotestorage.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qnetworkcredential_p.h"
#include "qnetworkremotestorage_p.h"

#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

namespace {

// A value put into the path as one segment is percent-encoded, yet servers
// such as nginx decode %2F before they resolve dot segments: a value must
// not become an empty, "." or ".." segment either way.
QString problemWithPathField(const QString &value, const QString &field, const QString &id)
{
    const QString what = QStringLiteral("the %1 of attachment \"%2\"").arg(field, id);
    if (value.isEmpty())
        return QStringLiteral("%1 is empty and would leave an empty path segment").arg(what);
    for (const QChar c : value) {
        if (c.category() == QChar::Other_Control || c.unicode() == 0x7f)
            return QStringLiteral("%1 contains a control character").arg(what);
    }
    qsizetype start = 0;
    for (qsizetype i = 0; i <= value.size(); ++i) {
        if (i < value.size() && value.at(i) != QLatin1Char('/') && value.at(i) != QLatin1Char('\\'))
            continue;
        const QStringView part = QStringView(value).mid(start, i - start);
        if (part.isEmpty())
            return QStringLiteral("%1 (\"%2\") has an empty part between path separators")
                .arg(what, value);
        if (part == u"." || part == u"..")
            return QStringLiteral("%1 (\"%2\") would make a \"%3\" path segment")
                .arg(what, value, part.toString());
        start = i + 1;
    }
    return {};
}

} // namespace

class QHttpRemoteStoragePrivate
{
public:
    using Waiter = QNetworkCredential<QString>::Answer;

    // Hands the current token to `waiter`, asking the provider when there is
    // none or when `rejected` is the token a server just refused.
    void withToken(bool afterUnauthorized, const QString &rejected, Waiter waiter);
    QHttpTransfer::Request baseRequest(const QAttachment &attachment, const QString &token) const;
    QHttpTransfer *operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                             std::function<void(QHttpTransfer::Request &)> adjust);
    QNetworkRemoteStoragePrivate *network() const { return QNetworkRemoteStoragePrivate::get(q); }
    // Why `attachment` has no URL under the path template; empty when it has one.
    QString problemWithPath(const QAttachment &attachment) const;

    QHttpRemoteStorage *q = nullptr;
    QUrl baseUrl;
    QString pathTemplate = QStringLiteral("{filename}");
    QString uploadMethod = QStringLiteral("PUT");
    QVariantMap headers;
    QHttpRemoteStorage::TokenProvider tokenProvider;
    // Bounded by the transfers' prepare timeout, not by a timeout of its own.
    QNetworkCredential<QString> token;
};

void QHttpRemoteStoragePrivate::withToken(bool afterUnauthorized, const QString &rejected,
                                          Waiter waiter)
{
    if (!tokenProvider) {
        waiter(QString(), QAttachmentError());
        return;
    }
    // Another request may already have replaced the rejected token.
    const QString current = token.value();
    if (!current.isEmpty() && (!afterUnauthorized || current != rejected)) {
        waiter(current, QAttachmentError());
        return;
    }
    const QHttpRemoteStorage::TokenProvider provider = tokenProvider;
    token.wait(nullptr, std::move(waiter),
               [provider, afterUnauthorized](QNetworkCredential<QString>::Answer answer) {
                   provider(afterUnauthorized, std::move(answer));
               });
}

QHttpTransfer::Request QHttpRemoteStoragePrivate::baseRequest(const QAttachment &attachment,
                                                              const QString &bearer) const
{
    QHttpTransfer::Request request;
    QNetworkRequest req(q->urlFor(attachment));
    QNetworkRemoteStoragePrivate::applyHeaders(req, headers);
    if (!bearer.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());
    request.request = req;
    request.transferTimeoutMs = q->transferTimeout();
    return request;
}

QString QHttpRemoteStoragePrivate::problemWithPath(const QAttachment &attachment) const
{
    const struct
    {
        QString placeholder;
        QString field;
        QString value;
    } fields[] = {
        {QStringLiteral("{filename}"), QStringLiteral("filename"), attachment.filename()},
        {QStringLiteral("{id}"), QStringLiteral("id"), attachment.id()},
        {QStringLiteral("{mediaType}"), QStringLiteral("media type"), attachment.mediaType()},
    };
    for (const auto &f : fields) {
        if (!pathTemplate.contains(f.placeholder))
            continue;
        const QString problem = problemWithPathField(f.value, f.field, attachment.id());
        if (!problem.isEmpty())
            return problem;
    }
    return {};
}

QHttpTransfer *
QHttpRemoteStoragePrivate::operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                                     std::function<void(QHttpTransfer::Request &)> adjust)
{
    if (!baseUrl.isValid() || baseUrl.isRelative())
        return network()->failedTransfer(
            kind,
            QAttachmentError(QAttachmentError::InvalidInput,
                             QStringLiteral("HTTP storage has no valid baseUrl")));
    const QString pathProblem = problemWithPath(attachment);
    if (!pathProblem.isEmpty())
        return network()->failedTransfer(
            kind, QAttachmentError(QAttachmentError::InvalidInput, pathProblem));
    QHttpTransfer *op = network()->newTransfer(kind, true);
    op->setRetryOnUnauthorized(bool(tokenProvider));
    QPointer<QHttpRemoteStorage> guard(q);
    // The token used for the first attempt, to tell a stale cache from a rejected token.
    auto used = std::make_shared<QString>();
    op->setPrepare([this, guard, attachment, adjust, used](bool afterUnauthorized,
                                                           QHttpTransfer::Ready ready) {
        if (!guard) {
            ready({},
                  QAttachmentError(QAttachmentError::Cancelled,
                                   QStringLiteral("the storage was destroyed")));
            return;
        }
        withToken(afterUnauthorized, *used,
                  [this, attachment, adjust, used, ready](const QString &bearer,
                                                          const QAttachmentError &error) {
                      if (error.isError()) {
                          ready({}, error);
                          return;
                      }
                      *used = bearer;
                      QHttpTransfer::Request request = baseRequest(attachment, bearer);
                      adjust(request);
                      ready(request, QAttachmentError());
                  });
    });
    op->start();
    return op;
}

QHttpRemoteStorage::QHttpRemoteStorage(QObject *parent)
    : QNetworkRemoteStorage(parent)
    , d(std::make_unique<QHttpRemoteStoragePrivate>())
{
    d->q = this;
}

QHttpRemoteStorage::~QHttpRemoteStorage() = default;

QUrl QHttpRemoteStorage::baseUrl() const
{
    return d->baseUrl;
}

void QHttpRemoteStorage::setBaseUrl(const QUrl &url)
{
    if (d->baseUrl == url)
        return;
    d->baseUrl = url;
    Q_EMIT baseUrlChanged();
    Q_EMIT configurationChanged();
}

QString QHttpRemoteStorage::pathTemplate() const
{
    return d->pathTemplate;
}

void QHttpRemoteStorage::setPathTemplate(const QString &pathTemplate)
{
    if (d->pathTemplate == pathTemplate)
        return;
    d->pathTemplate = pathTemplate;
    Q_EMIT pathTemplateChanged();
    Q_EMIT configurationChanged();
}

QString QHttpRemoteStorage::uploadMethod() const
{
    return d->uploadMethod;
}

void QHttpRemoteStorage::setUploadMethod(const QString &method)
{
    const QString normalized = method.trimmed().toUpper();
    if (d->uploadMethod == normalized)
        return;
    d->uploadMethod = normalized;
    Q_EMIT uploadMethodChanged();
    Q_EMIT configurationChanged();
}

QVariantMap QHttpRemoteStorage::headers() const
{
    return d->headers;
}

void QHttpRemoteStorage::setHeaders(const QVariantMap &headers)
{
    if (d->headers == headers)
        return;
    d->headers = headers;
    Q_EMIT headersChanged();
    Q_EMIT configurationChanged();
}

void QHttpRemoteStorage::setTokenProvider(TokenProvider provider)
{
    d->tokenProvider = std::move(provider);
    clearToken();
    Q_EMIT configurationChanged();
}

void QHttpRemoteStorage::clearToken()
{
    d->token.clear();
    // Requests waiting for an answer of the old provider ask again.
    const auto waiters = d->token.abandon();
    for (const auto &w : waiters)
        d->withToken(false, QString(), w.answer);
}

QUrl QHttpRemoteStorage::urlFor(const QAttachment &attachment) const
{
    if (!d->problemWithPath(attachment).isEmpty())
        return {};
    const auto segment
        = [](const QString &value) { return QString::fromLatin1(QUrl::toPercentEncoding(value)); };
    QString relative = d->pathTemplate;
    relative.replace(QStringLiteral("{filename}"), segment(attachment.filename()));
    relative.replace(QStringLiteral("{id}"), segment(attachment.id()));
    relative.replace(QStringLiteral("{mediaType}"), segment(attachment.mediaType()));
    while (relative.startsWith(QLatin1Char('/')))
        relative.remove(0, 1);

    QUrl url = d->baseUrl;
    QString path = url.path(QUrl::FullyEncoded);
    if (!path.endsWith(QLatin1Char('/')))
        path += QLatin1Char('/');
    url.setPath(path + relative, QUrl::TolerantMode);
    return url;
}

QAttachmentTransfer *QHttpRemoteStorage::upload(const QAttachment &attachment, QIODevice *source)
{
    const QByteArray method = d->uploadMethod.toLatin1();
    const QString mediaType = attachment.mediaType();
    if (!mediaType.isEmpty()) {
        const QString problem = QAttachmentNames::problemWithMediaType(mediaType);
        if (!problem.isEmpty()) {
            return QNetworkRemoteStoragePrivate::get(this)->failedTransfer(
                QAttachmentTransfer::Upload,
                QAttachmentError(
                    QAttachmentError::InvalidInput,
                    QStringLiteral("attachment \"%1\": %2").arg(attachment.id(), problem)));
        }
    }
    QHttpTransfer *op = d->operation(
        QAttachmentTransfer::Upload, attachment, [=](QHttpTransfer::Request &request) {
            request.method = method;
            request.body = source;
            if (!mediaType.isEmpty())
                request.request.setHeader(QNetworkRequest::ContentTypeHeader, mediaType);
        });
    op->setDevice(source);
    return op;
}

QAttachmentTransfer *QHttpRemoteStorage::download(const QAttachment &attachment, QIODevice *sink)
{
    QHttpTransfer *op = d->operation(QAttachmentTransfer::Download, attachment,
                                     [sink](QHttpTransfer::Request &request) {
                                         request.method = "GET";
                                         request.sink = sink;
                                         request.resumeFrom = sink ? sink->pos() : 0;
                                         request.followRedirects = true;
                                     });
    op->setDevice(sink);
    return op;
}

QAttachmentTransfer *QHttpRemoteStorage::remove(const QAttachment &attachment)
{
    return d->operation(QAttachmentTransfer::Delete, attachment,
                        [](QHttpTransfer::Request &request) {
                            request.method = "DELETE";
                            request.notFoundIsSuccess = true;
                        });
}
