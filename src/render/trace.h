#pragma once
// `synscope trace` as text and JSON lines: a line a second, one object per handshake, the
// per-listener summary at the end. Times of the kernel's moments are wall-clock nanoseconds
// (the events' CLOCK_MONOTONIC plus the offset the tracer measured), as tcpdump's are.
#include <string>
#include <vector>

#include "render/json.h"
#include "trace/event.h"
#include "trace/handshakes.h"
#include "trace/live.h"
#include "trace/tracer.h"

namespace synscope::render {

std::string trace_interval_text(const trace::interval_report& w);
json_object trace_interval_json(const trace::interval_report& w);

/// One handshake: "client -> server  outcome  syn→synack  synack→ack  ack→accept  (who)".
std::string handshake_text(const trace::handshake& h, const trace::reason_names& reasons);
/// One handshake, every moment as *_unix_ns (nanoseconds since the epoch; null when not seen),
/// the intervals as *_ns, and the connection key (client, server, client ISN).
json_object handshake_json(const trace::handshake& h, int64_t realtime_offset_ns, const trace::reason_names& reasons);

/// The hooks, the per-listener table (counts; SYN→SYN-ACK, SYN-ACK→ACK and ACK→accept in ms)
/// and the drops by reason.
/// `counters`: the kernel's counters of the namespace traced and how far they moved in the run
/// (ListenOverflows beside the accept-queue drops; SYN cookies, which have no tracepoint).
std::string trace_summary_text(const trace::live_report& r, const std::vector<trace::hook_status>& hooks,
                               const trace::reason_names& reasons,
                               const std::vector<std::pair<std::string, int64_t>>& counters);
json_object trace_summary_json(const trace::live_report& r, const std::vector<trace::hook_status>& hooks,
                               const trace::reason_names& reasons,
                               const std::vector<std::pair<std::string, int64_t>>& counters);

}  // namespace synscope::render
