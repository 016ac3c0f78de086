#include "mainwindow.h"

#include "progressdelegate.h"

#include <qattachmentmodel.h>
#include <qattachmentqueue.h>

#include <QtCore/qdatetime.h>
#include <QtCore/qfileinfo.h>
#include <QtCore/qmimedatabase.h>
#include <QtSql/qsqldatabase.h>
#include <QtSql/qsqlquery.h>
#include <QtWidgets/qboxlayout.h>
#include <QtWidgets/qfiledialog.h>
#include <QtWidgets/qheaderview.h>
#include <QtWidgets/qlabel.h>
#include <QtWidgets/qmessagebox.h>
#include <QtWidgets/qplaintextedit.h>
#include <QtWidgets/qpushbutton.h>
#include <QtWidgets/qsplitter.h>
#include <QtWidgets/qstatusbar.h>
#include <QtWidgets/qtableview.h>

#include <cstdio>

MainWindow::MainWindow(QAttachmentQueue *queue, const QString &connectionName, QWidget *parent)
    : QMainWindow(parent)
    , m_queue(queue)
    , m_connection(connectionName)
    , m_model(new QAttachmentModel(this))
    , m_view(new QTableView)
    , m_log(new QPlainTextEdit)
    , m_deleteButton(new QPushButton(tr("Delete")))
    , m_status(new QLabel)
{
    setWindowTitle(tr("Attachments"));
    resize(900, 600);

    QSqlQuery(QSqlDatabase::database(m_connection))
        .exec(QStringLiteral("CREATE TABLE IF NOT EXISTS documents (id INTEGER PRIMARY KEY, "
                             "name TEXT NOT NULL, attachment_id TEXT)"));

    m_model->setColumnsEnabled(true);
    m_model->setQueue(m_queue);
    m_view->setModel(m_model);
    m_view->setItemDelegateForColumn(QAttachmentModel::ProgressColumn, new ProgressDelegate(this));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->horizontalHeader()->setStretchLastSection(true);
    // Ids are long and usually part of the filename: the start is enough.
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->setColumnWidth(QAttachmentModel::IdColumn, 110);
    m_view->horizontalHeader()->setSectionResizeMode(QAttachmentModel::FilenameColumn,
                                                     QHeaderView::ResizeToContents);
    m_view->verticalHeader()->hide();

    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);

    auto *addButton = new QPushButton(tr("Add file…"));
    connect(addButton, &QPushButton::clicked, this, &MainWindow::addFileClicked);
    connect(m_deleteButton, &QPushButton::clicked, this, &MainWindow::deleteClicked);
    auto *syncButton = new QPushButton(tr("Sync now"));
    connect(syncButton, &QPushButton::clicked, m_queue, &QAttachmentQueue::retryFailed);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(addButton);
    buttons->addWidget(m_deleteButton);
    buttons->addWidget(syncButton);
    buttons->addStretch();

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_view);
    splitter->addWidget(m_log);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto *central = new QWidget;
    auto *layout = new QVBoxLayout(central);
    layout->addLayout(buttons);
    layout->addWidget(splitter);
    setCentralWidget(central);
    statusBar()->addWidget(m_status, 1);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateButtons);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateButtons);

    for (const QAttachment &attachment : m_queue->attachments())
        m_states.insert(attachment.id(), attachment.state());
    connect(m_queue, &QAttachmentQueue::attachmentChanged, this, [this](const QAttachment &a) {
        const auto it = m_states.constFind(a.id());
        if (it != m_states.constEnd() && *it == a.state())
            return;
        log(it == m_states.constEnd()
                ? tr("%1: new, %2").arg(a.filename(), QAttachmentState::name(a.state()))
                : tr("%1: %2 → %3")
                      .arg(a.filename(), QAttachmentState::name(*it),
                           QAttachmentState::name(a.state())));
        m_states.insert(a.id(), a.state());
    });
    connect(m_queue, &QAttachmentQueue::attachmentRemoved, this, [this](const QString &id) {
        m_states.remove(id);
        log(tr("%1: removed").arg(id));
    });
    connect(m_queue, &QAttachmentQueue::transferFailed, this,
            [this](const QString &id, QAttachmentTransfer::Kind, const QAttachmentError &error,
                   bool willRetry) {
                log(tr("%1: failed: %2%3")
                        .arg(id, error.message(), willRetry ? tr(" (will retry)") : QString()));
            });
    connect(m_queue, &QAttachmentQueue::errorOccurred, this,
            [this](const QAttachmentError &error) { log(tr("error: %1").arg(error.message())); });
    for (auto signal :
         {&QAttachmentQueue::pendingUploadsChanged, &QAttachmentQueue::pendingDownloadsChanged,
          &QAttachmentQueue::pendingDeletesChanged, &QAttachmentQueue::idleChanged})
        connect(m_queue, signal, this, &MainWindow::updateStatus);
    updateStatus();
    updateButtons();
}

