#pragma once
// One connection of a capture as `analyze --json`, `--csv` and `--connections` write it
// (docs/analyze.md lists the fields).
//
//   fmt::print("{}\n", render::connection_json(c).str());
//   render::append_connection_json(buffer, c);   // many: into one buffer, written in bulk
#include <cstdint>
#include <string>
#include <vector>

#include "render/json.h"
#include "tcp/connection.h"

namespace synscope::render {

/// The {"type":"connection",...} line of --json. Its community_id is the Community ID with
/// `seed` (the spec's; 0 unless the user asked for another, as Zeek's CommunityID::seed).
json_object connection_json(const tcp::connection& c, uint16_t seed = 0);
/// The same object appended to `out` (no line break), with no string of its own: for output
/// written in bulk.
void append_connection_json(std::string& out, const tcp::connection& c, uint16_t seed = 0);

/// The CSV header line (RFC 4180, no line break at the end).
std::string csv_header();
/// One connection as a CSV line: cells with a comma, quote or line break are quoted.
std::string csv_line(const tcp::connection& c, uint16_t seed = 0);
/// The same line appended to `out` (no line break).
void append_csv_line(std::string& out, const tcp::connection& c, uint16_t seed = 0);

/// `analyze --zeek`: Zeek's conn.log as its ASCII writer makes it (the #separator, #fields and
/// #types header; tab-separated rows; "-" for unset, "(empty)" for an empty set), Zeek's columns
/// first, then community_id (as Zeek's community-id policy adds it), then synscope's handshake
/// columns (docs/analyze.md lists them). `open_ns` stamps the #open line (the first packet's
/// time, so the same capture gives the same file).
std::string zeek_header(int64_t open_ns);
/// One connection as a conn.log row (no line break), appended to `out`.
void append_zeek_line(std::string& out, const tcp::connection& c, uint16_t seed = 0);
/// The #close line, stamped with `close_ns` (the last packet's time).
std::string zeek_footer(int64_t close_ns);

/// The --connections table, sorted by id (the vector is sorted in place).
std::string connection_table(std::vector<tcp::connection>& all);

}  // namespace synscope::render
