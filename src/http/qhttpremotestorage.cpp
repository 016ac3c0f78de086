#include "qhttpremotestorage.h"

#include "qattachmentlogging_p.h"
#include "qhttpoperation_p.h"

#include <QtCore/qpointer.h>
#include <QtNetwork/qnetworkaccessmanager.h>

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

QHttpOperation *
QHttpRemoteStoragePrivate::operation(QAttachmentTransfer::Kind kind, const QAttachment &attachment,
                                     std::function<void(QHttpTransfer::Request &)> adjust)
{
    auto *op = new QHttpOperation(kind, manager());
    op->setRetryOnUnauthorized(bool(tokenProvider));
    op->setPrepareTimeout(transferTimeout);
    if (!baseUrl.isValid() || baseUrl.isRelative()) {
        op->setPrepare([](bool, QHttpOperation::Ready ready) {
            ready({},
                  QAttachmentError(QAttachmentError::InvalidInput,
                                   QStringLiteral("HTTP storage has no valid baseUrl")));
        });
        op->start();
        return op;
    }
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
