#pragma once
// `synscope analyze --report`: one self-contained HTML file for a whole capture. Overview
// cards, outcomes, the three handshake RTTs (bars and CDFs), the per-second timeline, the top
// half-open servers and refused ports, and a searchable, sortable connection table whose rows
// draw their ladder diagram (SVG) when clicked. Inline SVG and script only: no fetches.
//
//   tcp::analyze_options o;  o.ladder_attention = report::report_connection_cap;
//   o.ladder_packets = report::report_ladder_packets;
//   auto r = tcp::analyze(o, nullptr, {});
//   std::string html = report::capture_report_html(*r, "trace.pcapng", "synscope 0.1.0");
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tcp/analyzer.h"

namespace synscope::report {

/// Connections in the table, those of the whole input that need a look most (the analyzer's
/// ladder_attention), each with its ladder; the rest are counted in the aggregates and named in
/// a note.
inline constexpr size_t report_connection_cap = 2000;
/// Packets kept per ladder: the handshake and what follows it, not a whole transfer.
inline constexpr size_t report_ladder_packets = 40;

/// The whole page. `source` names the input (files and filter), `generator` the tool version.
std::string capture_report_html(const tcp::analyze_report& r, const std::string& source, const std::string& generator);

}  // namespace synscope::report
