#pragma once
// Ladder diagrams: the seed's picture of a handshake, drawn from a connection's real packets.
//
//   std::string text = report::render_ladder(ladder);   // tcp::ladder from tcp::analyze()
#include <cstdint>
#include <string>
#include <vector>

#include "tcp/analyzer.h"

namespace synscope::report {

/// A moment that is not a packet, drawn on the ladder at its time on the server's side: what
/// the server's kernel did (from `synscope trace --json`: "SYN queued", "accept() by nginx").
struct annotation {
  int64_t unix_ns = 0;
  std::string text;
};

/// A text ladder: one row per packet with its time offset, an arrow in its direction, the
/// flags as tcpdump writes them, sequence and acknowledgement numbers relative to the ISNs
/// (absolute in brackets), payload length, window, handshake options, and each side's RFC 9293
/// state when it changes; `server_side` rows between them at their times.
std::string render_ladder(const tcp::ladder& ladder, const std::vector<annotation>& server_side = {});

/// Flags as tcpdump prints them: "S", "S.", ".", "P.", "F.", "R", "R.", with E, W, U, e (AE).
std::string tcpdump_flags(uint16_t flags);

}  // namespace synscope::report
