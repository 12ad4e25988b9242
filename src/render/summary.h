#pragma once
// A capture summary as people and machines read it (docs/analyze.md).
#include <string>

#include "render/json.h"
#include "tcp/analyzer.h"

namespace synscope::render {

/// The human summary: outcomes, handshake times, retransmissions, half-open servers, refused
/// ports, the per-second timeline and anomalies.
/// `source` says what was read: "2 files", "interface eth0".
std::string summary_text(const tcp::analyze_report& r, const std::string& source, double seconds);

/// The {"type":"summary",...} object of --json.
render::json_object summary_json(const tcp::analyze_report& r);

/// One second of a live capture: "12:00:01  syn/s 10 ... drops 0", the packets' second in UTC (the
/// summary timeline's row for the same second counts the same).
std::string interval_text(const tcp::interval_report& w);
/// The {"type":"interval",...} line of `capture --json`.
json_object interval_json(const tcp::interval_report& w);

}  // namespace synscope::render
