#!/usr/bin/env python3
"""Writes the QML type reference of the PowerSync.Attachments module as a
Markdown page for Doxygen, from the .qmltypes file the build generates (the
same description qmllint, qmlls and Qt Creator read): every QML type with its
properties, signals, methods and enumerations, inherited ones included, each
linked to the C++ class behind it.

Usage: qmltypes2md.py <PowerSyncAttachmentsQml.qmltypes> <output.md>
"""
import os
import re
import sys

TOKEN = re.compile(r'\s*(?:(//[^\n]*)|("(?:[^"\\]|\\.)*")|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d+)?)|(.))')


def tokens(text):
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        comment, string, ident, number, punct = m.groups()
        if comment:
            continue
        if string is not None:
            yield ('str', string[1:-1])
        elif ident is not None:
            yield ('id', ident)
        elif number is not None:
            yield ('num', number)
        elif punct is not None and not punct.isspace():
            yield ('p', punct)


class Parser:
    def __init__(self, text):
        self.toks = list(tokens(text))
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def value(self):
        kind, v = self.take()
        if (kind, v) == ('p', '['):
            items = []
            while self.peek() != ('p', ']'):
                if self.peek() == ('p', ','):
                    self.take()
                    continue
                items.append(self.value())
            self.take()
            return items
        if kind == 'id' and v in ('true', 'false'):
            return v == 'true'
        return v

    def block(self):
        """Parses the inside of { ... } into {'children': [(name, block)], key: value}."""
        node = {'children': []}
        while True:
            kind, v = self.peek()
            if kind is None or (kind, v) == ('p', '}'):
                if kind is not None:
                    self.take()
                return node
            if (kind, v) == ('p', ';'):
                self.take()
                continue
            if kind == 'id' and self.peek(1) == ('p', ':'):
                self.take()
                self.take()
                node[v] = self.value()
            elif kind == 'id' and self.peek(1) == ('p', '{'):
                self.take()
                self.take()
                node['children'].append((v, self.block()))
            else:
                self.take()  # import lines and anything else


def children(node, kind):
    return [c for k, c in node['children'] if k == kind]


