#ifndef STALLBENCH_H
#define STALLBENCH_H

#include "benchharness.h"

namespace Bench {

struct Config;

// The event-loop stall probe over the queue's long local work: reconciling
// many new ids, unwatching as many synced ones (archive, expire, delete their
// files), a database whose write lock another connection holds, and one with
// a rollback journal that another connection reads.
void runStallBenchmarks(const Config &config, Report &report);

} // namespace Bench

#endif // STALLBENCH_H
