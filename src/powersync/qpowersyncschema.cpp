#include "qpowersyncschema.h"

#include <QtCore/qjsonarray.h>
#include <QtCore/qjsondocument.h>
#include <QtCore/qjsonobject.h>
#include <QtCore/qset.h>

class QPowerSyncSchemaPrivate : public QSharedData
{
public:
    QList<QPowerSyncTable> tables;
};

QPowerSyncSchema::QPowerSyncSchema()
    : d(new QPowerSyncSchemaPrivate)
{ }

QPowerSyncSchema::QPowerSyncSchema(const QList<QPowerSyncTable> &tables)
    : d(new QPowerSyncSchemaPrivate)
{
    d->tables = tables;
}

QPowerSyncSchema::QPowerSyncSchema(const QPowerSyncSchema &other) = default;
QPowerSyncSchema &QPowerSyncSchema::operator=(const QPowerSyncSchema &other) = default;
QPowerSyncSchema::~QPowerSyncSchema() = default;

QList<QPowerSyncTable> QPowerSyncSchema::tables() const
{
    return d->tables;
}

void QPowerSyncSchema::setTables(const QList<QPowerSyncTable> &tables)
{
    d->tables = tables;
}

void QPowerSyncSchema::addTable(const QPowerSyncTable &table)
{
    d->tables.append(table);
}

QPowerSyncTable QPowerSyncSchema::table(const QString &name) const
{
    for (const QPowerSyncTable &table : d->tables) {
        if (table.name() == name)
            return table;
    }
    return QPowerSyncTable();
}

bool QPowerSyncSchema::validate(QString *errorString) const
{
    QSet<QString> names;
    QSet<QString> viewNames;
    for (const QPowerSyncTable &table : d->tables) {
        if (!table.validate(errorString))
            return false;
        QString message;
        if (names.contains(table.name()))
            message = QStringLiteral("duplicate table %1").arg(table.name());
        else if (viewNames.contains(table.viewName()))
            message = QStringLiteral("duplicate view name %1").arg(table.viewName());
        if (!message.isEmpty()) {
            if (errorString)
                *errorString = message;
            return false;
        }
        names.insert(table.name());
        viewNames.insert(table.viewName());
    }
    return true;
}

