#include "qqmlattachmentqueue_p.h"

#include <QtCore/qfileinfo.h>
#include <QtQml/qjsengine.h>
#include <QtQml/qqmlengine.h>
#include <QtSql/qsqlerror.h>
#include <QtSql/qsqlrecord.h>

QQmlAttachmentTransaction::QQmlAttachmentTransaction(QAttachmentTransaction *transaction,
                                                     QObject *parent)
    : QObject(parent)
    , m_transaction(transaction)
{ }

QJSValue QQmlAttachmentTransaction::execute(const QString &sql, const QVariantList &parameters)
{
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return {};
    if (!m_transaction) {
        engine->throwError(QStringLiteral("the transaction is over: execute() is only valid "
                                          "inside the update hook"));
        return {};
    }
    QVariantList values;
    values.reserve(parameters.size());
    for (const QVariant &value : parameters) {
        // JavaScript numbers arrive as doubles; SQLite would store 1 as 1.0.
        if (value.typeId() == QMetaType::Double && value.toDouble() == qint64(value.toDouble()))
            values.append(qint64(value.toDouble()));
        else
            values.append(value);
    }
    QSqlQuery query = m_transaction->execute(sql, values);
    if (!query.isActive()) {
        const QString error = m_transaction->errorString().isEmpty() ? query.lastError().text()
                                                                     : m_transaction->errorString();
        m_transaction->setError(error);
        engine->throwError(error);
        return {};
    }
    if (!query.isSelect())
        return QJSValue(query.numRowsAffected());
    QJSValue rows = engine->newArray();
    quint32 n = 0;
    while (query.next()) {
        const QSqlRecord record = query.record();
        QJSValue row = engine->newObject();
        for (int i = 0; i < record.count(); ++i)
            row.setProperty(record.fieldName(i), engine->toScriptValue(record.value(i)));
        rows.setProperty(n++, row);
    }
    return rows;
}

QQmlAttachmentQueue::QQmlAttachmentQueue(QObject *parent)
    : QAttachmentQueue(parent)
    , m_model(new QQmlAttachmentModel(this))
{
    // The model reads the table once the queue is fully declared.
    m_model->classBegin();
    m_model->setPendingQueue(this);
}

QQmlAttachmentQueue::~QQmlAttachmentQueue()
{
    // The model must not follow a queue that is half destroyed.
    m_model->setPendingQueue(nullptr);
}

QAttachmentModel *QQmlAttachmentQueue::model() const
{
    return m_model;
}

void QQmlAttachmentQueue::setSyncing(bool syncing)
{
    m_syncing = syncing;
    if (m_complete)
        applySyncing();
}

void QQmlAttachmentQueue::applySyncing()
{
    if (!m_syncing) {
        stopSyncing();
        return;
    }
    if (isSyncing())
        return;
    // startSync() reports why it failed only through errorOccurred.
    QString why;
    const auto connection = connect(this, &QAttachmentQueue::errorOccurred, this,
                                    [&why](const QAttachmentError &error) {
                                        if (why.isEmpty())
                                            why = error.message();
                                    });
    const bool started = startSync();
    disconnect(connection);
    if (started) {
        setErrorString({});
        return;
    }
    // A cause that persists is reported once: a second failed start keeps it.
    if (why.isEmpty())
        why = errorString().isEmpty() ? tr("the queue could not start") : errorString();
    setErrorString(why);
}

void QQmlAttachmentQueue::classBegin()
{
    m_complete = false;
}

void QQmlAttachmentQueue::componentComplete()
{
    m_complete = true;
    emit completed();
    m_model->componentComplete();
    if (m_syncing)
        applySyncing();
}

void QQmlAttachmentQueue::setErrorString(const QString &error)
{
    if (m_errorString == error)
        return;
    m_errorString = error;
    emit errorStringChanged();
}

QAttachmentQueue::UpdateHook QQmlAttachmentQueue::wrapHook(const QJSValue &hook, QJSValue *thrown)
{
    if (!hook.isCallable())
        return {};
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return {};
    return [hook, engine, thrown](QAttachmentTransaction &transaction,
                                  const QAttachment &attachment) {
        // A JavaScript wrapper catches whatever the hook throws, Error object or not.
        const QJSValue guard
            = engine->evaluate(QStringLiteral("(function(hook, tx, a) {"
                                              "  try { return { ok: true, value: hook(tx, a) }; }"
                                              "  catch (e) { return { ok: false, error: e }; }"
                                              "})"));
        auto *tx = new QQmlAttachmentTransaction(&transaction);
        QJSEngine::setObjectOwnership(tx, QJSEngine::CppOwnership);
        const QJSValue txValue = engine->newQObject(tx);
        const QJSValue result = guard.call({hook, txValue, engine->toScriptValue(attachment)});
        tx->invalidate();
        tx->deleteLater();
        if (result.isError()) {
            *thrown = result;
            transaction.setError(result.toString());
            return false;
        }
        if (!result.property(QStringLiteral("ok")).toBool()) {
            *thrown = result.property(QStringLiteral("error"));
            const QString message = thrown->isError()
                ? thrown->property(QStringLiteral("message")).toString()
                : thrown->toString();
            transaction.setError(tr("the update hook threw: %1").arg(message));
            return false;
        }
        const QJSValue value = result.property(QStringLiteral("value"));
        if (value.isBool() && !value.toBool()) {
            transaction.setError(tr("the update hook returned false"));
            return false;
        }
        return !transaction.hasError();
    };
}

