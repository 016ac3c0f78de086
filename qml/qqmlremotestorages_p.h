#ifndef QQMLREMOTESTORAGES_P_H
#define QQMLREMOTESTORAGES_P_H

// The remote storage adapters as QML types: HttpRemoteStorage,
// PresignedRemoteStorage and S3RemoteStorage, configured by their properties.
// Callbacks (token provider, resolver) are JavaScript functions that answer
// by returning a value, returning a Promise, or calling the `done` function
// they are given as their last argument.

#include <QtCore/qpointer.h>
#include <QtQml/qjsvalue.h>
#include <QtQml/qqml.h>

#include <functional>

// Calls a JavaScript callback and delivers its answer, however it comes, once.
class QQmlJsAnswer : public QObject
{
    Q_OBJECT

public:
    // `error` is empty on success.
    using Handler = std::function<void(const QJSValue &value, const QString &error)>;

    // Calls `function(arguments..., done)` in `engine`; `handler` runs once,
    // possibly before call() returns. Answers arriving after `context` is
    // destroyed are dropped.
    static void call(QJSEngine *engine, const QJSValue &function, const QJSValueList &arguments,
                     QObject *context, Handler handler);

    Q_INVOKABLE void done(const QJSValue &value, const QString &error);

private:
    QQmlJsAnswer(QObject *context, Handler handler);

    QPointer<QObject> m_context;
    Handler m_handler;
};

#include <qhttpremotestorage.h>

// HttpRemoteStorage { baseUrl: "https://files.example.com/"; token: "..." }
// or, for tokens that expire:
// tokenProvider: function (refresh, done) { fetchToken(refresh).then(done) }
class QQmlHttpRemoteStorage : public QHttpRemoteStorage
{
    Q_OBJECT
    QML_NAMED_ELEMENT(HttpRemoteStorage)
    // A fixed bearer token; empty for none.
    Q_PROPERTY(QString token READ token WRITE setToken NOTIFY tokenChanged FINAL)
    // function (refresh[, done]) returning the token, a Promise of it, or
    // calling done(token); wins over `token`.
    Q_PROPERTY(QJSValue tokenProvider READ tokenProvider WRITE setTokenProvider NOTIFY
                   tokenProviderChanged FINAL)

public:
    explicit QQmlHttpRemoteStorage(QObject *parent = nullptr);

    QString token() const { return m_token; }
    void setToken(const QString &token);
    QJSValue tokenProvider() const { return m_tokenProvider; }
    void setTokenProvider(const QJSValue &provider);

Q_SIGNALS:
    void tokenChanged();
    void tokenProviderChanged();

private:
    void updateProvider();

    QString m_token;
    QJSValue m_tokenProvider;
};

#include <qpresignedremotestorage.h>

// PresignedRemoteStorage {
//     resolver: function (attachment, kind, done) {
//         // ask the backend, then
//         done({ url: signedUrl, method: "PUT", headers: { "Content-Type": attachment.mediaType }
//         })
//     }
// }
// The resolver may also return the request (an object or a URL string) or a
// Promise of it; throwing or rejecting fails the transfer.
class QQmlPresignedRemoteStorage : public QPresignedRemoteStorage
{
    Q_OBJECT
    QML_NAMED_ELEMENT(PresignedRemoteStorage)
    Q_PROPERTY(QJSValue resolver READ resolver WRITE setResolver NOTIFY resolverChanged FINAL)

public:
    explicit QQmlPresignedRemoteStorage(QObject *parent = nullptr);

    QJSValue resolver() const { return m_resolver; }
    void setResolver(const QJSValue &resolver);

Q_SIGNALS:
    void resolverChanged();

private:
    QJSValue m_resolver;
};

struct QQmlPresignedRequestForeign
{
    Q_GADGET
    QML_FOREIGN(QPresignedRequest)
    QML_VALUE_TYPE(presignedRequest)
};

#include <qs3remotestorage.h>

// S3RemoteStorage { endpoint: "http://127.0.0.1:9000"; bucket: "photos";
//                   accessKeyId: "..."; secretAccessKey: "..." }
// or, with temporary credentials from the app's backend:
// credentialsProvider: function (done) {
//     done({ accessKeyId: k, secretAccessKey: s, sessionToken: t, expiration: new Date(...) })
// }
class QQmlS3RemoteStorage : public QS3RemoteStorage
{
    Q_OBJECT
    QML_NAMED_ELEMENT(S3RemoteStorage)
    // function ([done]) returning the credentials, a Promise of them, or
    // calling done(credentials); replaces the static keys while set.
    Q_PROPERTY(QJSValue credentialsProvider READ credentialsProvider WRITE setCredentialsProvider
                   NOTIFY credentialsProviderChanged FINAL)

public:
    explicit QQmlS3RemoteStorage(QObject *parent = nullptr);

    QJSValue credentialsProvider() const { return m_provider; }
    void setCredentialsProvider(const QJSValue &provider);

Q_SIGNALS:
    void credentialsProviderChanged();

private:
    QJSValue m_provider;
};

struct QQmlS3CredentialsForeign
{
    Q_GADGET
    QML_FOREIGN(QS3Credentials)
    QML_VALUE_TYPE(s3Credentials)
};

#endif // QQMLREMOTESTORAGES_P_H
