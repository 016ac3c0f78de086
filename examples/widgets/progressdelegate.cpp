#include "progressdelegate.h"

#include <qattachmentmodel.h>

#include <QtWidgets/qapplication.h>
#include <QtWidgets/qstyle.h>

void ProgressDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                             const QModelIndex &index) const
{
    // The roles live on column 0; this column only has the percentage.
    const QModelIndex row = index.siblingAtColumn(0);
    if (!row.data(QAttachmentModel::TransferringRole).toBool()) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionProgressBar bar;
    bar.rect = option.rect.adjusted(2, 2, -2, -2);
    bar.minimum = 0;
    bar.maximum = 100;
    bar.progress = qRound(row.data(QAttachmentModel::ProgressRole).toDouble() * 100);
    bar.text = QStringLiteral("%1%").arg(bar.progress);
    bar.textVisible = true;
    bar.state = option.state | QStyle::State_Horizontal;
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
}
