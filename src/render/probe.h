#pragma once
// `synscope probe` as people and machines read it: a line an attempt (as ping writes one a
// reply), then the statistics (docs/probe.md).
//
//   fmt::print("{}\n", render::attempt_line(a, target));
#include <string>

#include "active/prober.h"
#include "core/endpoint.h"
#include "render/json.h"

namespace synscope::render {

/// "127.0.0.1:80 seq=3 connected time=0.052 ms kernel_rtt=0.020 ms options=sack,ts,wscale".
std::string attempt_line(const active::attempt& a, const core::socket_address& target);
/// The {"type":"attempt",...} line of --json.
json_object attempt_json(const active::attempt& a, const core::socket_address& target);

/// The "--- target probe statistics ---" block: counts, loss, and the handshake time table.
std::string probe_summary_text(const active::target_stats& t);
/// The {"type":"summary",...} line of --json; `stopped` is true when Ctrl-C ended the run.
json_object probe_summary_json(const active::target_stats& t, bool stopped);

}  // namespace synscope::render
