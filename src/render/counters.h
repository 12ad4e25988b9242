#pragma once
// `synscope counters` as nstat's users read it: a table of counters (in the handshake's groups,
// each under its heading, for the default view), or a JSON line each (docs/counters.md).
//
//   fmt::print("{}", render::counters_text(rows, "per_s", true));
#include <string>
#include <vector>

#include "kernel/counters.h"

namespace synscope::render {

/// `change_name` is the change column's name ("delta", "per_s") or "" for none; per_s is written
/// with one decimal, delta whole. `grouped`: headings for the handshake groups (the default
/// view; rows without a group are listed without).
std::string counters_text(const std::vector<kernel::counter_row>& rows, const char* change_name, bool grouped);
/// A {"name","value",change_name,"group","meaning","gauge"} line a counter.
std::string counters_json(const std::vector<kernel::counter_row>& rows, const char* change_name);

/// The one-line-per-interval view, as vmstat and sar print: a header of the counters' short names
/// (TcpExtListenDrops -> ListenDrops), then one line per interval with the time of day and each
/// counter's change per second.
///
///   time     ActiveOpens PassiveOpens ...
///   14:03:07        12.0         11.0 ...
std::string counters_line_header(const std::vector<kernel::counter_row>& rows);
std::string counters_line(const std::vector<kernel::counter_row>& rows, int64_t unix_ns);
/// The same interval as one JSON object: {"time_unix_ns":..,"per_s":{"TcpActiveOpens":12.0,..}}.
std::string counters_line_json(const std::vector<kernel::counter_row>& rows, int64_t unix_ns);

}  // namespace synscope::render
