// The sync client's parsers of what a PowerSync Service and the core send:
// the NDJSON line splitter (lines never exceed the bound, every byte is
// accounted for), powersync_control's instruction lists, write checkpoint
// answers (digits only) and ps_crud rows.

#include "qpowersynccrudentry.h"
#include "qpowersyncprotocol_p.h"

#include <QtCore/qbytearray.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void check(bool condition, const char *what)
{
    if (!condition) {
        fprintf(stderr, "sync parsers: %s\n", what);
        abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));

    // Split in uneven chunks with a small bound.
    const qsizetype bound = 64;
    QPowerSyncLineSplitter splitter(bound);
    qsizetype taken = 0;
    qsizetype offset = 0;
    qsizetype chunk = 1;
    while (offset < input.size()) {
        const qsizetype n = qMin(chunk, input.size() - offset);
        if (!splitter.append(input.constData() + offset, n))
            break;
        offset += n;
        chunk = chunk * 3 % 17 + 1;
        QByteArray line;
        while (splitter.takeLine(&line)) {
            check(!line.isEmpty(), "empty line returned");
            check(line.size() <= bound, "line longer than the bound");
            check(!line.contains('\n'), "line holds a newline");
            taken += line.size();
        }
        check(splitter.bufferedBytes() <= bound + n, "buffer beyond the bound");
    }
    check(taken <= input.size(), "more bytes out than in");

    QList<QPowerSyncInstruction> instructions;
    if (QPowerSyncProtocol::parseInstructions(input, &instructions)) {
        for (const QPowerSyncInstruction &instruction : instructions) {
            check(instruction.status.downloadedOperations >= 0, "negative progress");
            check(instruction.status.totalOperations >= 0, "negative total");
        }
    }

    const QString checkpoint = QPowerSyncProtocol::parseWriteCheckpoint(input);
    for (const QChar c : checkpoint)
        check(c >= QLatin1Char('0') && c <= QLatin1Char('9'), "checkpoint not digits");

    QPowerSyncCrudEntry entry;
    if (QPowerSyncCrudEntry::fromCrudRow(1, 1, input, &entry)) {
        check(!entry.table().isEmpty() && !entry.id().isEmpty(), "entry without table or id");
        check(entry.op() == QLatin1String("PUT") || entry.op() == QLatin1String("PATCH")
                  || entry.op() == QLatin1String("DELETE"),
              "unknown op accepted");
    }
    return 0;
}
