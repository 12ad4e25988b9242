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

/// Ethernet (1) with 802.1Q/802.1ad tags, Linux SLL (113) and SLL2 (276), raw IP (101, 12, 14),
/// IPv4 (228), IPv6 (229), BSD null (0) and loopback (108). VLAN ids go into `out.vlan`.
decode_status decode_link(uint16_t linktype, bytes frame, link_layer& link, packet_view& out) noexcept;

}  // namespace synscope::wire
