#ifndef DEMOSERVER_H
#define DEMOSERVER_H

#include <QtCore/qobject.h>
#include <QtCore/qprocess.h>
#include <QtCore/qurl.h>
#include <QtQml/qqml.h>

// Runs the embedded attachments server (powersync-attachments-server) as a
// child process on 127.0.0.1, so the example needs no infrastructure. It can
// be stopped and started again on the same port to show working offline.
class DemoServer : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString rootPath READ rootPath WRITE setRootPath NOTIFY rootPathChanged FINAL)
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged FINAL)
    Q_PROPERTY(QUrl url READ url NOTIFY urlChanged FINAL)
    Q_PROPERTY(QString program READ program CONSTANT FINAL)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged FINAL)

public:
    explicit DemoServer(QObject *parent = nullptr);
    ~DemoServer() override;

    QString rootPath() const { return m_root; }
    void setRootPath(const QString &path);
    bool isRunning() const { return m_running; }
    QUrl url() const { return m_url; }
    QString errorString() const { return m_error; }
    // Where the server executable was found; empty when it was not.
    QString program() const;

public Q_SLOTS:
    // Starts the server (again on the same port once it had one).
    void start();
    void stop();

Q_SIGNALS:
    void rootPathChanged();
    void runningChanged();
    void urlChanged();
    void errorStringChanged();

private:
    void readOutput();
    void setRunning(bool running);
    void fail(const QString &error);

    QProcess *m_process = nullptr;
    QString m_root;
    QByteArray m_output;
    QUrl m_url;
    quint16 m_port = 0;
    bool m_running = false;
    QString m_error;
};

#endif // DEMOSERVER_H
