#pragma once
// Ladder diagrams: the seed's picture of a handshake, drawn from a connection's real packets.
//
//   std::string text = report::render_ladder(ladder);   // tcp::ladder from tcp::analyze()
#include <string>

#include "tcp/analyzer.h"

namespace synscope::report {

/// A text ladder: one row per packet with its time offset, an arrow in its direction, the
/// flags as tcpdump writes them, sequence and acknowledgement numbers relative to the ISNs
/// (absolute in brackets), payload length, window, handshake options, and each side's RFC 9293
/// state when it changes.
std::string render_ladder(const tcp::ladder& ladder);

/// Flags as tcpdump prints them: "S", "S.", ".", "P.", "F.", "R", "R.", with E, W, U, e (AE).
std::string tcpdump_flags(uint16_t flags);

}  // namespace synscope::report
