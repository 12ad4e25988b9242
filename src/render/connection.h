#pragma once
// One connection of a capture as `analyze --json`, `--csv` and `--connections` write it
// (docs/analyze.md lists the fields).
//
//   fmt::print("{}\n", render::connection_json(c));
//   end = render::write_connection_json(end, c);   // many: into one buffer, written in bulk
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tcp/connection.h"

namespace synscope::render {

/// Room enough for one connection's --json or --csv line (1.1 KB is usual; the longest, with
/// IPv6 endpoints of 45 characters, three VLAN tags, every anomaly and the largest numbers, is
/// under 2 KB: a test writes it).
inline constexpr size_t max_connection_line = 4096;

/// The {"type":"connection",...} line of --json (no line break). Its community_id is the
/// Community ID with `seed` (the spec's; 0 unless the user asked for another, as Zeek's
/// CommunityID::seed).
std::string connection_json(const tcp::connection& c, uint16_t seed = 0);
/// The same line written at `out`, which has max_connection_line bytes of room; returns its
/// end. For output written in bulk: no allocation, no check per piece.
char* write_connection_json(char* out, const tcp::connection& c, uint16_t seed = 0);

/// The CSV header line (RFC 4180, no line break at the end).
std::string csv_header();
/// One connection as a CSV line: cells with a comma, quote or line break are quoted.
std::string csv_line(const tcp::connection& c, uint16_t seed = 0);
/// The same line written at `out` (max_connection_line bytes of room); returns its end.
char* write_csv_line(char* out, const tcp::connection& c, uint16_t seed = 0);

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
