#ifndef TABLEWORKTURNS_H
#define TABLEWORKTURNS_H

#include <qattachmentqueue.h>
#include <qattachmentqueue_p.h>

#include <QtCore/qlist.h>
#include <QtCore/qpointer.h>
#include <QtCore/qtimer.h>

#include <functional>

// Counts the ticks of a zero-delay timer, and those that fire while the
// queue is not idle (while it writes table work, offline as it is).
struct TickCounter
{
    explicit TickCounter(QAttachmentQueue *queue)
    {
        timer.setInterval(0);
        QObject::connect(&timer, &QTimer::timeout,
                         [this, watched = QPointer<QAttachmentQueue>(queue)] {
                             ++ticks;
                             if (watched && !watched->isIdle())
                                 ++ticksWhileWorking;
                         });
        timer.start();
    }
    QTimer timer;
    int ticks = 0;
    int ticksWhileWorking = 0;
};

// Turns of a queue's table work as it reports them, with the ticks of a
// TickCounter (when given) seen by then. Sets the queue's slice budget: with
// 0, every turn after the first runs exactly one step.
struct TableWorkTurns
{
    using Turn = QAttachmentQueuePrivate::TableWorkTurn;

    explicit TableWorkTurns(QAttachmentQueue *queue, TickCounter *ticks, qint64 budgetNs = 0)
        : queue(queue)
    {
        QAttachmentQueuePrivate *d = QAttachmentQueuePrivate::get(queue);
        d->sliceBudgetNs = budgetNs;
        d->tableWorkObserver = [this, ticks](const Turn &turn) {
            list.append(turn);
            tickAt.append(ticks ? ticks->ticks : 0);
            if (onTurn)
                onTurn(turn);
        };
    }
    ~TableWorkTurns()
    {
        if (queue)
            QAttachmentQueuePrivate::get(queue)->tableWorkObserver = nullptr;
    }
    TableWorkTurns(const TableWorkTurns &) = delete;
    TableWorkTurns &operator=(const TableWorkTurns &) = delete;

    QPointer<QAttachmentQueue> queue;
    QList<Turn> list;
    QList<int> tickAt;
    std::function<void(const Turn &)> onTurn;
};

#endif // TABLEWORKTURNS_H
