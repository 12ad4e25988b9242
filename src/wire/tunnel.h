#pragma once
// Tunnels: what an IP packet carries when it is not TCP but another packet (GRE, with ERSPAN
// mirroring; VXLAN and Geneve over UDP; IPv4 and IPv6 in IP; ESP, which cannot be read).
#include <cstdint>

#include "wire/ip.h"
#include "wire/link.h"

namespace synscope::wire {

/// How deep decode() follows tunnels inside tunnels before it stops (decode_status::tunnel_depth).
inline constexpr int max_tunnels = 8;

struct inner {
  network_protocol network = network_protocol::none;  ///< none: an Ethernet frame starts at `offset`
  size_t offset = 0;
};

/// Looks into the transport `l4` for a packet it carries: decode_status::tcp and `next` when it
/// finds one; not_tcp for a transport that carries none (UDP to other ports, ICMP, ...);
/// encrypted for ESP; truncated or malformed for a tunnel header cut short or wrong.
///   GRE (RFC 2784, 2890; version 0): IPv4, IPv6, Ethernet (transparent bridging, 0x6558),
///     MPLS, and ERSPAN types II (0x88be) and III (0x22eb) mirroring Ethernet frames
///   UDP port 4789: VXLAN (RFC 7348), Ethernet; UDP port 6081: Geneve (RFC 8926)
///   IP protocol 4 and 41: IPv4 and IPv6 in IP (RFC 2003, 4213)
decode_status decapsulate(bytes frame, const transport& l4, inner& next) noexcept;

}  // namespace synscope::wire
