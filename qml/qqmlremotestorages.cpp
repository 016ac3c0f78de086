#include "qqmlremotestorages_p.h"

#include <QtQml/qjsengine.h>

// A callback that never answers leaves its answer object to the context.
QQmlJsAnswer::QQmlJsAnswer(QObject *context, Handler handler)
    : QObject(context)
    , m_context(context)
    , m_handler(std::move(handler))
{ }

void QQmlJsAnswer::call(QJSEngine *engine, const QJSValue &function, const QJSValueList &arguments,
                        QObject *context, Handler handler)
{
    if (!engine || !function.isCallable()) {
        handler({}, QStringLiteral("no JavaScript function to call"));
        return;
    }
    // Whatever the callback does (returns, returns a Promise, calls done,
    // throws), exactly one answer reaches done().
    const QJSValue glue = engine->evaluate(
        QStringLiteral("(function (fn, args, answer) {"
                       "  var settled = false;"
                       "  function text(e) { return e && e.message !== undefined ? "
                       "String(e.message) : String(e); }"
                       "  function done(value, error) {"
                       "    if (settled) return;"
                       "    settled = true;"
                       "    answer.done(value === undefined ? null : value,"
                       "                error === undefined || error === null ? '' : text(error));"
                       "  }"
                       "  try {"
                       "    var result = fn.apply(null, args.concat([done]));"
                       "    if (result && typeof result.then === 'function')"
                       "      result.then(function (v) { done(v); }, function (e) { done(null, e "
                       "|| 'rejected'); });"
                       "    else if (result !== undefined)"
                       "      done(result);"
                       "  } catch (e) {"
                       "    done(null, e || 'thrown');"
                       "  }"
                       "})"));
    auto *answer = new QQmlJsAnswer(context, std::move(handler));
    QJSEngine::setObjectOwnership(answer, QJSEngine::CppOwnership);
    QJSValue args = engine->newArray(quint32(arguments.size()));
    for (int i = 0; i < arguments.size(); ++i)
        args.setProperty(quint32(i), arguments.at(i));
    const QJSValue result = glue.call({function, args, engine->newQObject(answer)});
    if (result.isError())
        answer->done({}, result.toString());
}

void QQmlJsAnswer::done(const QJSValue &value, const QString &error)
{
    if (!m_handler)
        return;
    const Handler handler = std::exchange(m_handler, {});
    if (m_context)
        handler(value, error);
    deleteLater();
}

QQmlHttpRemoteStorage::QQmlHttpRemoteStorage(QObject *parent)
    : QHttpRemoteStorage(parent)
{ }

void QQmlHttpRemoteStorage::setToken(const QString &token)
{
    if (m_token == token)
        return;
    m_token = token;
    updateProvider();
    emit tokenChanged();
}

void QQmlHttpRemoteStorage::setTokenProvider(const QJSValue &provider)
{
    if (provider.strictlyEquals(m_tokenProvider))
        return;
    m_tokenProvider = provider;
    updateProvider();
    emit tokenProviderChanged();
}

void QQmlHttpRemoteStorage::updateProvider()
{
    clearToken();
    if (m_tokenProvider.isCallable()) {
        const QJSValue provider = m_tokenProvider;
        QHttpRemoteStorage::setTokenProvider([this, provider](bool refresh, TokenCallback done) {
            QQmlJsAnswer::call(
                qjsEngine(this), provider, {QJSValue(refresh)}, this,
                [done](const QJSValue &value, const QString &error) {
                    // A failing provider usually means an unreachable
                    // backend (worth retrying); no token means none is due.
                    if (!error.isEmpty()) {
                        done({},
                             QAttachmentError(QAttachmentError::NetworkError,
                                              QStringLiteral("token provider: ") + error));
                        return;
                    }
                    if (value.isNull() || value.toString().isEmpty()) {
                        done({},
                             QAttachmentError(QAttachmentError::Unauthorized,
                                              QStringLiteral("the token provider gave "
                                                             "no token")));
                        return;
                    }
                    done(value.toString(), {});
                });
        });
    } else if (!m_token.isEmpty()) {
        const QString token = m_token;
        QHttpRemoteStorage::setTokenProvider(
            [token](bool, TokenCallback done) { done(token, {}); });
    } else {
        QHttpRemoteStorage::setTokenProvider({});
    }
    // Requests that failed for want of the right credentials may work now.
    emit configurationChanged();
}

