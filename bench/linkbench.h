#ifndef LINKBENCH_H
#define LINKBENCH_H

#include "benchharness.h"

namespace Bench {

struct Config;

// The realistic-link profile: nginx with TLS (HTTP/2 by ALPN, and HTTP/1.1)
// behind the link shaper, the queue over HTTP/1.1 and over HTTP/2 beside curl
// with its best settings on the same link, in the same run.
void runLinkBenchmarks(const Config &config, Report &report);

} // namespace Bench

#endif // LINKBENCH_H
