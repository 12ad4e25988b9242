#pragma once
// IPv4 and IPv6: addresses (the final destination, where a source route names one), ECN,
// fragments, and where the transport header starts.
#include <cstdint>

#include "wire/packet.h"

namespace synscope::wire {

struct transport {
  size_t offset = 0;     ///< where the transport header starts in the frame
  size_t wire_len = 0;   ///< transport bytes per the IP header (they may exceed what was captured)
  uint8_t protocol = 0;  ///< IP protocol number (6 TCP, 17 UDP, 47 GRE, 4 and 41 IP in IP, 50 ESP)
};

/// IPv4 with options. Fragments (MF set or a non-zero offset) are decode_status::fragment, with
/// `frag` filled when given. A total length of 0 (segmentation offload on the capturing host)
/// means "what was captured". With a loose or strict source route not yet done (LSRR, SSRR),
/// the destination is the route's last address: the host the TCP checksum is computed for
/// (RFC 791), not the next hop in the header. IPsec AH is stepped over. decode_status::tcp
/// means a transport was found, whatever its protocol.
decode_status decode_ipv4(bytes frame, size_t at, packet_view& out, transport& l4, ip_fragment* frag = nullptr) noexcept;

/// IPv6 with extension headers (hop-by-hop, routing, destination options, fragment, AH,
/// mobility, HIP, shim6). A fragment header with a non-zero offset or M set is a fragment. A
/// routing header with segments left names the final destination (RFC 8200 §8.1: the
/// checksum's), as for IPv4 source routes.
decode_status decode_ipv6(bytes frame, size_t at, packet_view& out, transport& l4, ip_fragment* frag = nullptr) noexcept;

}  // namespace synscope::wire
