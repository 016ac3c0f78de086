#include "qhttpremotestorage.h"

#include "qattachmentlogging_p.h"
#include "qattachmentnames_p.h"
#include "qhttpoperation_p.h"

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
    using Waiter = std::function<void(const QString &token, const QAttachmentError &error)>;

    QNetworkAccessManager *manager();
    // Hands the current token to `waiter`, asking the provider when there is
    // none or when `rejected` is the token a server just refused.
    void withToken(bool afterUnauthorized, const QString &rejected, Waiter waiter);
    QHttpTransfer::Request baseRequest(const QAttachment &attachment, const QString &token) const;
    QHttpOperation *operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                              std::function<void(QHttpTransfer::Request &)> adjust);
    QHttpOperation *failed(QAttachmentTransfer::Kind kind, const QAttachmentError &error);
    // Why `attachment` has no URL under the path template; empty when it has one.
    QString problemWithPath(const QAttachment &attachment) const;

    QHttpRemoteStorage *q = nullptr;
    QUrl baseUrl;
    QString pathTemplate = QStringLiteral("{filename}");
    QString uploadMethod = QStringLiteral("PUT");
    QVariantMap headers;
    int transferTimeout = 60000;
    QHttpRemoteStorage::TokenProvider tokenProvider;
    QString token;
    bool tokenPending = false;
    int tokenGeneration = 0;
    QList<Waiter> waiters;
    QPointer<QNetworkAccessManager> externalManager;
    QNetworkAccessManager *ownManager = nullptr;
};

QNetworkAccessManager *QHttpRemoteStoragePrivate::manager()
{
    if (externalManager)
        return externalManager;
    if (!ownManager)
        ownManager = new QNetworkAccessManager(q);
    return ownManager;
}

void QHttpRemoteStoragePrivate::withToken(bool afterUnauthorized, const QString &rejected,
                                          Waiter waiter)
{
    if (!tokenProvider) {
        waiter(QString(), QAttachmentError());
        return;
    }
    // Another request may already have replaced the rejected token.
    if (!token.isEmpty() && (!afterUnauthorized || token != rejected)) {
        waiter(token, QAttachmentError());
        return;
    }
    waiters.append(std::move(waiter));
    if (tokenPending)
        return;
    tokenPending = true;
    const bool refresh = afterUnauthorized;
    const int generation = ++tokenGeneration;
    QPointer<QHttpRemoteStorage> guard(q);
    tokenProvider(
        refresh, [this, guard, generation](const QString &newToken, const QAttachmentError &error) {
            if (!guard || generation != tokenGeneration || !tokenPending)
                return;
            tokenPending = false;
            if (!error.isError())
                token = newToken;
            const QList<Waiter> ready = std::exchange(waiters, {});
            for (const Waiter &w : ready)
                w(newToken, error);
        });
}

QHttpTransfer::Request QHttpRemoteStoragePrivate::baseRequest(const QAttachment &attachment,
                                                              const QString &bearer) const
{
    QHttpTransfer::Request request;
    QNetworkRequest req(q->urlFor(attachment));
    for (auto it = headers.cbegin(); it != headers.cend(); ++it)
        req.setRawHeader(it.key().toUtf8(), it.value().toString().toUtf8());
    if (!bearer.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + bearer.toUtf8());
    request.request = req;
    request.transferTimeoutMs = transferTimeout;
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

QHttpOperation *QHttpRemoteStoragePrivate::failed(QAttachmentTransfer::Kind kind,
                                                  const QAttachmentError &error)
{
    auto *op = new QHttpOperation(kind, manager());
    op->setPrepare([error](bool, QHttpOperation::Ready ready) { ready({}, error); });
    op->start();
    return op;
}

QHttpOperation *
QHttpRemoteStoragePrivate::operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                                     std::function<void(QHttpTransfer::Request &)> adjust)
{
    if (!baseUrl.isValid() || baseUrl.isRelative())
        return failed(kind,
                      QAttachmentError(QAttachmentError::InvalidInput,
                                       QStringLiteral("HTTP storage has no valid baseUrl")));
    const QString pathProblem = problemWithPath(attachment);
    if (!pathProblem.isEmpty())
        return failed(kind, QAttachmentError(QAttachmentError::InvalidInput, pathProblem));
    auto *op = new QHttpOperation(kind, manager());
    op->setRetryOnUnauthorized(bool(tokenProvider));
    op->setPrepareTimeout(transferTimeout);
    QPointer<QHttpRemoteStorage> guard(q);
    // The token used for the first attempt, to tell a stale cache from a rejected token.
    auto used = std::make_shared<QString>();
    op->setPrepare([this, guard, attachment, adjust, used](bool afterUnauthorized,
                                                           QHttpOperation::Ready ready) {
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
    : QAttachmentRemoteStorage(parent)
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

int QHttpRemoteStorage::transferTimeout() const
{
    return d->transferTimeout;
}

void QHttpRemoteStorage::setTransferTimeout(int msecs)
{
    msecs = qMax(0, msecs);
    if (d->transferTimeout == msecs)
        return;
    d->transferTimeout = msecs;
    Q_EMIT transferTimeoutChanged();
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
    ++d->tokenGeneration;
    const bool wasPending = std::exchange(d->tokenPending, false);
    if (wasPending) {
        const auto waiters = std::exchange(d->waiters, {});
        for (const auto &w : waiters)
            d->withToken(false, QString(), w);
    }
}

QNetworkAccessManager *QHttpRemoteStorage::networkAccessManager() const
{
    return d->manager();
}

void QHttpRemoteStorage::setNetworkAccessManager(QNetworkAccessManager *manager)
{
    if (d->externalManager == manager)
        return;
    d->externalManager = manager;
    Q_EMIT configurationChanged();
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
            QHttpOperation *op = d->failed(
                QAttachmentTransfer::Upload,
                QAttachmentError(
                    QAttachmentError::InvalidInput,
                    QStringLiteral("attachment \"%1\": %2").arg(attachment.id(), problem)));
            op->setDevice(source);
            return op;
        }
    }
    QHttpOperation *op = d->operation(
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
    QHttpOperation *op = d->operation(QAttachmentTransfer::Download, attachment,
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
