#pragma once
// Link layers: find the network-layer packet inside a frame.
#include <cstdint>

#include "wire/packet.h"

namespace synscope::wire {

enum class network_protocol : uint8_t { none, ipv4, ipv6 };

struct link_layer {
  network_protocol protocol = network_protocol::none;
  size_t offset = 0;  ///< where the IP header starts
};

/// Ethernet (1) with 802.1Q/802.1ad tags, PPPoE sessions and MPLS; Linux SLL (113) and SLL2
/// (276); raw IP (101, 12, 14), IPv4 (228), IPv6 (229); BSD null (0) and loopback (108); Cisco
/// HDLC (104); PPP (9) and PPP in HDLC framing (50); ARCNET (7, and Linux's 129). VLAN ids go
/// into `out.vlan`.
decode_status decode_link(uint16_t linktype, bytes frame, link_layer& link, packet_view& out) noexcept;

/// An Ethernet frame starting at `at` (inside a tunnel: VXLAN, GRE bridging, ERSPAN).
decode_status decode_ethernet(bytes frame, size_t at, link_layer& link, packet_view& out) noexcept;

/// An MPLS label stack starting at `at` (up to 8 labels), then IPv4 or IPv6 as the first nibble
/// says (RFC 3032; what else a pseudowire may carry is not IP).
decode_status decode_mpls(bytes frame, size_t at, link_layer& link) noexcept;

}  // namespace synscope::wire
