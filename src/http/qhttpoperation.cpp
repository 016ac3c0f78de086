#include "qhttpoperation_p.h"

#include "qattachmentlogging_p.h"

#include <QtCore/qiodevice.h>
#include <QtCore/qpointer.h>

QHttpOperation::QHttpOperation(Kind kind, QNetworkAccessManager *manager, QObject *parent)
    : QAttachmentTransfer(kind, parent)
    , m_manager(manager)
{
    m_prepareTimer.setSingleShot(true);
    connect(&m_prepareTimer, &QTimer::timeout, this, [this] {
        // An app callback that never answers would hold a transfer slot for good.
        ++m_generation;
        finishWithError(QAttachmentError(
            QAttachmentError::Timeout,
            QStringLiteral("no request from the token provider or resolver within %1 ms")
                .arg(m_prepareTimer.interval())));
    });
}

QHttpOperation::~QHttpOperation()
{
    if (m_exchange) {
        disconnect(m_exchange, nullptr, this, nullptr);
        m_exchange->abort();
    }
}

void QHttpOperation::setDevice(QIODevice *device)
{
    m_device = device;
    m_devicePos = device ? device->pos() : 0;
}

void QHttpOperation::start()
{
    QMetaObject::invokeMethod(
        this, [this] { prepare(false); }, Qt::QueuedConnection);
}

void QHttpOperation::prepare(bool afterUnauthorized)
{
    if (isCompleting())
        return;
    if (!m_prepare) {
        finishWithError(QAttachmentError(QAttachmentError::InvalidInput,
                                         QStringLiteral("the storage is not configured")));
        return;
    }
    const int generation = ++m_generation;
    QPointer<QHttpOperation> self(this);
    if (m_prepareTimeoutMs > 0)
        m_prepareTimer.start(m_prepareTimeoutMs);
    m_prepare(
        afterUnauthorized,
        [self, generation](const QHttpTransfer::Request &request, const QAttachmentError &error) {
            if (!self || self->isCompleting() || self->m_generation != generation)
                return;
            ++self->m_generation; // a second answer is ignored
            self->m_prepareTimer.stop();
            if (error.isError())
                self->finishWithError(error);
            else if (self->m_failWith.isError())
                self->finishWithError(self->m_failWith);
            else
                self->run(request);
        });
}

void QHttpOperation::run(const QHttpTransfer::Request &request)
{
    if (!m_manager) {
        finishWithError(QAttachmentError(QAttachmentError::NetworkError,
                                         QStringLiteral("the network access manager was "
                                                        "destroyed before the request")));
        return;
    }
    if (m_exchange) {
        disconnect(m_exchange, nullptr, this, nullptr);
        m_exchange->deleteLater();
    }
    m_exchange = new QHttpTransfer(kind(), m_manager, this);
    connect(m_exchange, &QAttachmentTransfer::progress, this,
            [this](qint64 done, qint64 total) { setProgress(done, total); });
    connect(m_exchange, &QAttachmentTransfer::finished, this, &QHttpOperation::onExchangeFinished);
    m_exchange->start(request);
}

void QHttpOperation::onExchangeFinished()
{
    QHttpTransfer *exchange = m_exchange;
    const QAttachmentError error = exchange->error();
    if (error.code() == QAttachmentError::Unauthorized && m_retryOnUnauthorized && !m_retried) {
        m_retried = true;
        // A stream has been read by the first attempt and cannot be sent
        // again: fresh credentials are still fetched, for the next attempt.
        if (m_device && m_device->isSequential() && kind() == Upload) {
            m_failWith = error;
            prepare(true);
            return;
        }
        if (m_device && m_device->pos() != m_devicePos && !m_device->seek(m_devicePos)) {
            finishWithError(QAttachmentError(QAttachmentError::LocalStorageError,
                                             QStringLiteral("cannot rewind the local file")));
            return;
        }
        qCDebug(lcHttp) << "unauthorized, asking for fresh credentials once";
        prepare(true);
        return;
    }
    if (error.isError())
        finishWithError(error);
    else
        finishSuccess();
}

void QHttpOperation::abortTransfer()
{
    ++m_generation;
    m_prepareTimer.stop();
    if (m_exchange) {
        disconnect(m_exchange, nullptr, this, nullptr);
        m_exchange->abort();
    }
}