void MainWindow::log(const QString &line)
{
    const QString stamped = QTime::currentTime().toString(QStringLiteral("HH:mm:ss.zzz ")) + line;
    m_log->appendPlainText(stamped);
    // The log doubles as the smoke run's output.
    std::fprintf(stdout, "%s\n", line.toLocal8Bit().constData());
    std::fflush(stdout);
}

namespace {

// The document row goes in with its attachment row, in one transaction.
QAttachmentQueue::UpdateHook insertDocument(const QString &name)
{
    return [name](QAttachmentTransaction &tx, const QAttachment &attachment) {
        tx.execute(QStringLiteral("INSERT INTO documents (name, attachment_id) VALUES (?, ?)"),
                   {name, attachment.id()});
        return true;
    };
}

} // namespace

QString MainWindow::addDocument(const QString &name, const QByteArray &data,
                                const QString &mediaType)
{
    QString error;
    const QAttachment saved = m_queue->saveFile(data, mediaType, QFileInfo(name).suffix(),
                                                insertDocument(name), {}, &error);
    return reportAdded(name, saved, error);
}

QString MainWindow::addDocumentFromFile(const QString &path)
{
    const QString name = QFileInfo(path).fileName();
    const QString mediaType = QMimeDatabase().mimeTypeForFile(path).name();
    QString error;
    const QAttachment saved
        = m_queue->saveFileFromPath(path, mediaType, {}, insertDocument(name), {}, &error);
    return reportAdded(name, saved, error);
}

QString MainWindow::reportAdded(const QString &name, const QAttachment &saved, const QString &error)
{
    if (!saved.isValid()) {
        log(tr("could not add %1: %2").arg(name, error));
        return {};
    }
    log(tr("added %1 as %2 (%3 bytes)").arg(name, saved.filename()).arg(saved.size()));
    return saved.id();
}

bool MainWindow::deleteDocument(const QString &attachmentId)
{
    QString error;
    const bool ok = m_queue->deleteFile(
        attachmentId,
        [](QAttachmentTransaction &tx, const QAttachment &attachment) {
            tx.execute(QStringLiteral("DELETE FROM documents WHERE attachment_id = ?"),
                       {attachment.id()});
            return true;
        },
        &error);
    log(ok ? tr("%1: marked for deletion").arg(attachmentId)
           : tr("could not delete %1: %2").arg(attachmentId, error));
    return ok;
}

void MainWindow::addFileClicked()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Add a file"));
    if (path.isEmpty())
        return;
    if (addDocumentFromFile(path).isEmpty())
        QMessageBox::warning(this, windowTitle(), tr("The file could not be added."));
}

void MainWindow::deleteClicked()
{
    const QModelIndexList selected = m_view->selectionModel()->selectedRows();
    if (selected.isEmpty())
        return;
    deleteDocument(m_model->attachmentAt(selected.first().row()).id());
}

void MainWindow::updateStatus()
{
    m_status->setText(tr("%1 uploads, %2 downloads, %3 deletes pending%4")
                          .arg(m_queue->pendingUploads())
                          .arg(m_queue->pendingDownloads())
                          .arg(m_queue->pendingDeletes())
                          .arg(m_queue->isIdle() ? tr(" · idle") : QString()));
}

void MainWindow::updateButtons()
{
    m_deleteButton->setEnabled(m_view->selectionModel()->hasSelection());
}
