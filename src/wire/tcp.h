#pragma once
// The TCP header and its options (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 7413, RFC 8684).
#include "wire/ip.h"
#include "wire/packet.h"

namespace synscope::wire {

/// Decodes the TCP header at `l4.offset`. The fixed 20 bytes must be captured; options cut
/// short by the snaplen are parsed as far as they go (options.truncated), as tshark does. The
/// payload need not be captured: payload_len comes from `l4.wire_len`.
decode_status decode_tcp(bytes frame, const transport& l4, packet_view& out) noexcept;

/// Parses an options area. An option whose length is below 2 or runs past the area stops the
/// parse; a known option with the wrong length is skipped; both set `malformed`. When
/// `area_cut` says the capture ended inside the area, running past it sets `truncated` instead.
void parse_tcp_options(bytes area, tcp_options& out, bool area_cut = false) noexcept;

}  // namespace synscope::wire