def main(source, target):
    with open(source, encoding='utf-8') as f:
        root = Parser(f.read()).block()
    modules = children(root, 'Module')
    if not modules:
        sys.exit('no Module in ' + source)
    components = {c['name']: c for c in children(modules[0], 'Component')}
    qml_names = {}
    for c in components.values():
        for export in c.get('exports', []):
            if export.startswith('PowerSync.Attachments/'):
                qml_names[c['name']] = export.split('/', 1)[1].split(' ')[0]

    basic = {'QString': 'string', 'qlonglong': 'real', 'qint64': 'real', 'double': 'real',
             'QUrl': 'url', 'QDateTime': 'date', 'QVariant': 'var', 'QJSValue': 'var',
             'QVariantMap': 'var', 'QVariantList': 'list', 'QStringList': 'list<string>',
             'QByteArray': 'ArrayBuffer', 'QSize': 'size', 'QColor': 'color', 'void': 'void',
             'bool': 'bool', 'int': 'int'}
    # The QML names of enum namespaces, from the types that extend them.
    named = dict(qml_names)
    for c in components.values():
        if c.get('extension') and c['name'] in qml_names:
            named.setdefault(c['extension'], qml_names[c['name']])

    def shown(cpp):
        if cpp in basic:
            return basic[cpp]
        if '::' in cpp:
            owner, member = cpp.rsplit('::', 1)
            return '%s.%s' % (named.get(owner, owner), member)
        return named.get(cpp, cpp)

    def chain(c):
        seen = []
        while c is not None and c['name'] not in [s['name'] for s in seen]:
            seen.append(c)
            c = components.get(c.get('prototype') or c.get('extension') or '')
        return seen

    def cpp_class(c):
        # The library class behind a QML type: the first of its chain that is
        # not one of the QML module's own wrappers.
        for link in chain(c):
            if not link['name'].startswith('QQml') and link['name'].startswith('Q'):
                return link['name']
        return None

    def params(m):
        return ', '.join('%s %s' % (shown(p.get('type', 'var')), p.get('name', ''))
                         for p in children(m, 'Parameter'))

    out = ['# QML types {#qmltypes}', '',
           'The types of `import PowerSync.Attachments`, generated from the module\'s type '
           'description (the `.qmltypes` file that qmllint, qmlls and Qt Creator read). '
           'Inherited members are listed with each type. See doc/qml.md for how they fit '
           'together.', '']
    for cpp_name, qml_name in sorted(qml_names.items(), key=lambda kv: kv[1].lower()):
        c = components[cpp_name]
        links = chain(c)
        if c.get('extension'):
            links = chain(components.get(c['extension'], c))
        kind = 'value type' if c.get('accessSemantics') == 'value' else (
            'namespace' if c.get('accessSemantics') == 'none' else 'object type')
        out.append('## %s {#qml_%s}' % (qml_name, re.sub(r'\W', '_', qml_name)))
        out.append('')
        backing = cpp_class(c) or (c.get('extension') if c.get('extension') else None)
        line = 'QML %s' % kind
        if backing:
            line += ', backed by %s' % backing
        if c.get('isCreatable') is False and kind == 'object type':
            line += ' (not creatable in QML)'
        out.append(line + '.')
        out.append('')
        props, signals, methods, enums = [], [], [], []
        for link in links:
            if link['name'] in ('QObject', 'QAbstractItemModel', 'QAbstractListModel'):
                break
            for p in children(link, 'Property'):
                flags = []
                if p.get('isReadonly'):
                    flags.append('read-only')
                if p.get('isList'):
                    flags.append('list')
                props.append('| `%s` | %s | %s |' % (p['name'], shown(p.get('type', 'var')),
                                                    ', '.join(flags)))
            for s in children(link, 'Signal'):
                signals.append('- `%s(%s)`' % (s['name'], params(s)))
            for m in children(link, 'Method'):
                ret = shown(m.get('type', 'void')) if m.get('type') else 'void'
                methods.append('- %s `%s(%s)`' % (ret, m['name'], params(m)))
            for e in children(link, 'Enum'):
                enums.append('- `%s`: %s' % (e['name'], ', '.join(
                    '`%s`' % v for v in e.get('values', []))))
        if props:
            out += ['**Properties**', '', '| Name | Type | |', '|---|---|---|']
            out += sorted(set(props), key=props.index) + ['']
        for title, items in (('Signals', signals), ('Methods', methods),
                             ('Enumerations', enums)):
            if items:
                out += ['**%s**' % title, ''] + sorted(set(items), key=items.index) + ['']
    out += qml_file_types(os.path.dirname(source))
    with open(target, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')


def qml_file_types(module_dir):
    """The types the module defines in QML files (listed in its qmldir): the
    comment above the root object, and each property with its comment."""
    out = []
    qmldir = os.path.join(module_dir, 'qmldir')
    if not os.path.exists(qmldir):
        return out
    with open(qmldir, encoding='utf-8') as f:
        entries = [line.split() for line in f if re.match(r'^[A-Z]\w* \d+\.\d+ \S+\.qml$', line.strip())]
    for name, _version, filename in sorted(entries):
        path = os.path.join(module_dir, filename)
        if not os.path.exists(path):
            continue
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
        comment, intro, props, base = [], [], [], None
        for line in lines:
            text = line.strip()
            if text.startswith('//'):
                comment.append(text[2:].strip())
                continue
            match = re.match(r'^([A-Z]\w*) \{$', text)
            if match and base is None:
                base, intro = match.group(1), comment
            match = re.match(r'^(?:readonly )?property (\S+) (\w+)', text)
            if match:
                props.append('| `%s` | %s | %s |' % (match.group(2), match.group(1),
                                                    ' '.join(comment)))
            comment = []
        out.append('## %s {#qml_%s}' % (name, name))
        out.append('')
        out.append('QML type defined in QML (%s), based on %s.' % (filename, base or 'QtObject'))
        out.append('')
        if intro:
            out.append(' '.join(intro))
            out.append('')
        if props:
            out += ['**Properties**', '', '| Name | Type | |', '|---|---|---|'] + props + ['']
    return out


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