namespace {

// A one-line string that names a file rather than holding its contents: an
// absolute or home path, a Windows drive path, or a URL with a scheme Qt apps
// hand around (qrc:, content:, http: ...).
bool looksLikePathOrUrl(const QString &text)
{
    if (text.isEmpty() || text.size() > 4096 || text.contains(QLatin1Char('\n')))
        return false;
    if (text.startsWith(QLatin1Char('/')) || text.startsWith(QLatin1String("~/")))
        return true;
    if (text.size() >= 3 && text.at(0).isLetter() && text.at(1) == QLatin1Char(':')
        && (text.at(2) == QLatin1Char('\\') || text.at(2) == QLatin1Char('/')))
        return true;
    static const char *const schemes[]
        = {"qrc:", "content:", "assets:", "http:", "https:", "file:"};
    for (const char *scheme : schemes) {
        if (text.startsWith(QLatin1String(scheme), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

QAttachment QQmlAttachmentQueue::saveFile(const QVariant &data, const QString &mediaType,
                                          const QString &fileExtension, const QJSValue &updateHook,
                                          const QString &metaData)
{
    QUrl url;
    if (data.typeId() == QMetaType::QUrl)
        url = data.toUrl();
    else if (data.typeId() == QMetaType::QString
             && data.toString().startsWith(QLatin1String("file:")))
        url = QUrl(data.toString());

    if (url.isLocalFile()) {
        QJSValue thrown;
        const UpdateHook hook = wrapHook(updateHook, &thrown);
        QString error;
        const QAttachment saved
            = saveFileFromPath(url.toLocalFile(), mediaType, fileExtension, hook, metaData, &error);
        setErrorString(saved.isValid() ? QString() : error);
        if (!thrown.isUndefined()) {
            if (QJSEngine *engine = qjsEngine(this))
                engine->throwError(thrown);
        }
        return saved;
    }
    if (data.typeId() == QMetaType::QByteArray)
        return saveBytes(data.toByteArray(), mediaType, fileExtension, updateHook, metaData);
    if (data.typeId() == QMetaType::QString || data.typeId() == QMetaType::QUrl) {
        const QString text = data.toString();
        if (data.typeId() == QMetaType::QUrl || looksLikePathOrUrl(text)) {
            setErrorString(tr("saveFile() got \"%1\", which names a file instead of holding its "
                              "contents: pass a local file: URL (e.g. Qt.resolvedUrl() or a "
                              "FileDialog's selectedFile) to copy a file, or call saveText() to "
                              "store this text")
                               .arg(text.left(200)));
            return QAttachment();
        }
        return saveBytes(text.toUtf8(), mediaType, fileExtension, updateHook, metaData);
    }
    setErrorString(tr("saveFile() takes an ArrayBuffer, a string or a file URL"));
    return QAttachment();
}

QAttachment QQmlAttachmentQueue::saveText(const QString &text, const QString &mediaType,
                                          const QString &fileExtension, const QJSValue &updateHook,
                                          const QString &metaData)
{
    return saveBytes(text.toUtf8(), mediaType, fileExtension, updateHook, metaData);
}

QAttachment QQmlAttachmentQueue::saveBytes(const QByteArray &bytes, const QString &mediaType,
                                           const QString &fileExtension, const QJSValue &updateHook,
                                           const QString &metaData)
{
    QJSValue thrown;
    const UpdateHook hook = wrapHook(updateHook, &thrown);
    QString error;
    const QAttachment saved
        = QAttachmentQueue::saveFile(bytes, mediaType, fileExtension, hook, metaData, &error);
    setErrorString(saved.isValid() ? QString() : error);
    if (!thrown.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this))
            engine->throwError(thrown);
    }
    return saved;
}

bool QQmlAttachmentQueue::deleteFile(const QString &id, const QJSValue &updateHook)
{
    QJSValue thrown;
    QString error;
    const bool ok = QAttachmentQueue::deleteFile(id, wrapHook(updateHook, &thrown), &error);
    setErrorString(ok ? QString() : error);
    if (!thrown.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this))
            engine->throwError(thrown);
    }
    return ok;
}

bool QQmlAttachmentQueue::deleteFile(const QString &id)
{
    return deleteFile(id, QJSValue());
}

QAttachment QQmlAttachmentQueue::attachment(const QString &id) const
{
    return QAttachmentQueue::attachment(id);
}

QUrl QQmlAttachmentQueue::localUrl(const QString &id) const
{
    return QAttachmentQueue::localUrl(id);
}

void QQmlAttachmentQueue::setWatchedAttachments(const QVariantList &items)
{
    QList<QWatchedAttachmentItem> watched;
    watched.reserve(items.size());
    for (const QVariant &item : items) {
        if (item.typeId() == QMetaType::QString) {
            watched.append(QWatchedAttachmentItem(item.toString(), defaultFileExtension()));
            continue;
        }
        const QVariantMap map = item.toMap();
        QString extension = map.value(QStringLiteral("fileExtension")).toString();
        const QString filename = map.value(QStringLiteral("filename")).toString();
        if (extension.isEmpty() && filename.isEmpty())
            extension = defaultFileExtension();
        watched.append(QWatchedAttachmentItem(map.value(QStringLiteral("id")).toString(), extension,
                                              filename,
                                              map.value(QStringLiteral("metaData")).toString()));
    }
    setWatchedAttachments(watched);
}
