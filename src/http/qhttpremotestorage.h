#ifndef QHTTPREMOTESTORAGE_H
#define QHTTPREMOTESTORAGE_H

#include "qnetworkremotestorage.h"

#include <QtCore/qurl.h>
#include <QtCore/qvariant.h>

#include <functional>
#include <memory>

class QHttpRemoteStoragePrivate;

// Remote storage on a plain HTTP server that stores what is PUT to a URL,
// serves it with GET and removes it with DELETE: nginx or Apache WebDAV, the
// embedded attachments server, most object stores behind a gateway.
//
// Each attachment lives at baseUrl + pathTemplate, where {filename}, {id} and
// {mediaType} are replaced by the attachment's values, each percent-encoded
// as one path segment. Downloads resume with Range requests; bodies are
// streamed both ways.
//
// With a token provider, every request carries "Authorization: Bearer
// <token>". The token is cached; after a 401 or 403 the provider is asked
// for a fresh one (refresh = true) and the request is retried once.
class POWERSYNC_ATTACHMENTS_EXPORT QHttpRemoteStorage : public QNetworkRemoteStorage
{
    Q_OBJECT
    Q_PROPERTY(QUrl baseUrl READ baseUrl WRITE setBaseUrl NOTIFY baseUrlChanged FINAL)
    Q_PROPERTY(QString pathTemplate READ pathTemplate WRITE setPathTemplate NOTIFY
                   pathTemplateChanged FINAL)
    Q_PROPERTY(QString uploadMethod READ uploadMethod WRITE setUploadMethod NOTIFY
                   uploadMethodChanged FINAL)
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged FINAL)

public:
    // Called with the token, or with an error that fails the request.
    using TokenCallback = std::function<void(const QString &token, const QAttachmentError &error)>;
    // Produces a token asynchronously; `refresh` is true when the cached one
    // was rejected. It may call `done` at once or later, from this thread.
    using TokenProvider = std::function<void(bool refresh, TokenCallback done)>;

    explicit QHttpRemoteStorage(QObject *parent = nullptr);
    ~QHttpRemoteStorage() override;

    QUrl baseUrl() const;
    void setBaseUrl(const QUrl &url);

    // Relative to baseUrl; default "{filename}".
    QString pathTemplate() const;
    void setPathTemplate(const QString &pathTemplate);

    // Default "PUT".
    QString uploadMethod() const;
    void setUploadMethod(const QString &method);

    // Sent with every request: header name → value (converted to a string).
    QVariantMap headers() const;
    void setHeaders(const QVariantMap &headers);

    void setTokenProvider(TokenProvider provider);
    // Forgets the cached token: the next request asks the provider again.
    void clearToken();

    // Where `attachment` is stored; empty when one of the values the path
    // template uses would make an empty, "." or ".." segment.
    QUrl urlFor(const QAttachment &attachment) const;

    QAttachmentTransfer *upload(const QAttachment &attachment, QIODevice *source) override;
    QAttachmentTransfer *download(const QAttachment &attachment, QIODevice *sink) override;
    QAttachmentTransfer *remove(const QAttachment &attachment) override;

Q_SIGNALS:
    void baseUrlChanged();
    void pathTemplateChanged();
    void uploadMethodChanged();
    void headersChanged();

private:
    std::unique_ptr<QHttpRemoteStoragePrivate> d;
};

#endif // QHTTPREMOTESTORAGE_H
