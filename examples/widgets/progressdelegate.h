#ifndef PROGRESSDELEGATE_H
#define PROGRESSDELEGATE_H

#include <QtWidgets/qstyleditemdelegate.h>

// Draws the progress column as a progress bar while the row transfers.
class ProgressDelegate : public QStyledItemDelegate
{
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
};

#endif // PROGRESSDELEGATE_H
