#pragma once
// IPv4 and IPv6: addresses, ECN, fragments, and where the transport header starts.
#include <cstdint>

#include "wire/packet.h"

namespace synscope::wire {

struct transport {
  size_t offset = 0;    ///< where the TCP header starts in the frame
  size_t wire_len = 0;  ///< transport bytes per the IP header (they may exceed what was captured)
};

/// IPv4 with options. Fragments (MF set or a non-zero offset) are decode_status::fragment.
/// A total length of 0 (segmentation offload on the capturing host) means "what was captured".
decode_status decode_ipv4(bytes frame, size_t at, packet_view& out, transport& l4) noexcept;

/// IPv6 with extension headers (hop-by-hop, routing, destination options, fragment, AH,
/// mobility, HIP, shim6). A fragment header with a non-zero offset or M set is a fragment.
decode_status decode_ipv6(bytes frame, size_t at, packet_view& out, transport& l4) noexcept;

}  // namespace synscope::wire
