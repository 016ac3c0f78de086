#ifndef QUICKITEMS_H
#define QUICKITEMS_H

// What the tests of QML scenes share.

#include <QtQuick/qquickitem.h>

// The item named `objectName` in the visual tree below `root` (itself
// included), depth first; null when there is none.
inline QQuickItem *findItem(QQuickItem *root, const QString &objectName)
{
    if (!root)
        return nullptr;
    if (root->objectName() == objectName)
        return root;
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children) {
        if (QQuickItem *found = findItem(child, objectName))
            return found;
    }
    return nullptr;
}

#endif // QUICKITEMS_H
