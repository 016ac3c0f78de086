#ifndef MAINWINDOW_H
#define MAINWINDOW_H

#include <qattachment.h>
#include <qattachmentstate.h>

#include <QtCore/qhash.h>
#include <QtWidgets/qmainwindow.h>

class QAttachmentModel;
class QAttachmentQueue;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;

// The app's window: the queue's rows in a table, a log of what happens to
// them, and buttons that change the app's data (a `documents` table whose rows
// reference attachments) together with the attachments.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(QAttachmentQueue *queue, const QString &connectionName, QWidget *parent = nullptr);

    QAttachmentModel *model() const { return m_model; }

    // Saves `data` as a new document's attachment; returns its id, empty on failure.
    QString addDocument(const QString &name, const QByteArray &data, const QString &mediaType);
    // Copies a file of the device; returns the attachment id, empty on failure.
    QString addDocumentFromFile(const QString &path);
    // Deletes the document and marks its attachment for deletion, in one transaction.
    bool deleteDocument(const QString &attachmentId);

    void log(const QString &line);

private:
    // Logs the outcome of a save; returns the attachment id, empty on failure.
    QString reportAdded(const QString &name, const QAttachment &saved, const QString &error);
    void addFileClicked();
    void deleteClicked();
    void updateStatus();
    void updateButtons();

    QAttachmentQueue *m_queue;
    QString m_connection;
    QAttachmentModel *m_model;
    QTableView *m_view;
    QPlainTextEdit *m_log;
    QPushButton *m_deleteButton;
    QLabel *m_status;
    // The last state seen per attachment, to log transitions only.
    QHash<QString, QAttachmentState::State> m_states;
};

#endif // MAINWINDOW_H
