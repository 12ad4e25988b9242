#pragma once
// Decoding one captured frame into a TCP packet view: link layer, IPv4/IPv6, TCP header and
// options. Pure, bounds-checked, no allocation: the hot loop of `synscope analyze`.
//
//   wire::packet_view p;
//   if (wire::decode(frame.linktype, frame.data, p) == wire::decode_status::tcp) {
//     if (p.flags & wire::tcp_flag::syn) ...
//   }
#include <array>
#include <cstdint>

#include "core/endpoint.h"
#include "wire/bytes.h"

namespace synscope::wire {

enum class decode_status : uint8_t {
  tcp,               ///< a TCP segment: the view is filled
  not_ip,            ///< ARP, LLDP, ... (nothing for the tracker)
  not_tcp,           ///< IP, but UDP, ICMP, ...
  fragment,          ///< an IP fragment: counted and skipped
  truncated,         ///< the capture cut a header short (snaplen)
  malformed,         ///< a header contradicts itself (IHL < 5, data offset < 5, ...)
  unsupported_link,  ///< a link type this decoder does not know
  vlan_depth,        ///< more than 8 VLAN tags: not followed further (no real stack nests so deep)
  encrypted,         ///< IPsec ESP: what it carries cannot be read
  tunnel_depth,      ///< tunnels nested more than 8 deep: not followed further
};
const char* decode_status_name(decode_status s);
/// What a status means, for a summary line ("with more than 8 VLAN tags").
const char* decode_status_meaning(decode_status s);
inline constexpr size_t decode_status_count = 10;

namespace tcp_flag {
inline constexpr uint16_t fin = 0x001, syn = 0x002, rst = 0x004, psh = 0x008, ack = 0x010, urg = 0x020,
                          ece = 0x040, cwr = 0x080, ae = 0x100;  // AE: AccECN (RFC 9768), once "NS"
}

using ip_address = core::ip_address;

struct tcp_options {
  bool has_mss = false;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  bool has_fastopen = false;     ///< kind 34, or 254 with magic 0xF989
  bool mptcp = false;            ///< kind 30
  bool malformed = false;        ///< an option with a wrong length was seen (and skipped or stopped at)
  bool truncated = false;        ///< the capture cut the options short (snaplen); what was there is parsed
  uint8_t wscale = 0;
  uint8_t fastopen_cookie_len = 0;  ///< 0 with has_fastopen: a cookie request
  uint16_t mss = 0;
  uint32_t tsval = 0;
  uint32_t tsecr = 0;
};

struct packet_view {
  ip_address src;
  ip_address dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t flags = 0;        ///< tcp_flag bits
  uint16_t window = 0;
  uint32_t payload_len = 0;  ///< from the IP lengths, so a short snaplen does not hide payload
  uint8_t ecn = 0;           ///< the IP header's ECN field
  uint8_t vlan_count = 0;    ///< 802.1Q/802.1ad tags seen (the first three are kept)
  std::array<uint16_t, 3> vlan{};
  uint8_t tunnels = 0;       ///< encapsulations peeled to reach this segment (GRE, VXLAN, Geneve, IP in IP, ...)
  tcp_options options;
};

/// An IP fragment, as decode() found it (decode_status::fragment): what reassembly needs. The
/// views point into the frame.
struct ip_fragment {
  uint8_t version = 0;
  ip_address src;
  ip_address dst;              ///< the final destination (source routes followed)
  uint32_t id = 0;             ///< IPv4's 16-bit or IPv6's 32-bit identification
  uint8_t protocol = 0;        ///< what the reassembled datagram carries (6: TCP)
  uint32_t offset = 0;         ///< in bytes
  bool more = false;           ///< more fragments follow
  bytes header;                ///< IPv4: the header with its options; IPv6: the fixed 40 bytes
  bytes payload;               ///< the fragment's data as captured
  uint32_t payload_wire_len = 0;  ///< its length on the wire (the capture may have cut it)
};

/// Decodes a frame of link type `linktype`: the link layer, then IP, through tunnels (GRE and
/// ERSPAN, VXLAN, Geneve, IP in IP, MPLS, PPPoE, IPsec AH) down to TCP. The view is complete
/// only for decode_status::tcp. For decode_status::fragment, `frag` (when given) describes it.
decode_status decode(uint16_t linktype, bytes frame, packet_view& out, ip_fragment* frag = nullptr) noexcept;

}  // namespace synscope::wire