// The JSON is written by hand rather than through QJsonDocument, whose objects
// sort their keys: the output keeps the key order of PowerSync's Dart SDK
// (Schema.toJson() through dart:convert's jsonEncode), so both send the core
// the same bytes.
namespace {

void writeEscapedUnit(QByteArray &out, char16_t unit)
{
    static const char hex[] = "0123456789abcdef";
    out.append("\\u");
    out.append(hex[(unit >> 12) & 0xf]);
    out.append(hex[(unit >> 8) & 0xf]);
    out.append(hex[(unit >> 4) & 0xf]);
    out.append(hex[unit & 0xf]);
}

void writeUtf8(QByteArray &out, char32_t code)
{
    if (code < 0x80) {
        out.append(char(code));
    } else if (code < 0x800) {
        out.append(char(0xc0 | (code >> 6)));
        out.append(char(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
        out.append(char(0xe0 | (code >> 12)));
        out.append(char(0x80 | ((code >> 6) & 0x3f)));
        out.append(char(0x80 | (code & 0x3f)));
    } else {
        out.append(char(0xf0 | (code >> 18)));
        out.append(char(0x80 | ((code >> 12) & 0x3f)));
        out.append(char(0x80 | ((code >> 6) & 0x3f)));
        out.append(char(0x80 | (code & 0x3f)));
    }
}

// As dart:convert's jsonEncode: quote and backslash escaped, control
// characters as \b \t \n \f \r or \u00xx, lone surrogates as \udxxx,
// everything else as UTF-8.
void writeString(QByteArray &out, const QString &text)
{
    out.append('"');
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        const char16_t unit = text.at(i).unicode();
        switch (unit) {
        case u'"':
            out.append("\\\"");
            continue;
        case u'\\':
            out.append("\\\\");
            continue;
        case u'\b':
            out.append("\\b");
            continue;
        case u'\t':
            out.append("\\t");
            continue;
        case u'\n':
            out.append("\\n");
            continue;
        case u'\f':
            out.append("\\f");
            continue;
        case u'\r':
            out.append("\\r");
            continue;
        default:
            break;
        }
        if (unit < 0x20) {
            writeEscapedUnit(out, unit);
        } else if (QChar::isHighSurrogate(unit) && i + 1 < size
                   && QChar::isLowSurrogate(text.at(i + 1).unicode())) {
            writeUtf8(out, QChar::surrogateToUcs4(unit, text.at(i + 1).unicode()));
            ++i;
        } else if (QChar::isSurrogate(unit)) {
            writeEscapedUnit(out, unit);
        } else {
            writeUtf8(out, unit);
        }
    }
    out.append('"');
}

void writeBool(QByteArray &out, bool value)
{
    out.append(value ? "true" : "false");
}

void writeKey(QByteArray &out, const char *key, bool first = false)
{
    if (!first)
        out.append(',');
    out.append('"');
    out.append(key);
    out.append("\":");
}

void writeTable(QByteArray &out, const QPowerSyncTable &table)
{
    out.append('{');
    writeKey(out, "name", true);
    writeString(out, table.name());
    writeKey(out, "view_name");
    if (table.hasViewName())
        writeString(out, table.viewName());
    else
        out.append("null");
    writeKey(out, "local_only");
    writeBool(out, table.isLocalOnly());
    writeKey(out, "insert_only");
    writeBool(out, table.isInsertOnly());

    writeKey(out, "columns");
    out.append('[');
    const QList<QPowerSyncColumn> columns = table.columns();
    for (qsizetype i = 0; i < columns.size(); ++i) {
        if (i > 0)
            out.append(',');
        out.append('{');
        writeKey(out, "name", true);
        writeString(out, columns.at(i).name());
        writeKey(out, "type");
        writeString(out, QPowerSyncColumn::typeName(columns.at(i).type()));
        out.append('}');
    }
    out.append(']');

    writeKey(out, "indexes");
    out.append('[');
    const QList<QPowerSyncIndex> indexes = table.indexes();
    for (qsizetype i = 0; i < indexes.size(); ++i) {
        if (i > 0)
            out.append(',');
        out.append('{');
        writeKey(out, "name", true);
        writeString(out, indexes.at(i).name());
        writeKey(out, "columns");
        out.append('[');
        const QList<QPowerSyncIndexedColumn> indexed = indexes.at(i).columns();
        for (qsizetype j = 0; j < indexed.size(); ++j) {
            if (j > 0)
                out.append(',');
            out.append('{');
            writeKey(out, "name", true);
            writeString(out, indexed.at(j).name());
            writeKey(out, "ascending");
            writeBool(out, indexed.at(j).isAscending());
            writeKey(out, "type");
            // The implicit id column is text; so is an unknown one (which
            // validate() refuses).
            writeString(out, QPowerSyncColumn::typeName(table.column(indexed.at(j).name()).type()));
            out.append('}');
        }
        out.append(']');
        out.append('}');
    }
    out.append(']');

    writeKey(out, "ignore_empty_update");
    writeBool(out, table.ignoresEmptyUpdates());
    writeKey(out, "include_metadata");
    writeBool(out, table.includesMetadata());
    if (table.tracksPreviousValues()) {
        writeKey(out, "include_old");
        if (table.hasPreviousValuesColumnFilter()) {
            out.append('[');
            const QStringList filter = table.previousValuesColumnFilter();
            for (qsizetype i = 0; i < filter.size(); ++i) {
                if (i > 0)
                    out.append(',');
                writeString(out, filter.at(i));
            }
            out.append(']');
        } else {
            out.append("true");
        }
        writeKey(out, "include_old_only_when_changed");
        writeBool(out, table.previousValuesOnlyWhenChanged());
    }
    out.append('}');
}

// The largest schema JSON fromJson() reads.
constexpr qsizetype MaximumJsonSize = 16 * 1024 * 1024;

struct Reader
{
    QString error;

    bool fail(const QString &message)
    {
        if (error.isEmpty())
            error = message;
        return false;
    }

    bool onlyKeys(const QJsonObject &object, std::initializer_list<QLatin1String> keys,
                  const QString &where)
    {
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
                return fail(QStringLiteral("%1: unsupported key \"%2\"").arg(where, it.key()));
        }
        return true;
    }

    bool string(const QJsonObject &object, QLatin1String key, const QString &where, QString *value)
    {
        const QJsonValue v = object.value(key);
        if (!v.isString())
            return fail(QStringLiteral("%1: \"%2\" must be a string").arg(where, key));
        *value = v.toString();
        return true;
    }

    bool boolean(const QJsonObject &object, QLatin1String key, const QString &where, bool *value)
    {
        const QJsonValue v = object.value(key);
        if (v.isUndefined() || v.isNull()) {
            *value = false;
            return true;
        }
        if (!v.isBool())
            return fail(QStringLiteral("%1: \"%2\" must be true or false").arg(where, key));
        *value = v.toBool();
        return true;
    }

    bool column(const QJsonValue &value, const QString &where, QPowerSyncColumn *column)
    {
        if (!value.isObject())
            return fail(QStringLiteral("%1: a column must be an object").arg(where));
        const QJsonObject object = value.toObject();
        QString name;
        QString type;
        if (!onlyKeys(object, {QLatin1String("name"), QLatin1String("type")}, where)
            || !string(object, QLatin1String("name"), where, &name)
            || !string(object, QLatin1String("type"), where, &type))
            return false;
        column->setName(name);
        if (type == QLatin1String("TEXT"))
            column->setType(QPowerSyncColumn::Text);
        else if (type == QLatin1String("INTEGER"))
            column->setType(QPowerSyncColumn::Integer);
        else if (type == QLatin1String("REAL"))
            column->setType(QPowerSyncColumn::Real);
        else
            return fail(
                QStringLiteral("%1: column %2 has unknown type \"%3\"").arg(where, name, type));
        return true;
    }

    bool index(const QJsonValue &value, const QString &where, QPowerSyncIndex *index)
    {
        if (!value.isObject())
            return fail(QStringLiteral("%1: an index must be an object").arg(where));
        const QJsonObject object = value.toObject();
        QString name;
        if (!onlyKeys(object, {QLatin1String("name"), QLatin1String("columns")}, where)
            || !string(object, QLatin1String("name"), where, &name))
            return false;
        const QString at = where + QStringLiteral(", index ") + name;
        const QJsonValue columns = object.value(QLatin1String("columns"));
        if (!columns.isArray())
            return fail(QStringLiteral("%1: \"columns\" must be an array").arg(at));
        QList<QPowerSyncIndexedColumn> indexed;
        for (const QJsonValue &c : columns.toArray()) {
            if (!c.isObject())
                return fail(QStringLiteral("%1: an indexed column must be an object").arg(at));
            const QJsonObject o = c.toObject();
            QString columnName;
            if (!onlyKeys(
                    o, {QLatin1String("name"), QLatin1String("ascending"), QLatin1String("type")},
                    at)
                || !string(o, QLatin1String("name"), at, &columnName))
                return false;
            const QJsonValue ascending = o.value(QLatin1String("ascending"));
            if (!ascending.isUndefined() && !ascending.isBool())
                return fail(QStringLiteral("%1: \"ascending\" must be true or false").arg(at));
            // "type" is the indexed column's type, derived from the table.
            indexed.append(QPowerSyncIndexedColumn(columnName, ascending.toBool(true)));
        }
        index->setName(name);
        index->setColumns(indexed);
        return true;
    }

    bool table(const QJsonValue &value, QPowerSyncTable *table)
    {
        if (!value.isObject())
            return fail(QStringLiteral("a table must be an object"));
        const QJsonObject object = value.toObject();
        QString name;
        if (!string(object, QLatin1String("name"), QStringLiteral("table"), &name))
            return false;
        const QString where = QStringLiteral("table ") + name;
        if (!onlyKeys(
                object,
                {QLatin1String("name"), QLatin1String("view_name"), QLatin1String("local_only"),
                 QLatin1String("insert_only"), QLatin1String("columns"), QLatin1String("indexes"),
                 QLatin1String("ignore_empty_update"), QLatin1String("include_metadata"),
                 QLatin1String("include_old"), QLatin1String("include_old_only_when_changed")},
                where))
            return false;
        table->setName(name);

        const QJsonValue viewName = object.value(QLatin1String("view_name"));
        if (viewName.isString())
            table->setViewName(viewName.toString());
        else if (!viewName.isNull() && !viewName.isUndefined())
            return fail(QStringLiteral("%1: \"view_name\" must be a string or null").arg(where));

        bool flag = false;
        if (!boolean(object, QLatin1String("local_only"), where, &flag))
            return false;
        table->setLocalOnly(flag);
        if (!boolean(object, QLatin1String("insert_only"), where, &flag))
            return false;
        table->setInsertOnly(flag);
        if (!boolean(object, QLatin1String("ignore_empty_update"), where, &flag))
            return false;
        table->setIgnoreEmptyUpdates(flag);
        if (!boolean(object, QLatin1String("include_metadata"), where, &flag))
            return false;
        table->setIncludeMetadata(flag);

        const QJsonValue columns = object.value(QLatin1String("columns"));
        if (!columns.isArray())
            return fail(QStringLiteral("%1: \"columns\" must be an array").arg(where));
        QList<QPowerSyncColumn> parsedColumns;
        for (const QJsonValue &c : columns.toArray()) {
            QPowerSyncColumn column;
            if (!this->column(c, where, &column))
                return false;
            parsedColumns.append(column);
        }
        table->setColumns(parsedColumns);

        const QJsonValue indexes = object.value(QLatin1String("indexes"));
        if (!indexes.isUndefined()) {
            if (!indexes.isArray())
                return fail(QStringLiteral("%1: \"indexes\" must be an array").arg(where));
            QList<QPowerSyncIndex> parsedIndexes;
            for (const QJsonValue &i : indexes.toArray()) {
                QPowerSyncIndex index;
                if (!this->index(i, where, &index))
                    return false;
                parsedIndexes.append(index);
            }
            table->setIndexes(parsedIndexes);
        }

        const QJsonValue includeOld = object.value(QLatin1String("include_old"));
        if (includeOld.isBool()) {
            table->setTrackPreviousValues(includeOld.toBool());
        } else if (includeOld.isArray()) {
            QStringList filter;
            for (const QJsonValue &c : includeOld.toArray()) {
                if (!c.isString())
                    return fail(
                        QStringLiteral("%1: \"include_old\" must list column names").arg(where));
                filter.append(c.toString());
            }
            table->setPreviousValuesColumnFilter(filter);
        } else if (!includeOld.isUndefined() && !includeOld.isNull()) {
            return fail(QStringLiteral("%1: \"include_old\" must be true, false or a list of "
                                       "columns")
                            .arg(where));
        }
        if (!boolean(object, QLatin1String("include_old_only_when_changed"), where, &flag))
            return false;
        if (flag && !table->tracksPreviousValues())
            return fail(QStringLiteral("%1: \"include_old_only_when_changed\" without "
                                       "\"include_old\"")
                            .arg(where));
        table->setPreviousValuesOnlyWhenChanged(flag);
        return true;
    }
};

} // namespace

