#pragma once
// One connection of a capture as `analyze --json`, `--csv` and `--connections` write it
// (docs/analyze.md lists the fields).
//
//   fmt::print("{}\n", render::connection_json(c).str());
//   render::append_connection_json(buffer, c);   // many: into one buffer, written in bulk
#include <string>
#include <vector>

#include "render/json.h"
#include "tcp/connection.h"

namespace synscope::render {

/// The {"type":"connection",...} line of --json.
json_object connection_json(const tcp::connection& c);
/// The same object appended to `out` (no line break), with no string of its own: for output
/// written in bulk.
void append_connection_json(std::string& out, const tcp::connection& c);

/// The CSV header line (RFC 4180, no line break at the end).
std::string csv_header();
/// One connection as a CSV line: cells with a comma, quote or line break are quoted.
std::string csv_line(const tcp::connection& c);
/// The same line appended to `out` (no line break).
void append_csv_line(std::string& out, const tcp::connection& c);

/// The --connections table, sorted by id (the vector is sorted in place).
std::string connection_table(std::vector<tcp::connection>& all);

}  // namespace synscope::render
