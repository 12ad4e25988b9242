#pragma once
// `synscope bench` as people and machines read it: the run, the latency table, errors and the
// kernel's counters during the run; --json's summary; --report's HTML page (docs/bench.md).
//
//   fmt::print("{}", render::bench_text({options, report, deltas}));
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "active/load.h"

namespace synscope::render {

struct bench_result {
  const active::load_options& options;
  const active::load_report& report;
  /// Counters of the whole namespace during the run, nstat's names ("TcpExtListenDrops").
  std::vector<std::pair<std::string, int64_t>> kernel_delta;
};

std::string bench_text(const bench_result& b);
/// The progress line on a terminal: a bar, the count, the rate so far, the time taken and what is
/// left ("[#####-----] 5000/10000  2500/s  2.0 s, ETA 2.0 s"); bounded by time only (`total` 0),
/// the count and the time of the duration ("5000  2500/s  2.0 s of 10.0 s").
std::string bench_progress(uint64_t done, uint64_t total, int64_t elapsed_ns, int64_t duration_ns);
/// The {"type":"summary",...} line.
std::string bench_json(const bench_result& b);
/// A self-contained HTML page: the run, a histogram and the CDFs of handshake and latency.
std::string bench_html(const bench_result& b);

/// What to do when connects failed with EADDRNOTAVAIL (the local ports ran out).
extern const char* const ports_exhausted_fix;

}  // namespace synscope::render
