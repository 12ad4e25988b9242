#pragma once
// `synscope probe` as people and machines read it: a line an attempt (as ping writes one a
// reply), then the statistics (docs/probe.md).
//
//   fmt::print("{}\n", render::attempt_line(a, target));
#include <cstdint>
#include <string>
#include <vector>

#include "active/prober.h"
#include "core/endpoint.h"
#include "render/json.h"

namespace synscope::render {

/// "PROBE 127.0.0.1:80: 10 attempts, interval 1 s, timeout 2 s"; `own_listener`: the one target
/// is synscope's own loopback listener. count 0 is "until Ctrl-C".
std::string probe_heading(const std::vector<core::socket_address>& targets, bool own_listener, uint64_t count,
                          int64_t interval_ns, int64_t timeout_ns);

/// "127.0.0.1:80 seq=3 connected time=0.052 ms kernel_rtt=0.020 ms options=sack,ts,wscale".
std::string attempt_line(const active::attempt& a, const core::socket_address& target);
/// The {"type":"attempt",...} line of --json.
json_object attempt_json(const active::attempt& a, const core::socket_address& target);

/// The "--- target probe statistics ---" block: counts, loss, and the handshake time table.
std::string probe_summary_text(const active::target_stats& t);
/// The {"type":"summary",...} line of --json; `stopped` is true when Ctrl-C ended the run.
json_object probe_summary_json(const active::target_stats& t, bool stopped);

}  // namespace synscope::render