QByteArray QPowerSyncSchema::toJson() const
{
    QByteArray out;
    out.append("{\"raw_tables\":[],\"tables\":[");
    for (qsizetype i = 0; i < d->tables.size(); ++i) {
        if (i > 0)
            out.append(',');
        writeTable(out, d->tables.at(i));
    }
    out.append("]}");
    return out;
}

QPowerSyncSchema QPowerSyncSchema::fromJson(const QByteArray &json, QString *errorString)
{
    Reader reader;
    QPowerSyncSchema schema;
    auto failed = [&](const QString &message) {
        if (errorString)
            *errorString = message;
        return QPowerSyncSchema();
    };
    if (json.size() > MaximumJsonSize)
        return failed(QStringLiteral("schema JSON larger than %1 bytes").arg(MaximumJsonSize));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return failed(QStringLiteral("schema JSON: %1 at offset %2")
                          .arg(parseError.errorString())
                          .arg(parseError.offset));
    if (!document.isObject())
        return failed(QStringLiteral("schema JSON must be an object"));
    const QJsonObject object = document.object();
    if (!reader.onlyKeys(object, {QLatin1String("tables"), QLatin1String("raw_tables")},
                         QStringLiteral("schema")))
        return failed(reader.error);
    const QJsonValue rawTables = object.value(QLatin1String("raw_tables"));
    if (!rawTables.isUndefined() && !(rawTables.isArray() && rawTables.toArray().isEmpty()))
        return failed(QStringLiteral("raw tables are not supported"));
    const QJsonValue tables = object.value(QLatin1String("tables"));
    if (!tables.isArray())
        return failed(QStringLiteral("schema: \"tables\" must be an array"));
    for (const QJsonValue &value : tables.toArray()) {
        QPowerSyncTable table;
        if (!reader.table(value, &table))
            return failed(reader.error);
        schema.addTable(table);
    }
    if (errorString)
        errorString->clear();
    return schema;
}

bool QPowerSyncSchema::operator==(const QPowerSyncSchema &other) const
{
    return d == other.d || d->tables == other.d->tables;
}