static QPresignedRequest presignedRequestFrom(const QJSValue &value)
{
    if (value.isString())
        return QPresignedRequest(QUrl(value.toString()));
    if (value.isVariant() || value.isQObject() || !value.isObject()) {
        const QVariant variant = value.toVariant();
        if (variant.canConvert<QPresignedRequest>())
            return variant.value<QPresignedRequest>();
        return QPresignedRequest(variant.toUrl());
    }
    const QVariantMap map = value.toVariant().toMap();
    return QPresignedRequest(map.value(QStringLiteral("url")).toUrl(),
                             map.value(QStringLiteral("method")).toString(),
                             map.value(QStringLiteral("headers")).toMap());
}

QQmlPresignedRemoteStorage::QQmlPresignedRemoteStorage(QObject *parent)
    : QPresignedRemoteStorage(parent)
{ }

void QQmlPresignedRemoteStorage::setResolver(const QJSValue &resolver)
{
    if (resolver.strictlyEquals(m_resolver))
        return;
    m_resolver = resolver;
    if (!resolver.isCallable()) {
        QPresignedRemoteStorage::setResolver({});
    } else {
        QPresignedRemoteStorage::setResolver([this, resolver](const QAttachment &attachment,
                                                              QAttachmentTransfer::Kind kind,
                                                              ResolverCallback done) {
            QJSEngine *engine = qjsEngine(this);
            if (!engine) {
                done({},
                     QAttachmentError(QAttachmentError::InvalidInput,
                                      QStringLiteral("the resolver has no JavaScript engine")));
                return;
            }
            QQmlJsAnswer::call(
                engine, resolver, {engine->toScriptValue(attachment), QJSValue(int(kind))}, this,
                [done, attachment](const QJSValue &value, const QString &error) {
                    if (!error.isEmpty()) {
                        // Usually the backend is out of reach: worth retrying.
                        done(
                            {},
                            QAttachmentError(
                                QAttachmentError::NetworkError,
                                QStringLiteral("resolver for %1: %2").arg(attachment.id(), error)));
                        return;
                    }
                    done(presignedRequestFrom(value), {});
                });
        });
    }
    emit configurationChanged();
    emit resolverChanged();
}

QQmlS3RemoteStorage::QQmlS3RemoteStorage(QObject *parent)
    : QS3RemoteStorage(parent)
{ }

void QQmlS3RemoteStorage::setCredentialsProvider(const QJSValue &provider)
{
    if (provider.strictlyEquals(m_provider))
        return;
    m_provider = provider;
    if (!provider.isCallable()) {
        QS3RemoteStorage::setCredentialsProvider({});
    } else {
        QS3RemoteStorage::setCredentialsProvider([this, provider](CredentialsCallback done) {
            QQmlJsAnswer::call(
                qjsEngine(this), provider, {}, this,
                [done](const QJSValue &value, const QString &error) {
                    if (!error.isEmpty()) {
                        // Usually the backend is out of reach: worth retrying.
                        done({},
                             QAttachmentError(QAttachmentError::NetworkError,
                                              QStringLiteral("credentials provider: ") + error));
                        return;
                    }
                    const QVariantMap map = value.toVariant().toMap();
                    const QS3Credentials credentials(
                        map.value(QStringLiteral("accessKeyId")).toString(),
                        map.value(QStringLiteral("secretAccessKey")).toString(),
                        map.value(QStringLiteral("sessionToken")).toString(),
                        map.value(QStringLiteral("expiration")).toDateTime());
                    if (!credentials.isValid()) {
                        done({},
                             QAttachmentError(QAttachmentError::Unauthorized,
                                              QStringLiteral("the credentials provider gave "
                                                             "no accessKeyId and "
                                                             "secretAccessKey")));
                        return;
                    }
                    done(credentials, {});
                });
        });
    }
    emit configurationChanged();
    emit credentialsProviderChanged();
}
