// Whatever PowerSync schema JSON fromJson() accepts, toJson() writes back in a
// form that reads as the same schema and writes the same bytes again, with no
// raw control character; a schema that validates has only valid names.

#include "qpowersyncnames_p.h"
#include "qpowersyncschema.h"

#include <QtCore/qbytearray.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void check(bool condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "schema JSON: %s\n", what);
        abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const QPowerSyncSchema schema = QPowerSyncSchema::fromJson(input, &error);
    if (!error.isEmpty()) {
        check(schema.tables().isEmpty(), "a refused schema has tables");
        return 0;
    }
    const QByteArray json = schema.toJson();
    for (const char c : json)
        check(static_cast<unsigned char>(c) >= 0x20, "raw control character written");
    const QPowerSyncSchema again = QPowerSyncSchema::fromJson(json, &error);
    check(error.isEmpty(), "toJson() wrote what fromJson() refuses");
    check(again == schema, "the schema read back differs");
    check(again.toJson() == json, "the JSON written again differs");

    if (schema.validate()) {
        for (const QPowerSyncTable &table : schema.tables()) {
            check(QPowerSyncNames::isValid(table.name()), "invalid table name validated");
            check(QPowerSyncNames::isValid(table.viewName()), "invalid view name validated");
            for (const QPowerSyncColumn &column : table.columns())
                check(QPowerSyncNames::isValid(column.name()), "invalid column name validated");
            for (const QPowerSyncIndex &index : table.indexes())
                check(QPowerSyncNames::isValid(index.name()), "invalid index name validated");
        }
    }
    return 0;
}
