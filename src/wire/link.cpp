#include "wire/link.h"

namespace synscope::wire {
namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr int max_vlan_tags = 8;  // more than any real stack; bounds the loop on crafted input

bool is_vlan(uint16_t type) { return type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200; }

decode_status raw_ip(bytes frame, size_t pos, link_layer& link);

// A PPP protocol number: where its packet starts.
decode_status ppp_protocol(bytes frame, uint16_t protocol, size_t pos, link_layer& link) {
  link.offset = pos;
  switch (protocol) {
    case 0x0021: link.protocol = network_protocol::ipv4; break;
    case 0x0057: link.protocol = network_protocol::ipv6; break;
    case 0x0281: return decode_mpls(frame, pos, link);
    default: return decode_status::not_ip;  // LCP, IPCP, CHAP, ...
  }
  return frame.size() > pos ? decode_status::tcp : decode_status::truncated;
}

// PPP framing: optionally the HDLC address and control bytes (0xff 0x03), then a protocol of
// one byte (its low bit set: protocol field compression, RFC 1661 §6.5) or two.
decode_status ppp(bytes frame, size_t pos, link_layer& link) {
  if (frame.size() >= pos + 2 && load_u8(frame.data() + pos) == 0xff && load_u8(frame.data() + pos + 1) == 0x03) pos += 2;
  if (frame.size() < pos + 1) return decode_status::truncated;
  uint8_t first = load_u8(frame.data() + pos);
  if ((first & 0x01) != 0) return ppp_protocol(frame, first, pos + 1, link);
  if (frame.size() < pos + 2) return decode_status::truncated;
  return ppp_protocol(frame, load_u16be(frame.data() + pos), pos + 2, link);
}

// ARCNET (RFC 1201 and 1051): source and destination ids, (Linux only: a 2-byte offset), the
// protocol id, then for RFC 1201 types a split flag and a 2-byte sequence number; a BSD
// "exception" packet (split flag 0xff) repeats them after 4 more bytes. As tcpdump reads it.
decode_status arcnet(bytes frame, bool linux_header, link_layer& link) {
  size_t pos = linux_header ? 4 : 2;
  if (frame.size() < pos + 1) return decode_status::truncated;
  uint8_t type = load_u8(frame.data() + pos);
  ++pos;
  bool rfc1051 = type == 240 || type == 241 || type == 0x80;  // IP, ARP and diagnose of RFC 1051: no split flag
  if (!rfc1051) {
    if (frame.size() < pos + 3) return decode_status::truncated;
    if (!linux_header && load_u8(frame.data() + pos) == 0xff) pos += 4;  // an exception packet
    pos += 3;
  }
  link.offset = pos;
  switch (type) {
    case 212:  // IP (RFC 1201)
    case 240:  // IP (RFC 1051)
      link.protocol = network_protocol::ipv4;
      break;
    case 0xc4:  // IPv6
      link.protocol = network_protocol::ipv6;
      break;
    default:
      return decode_status::not_ip;
  }
  return frame.size() > pos ? decode_status::tcp : decode_status::truncated;
}

// Follows VLAN tags from `pos`, where the ethertype at pos-2 was `type`.
decode_status ethertype_payload(bytes frame, uint16_t type, size_t pos, link_layer& link, packet_view& out) {
  int tags = 0;
  while (is_vlan(type)) {
    if (++tags > max_vlan_tags) return decode_status::vlan_depth;
    if (frame.size() < pos + 4) return decode_status::truncated;
    uint16_t vid = load_u16be(frame.data() + pos) & 0x0fff;
    if (out.vlan_count < out.vlan.size()) out.vlan[out.vlan_count] = vid;
    ++out.vlan_count;
    type = load_u16be(frame.data() + pos + 2);
    pos += 4;
  }
  if (type == 0x8864) {  // PPPoE session (RFC 2516): a 6-byte header, then PPP's protocol (perhaps compressed)
    if (frame.size() < pos + 7) return decode_status::truncated;
    return ppp(frame, pos + 6, link);
  }
  if (type == 0x8847 || type == 0x8848) return decode_mpls(frame, pos, link);
  link.offset = pos;
  if (type == ethertype_ipv4) {
    link.protocol = network_protocol::ipv4;
  } else if (type == ethertype_ipv6) {
    link.protocol = network_protocol::ipv6;
  } else {
    return decode_status::not_ip;
  }
  return decode_status::tcp;
}

decode_status raw_ip(bytes frame, size_t pos, link_layer& link) {
  if (frame.size() <= pos) return decode_status::truncated;
  link.offset = pos;
  switch (load_u8(frame.data() + pos) >> 4) {
    case 4: link.protocol = network_protocol::ipv4; return decode_status::tcp;
    case 6: link.protocol = network_protocol::ipv6; return decode_status::tcp;
    default: return decode_status::not_ip;
  }
}

// BSD address families as the null/loopback headers carry them: AF_INET is 2 everywhere;
// AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS) or 10 (Linux).
decode_status bsd_family(uint32_t af, bytes frame, link_layer& link) {
  link.offset = 4;
  if (af == 2) {
    link.protocol = network_protocol::ipv4;
  } else if (af == 24 || af == 28 || af == 30 || af == 10) {
    link.protocol = network_protocol::ipv6;
  } else {
    return decode_status::not_ip;
  }
  return frame.size() > 4 ? decode_status::tcp : decode_status::truncated;
}

}  // namespace

decode_status decode_mpls(bytes frame, size_t at, link_layer& link) noexcept {
  size_t pos = at;
  for (int labels = 0;; ++labels) {
    if (labels >= 8) return decode_status::malformed;
    if (frame.size() < pos + 4) return decode_status::truncated;
    bool bottom = (load_u8(frame.data() + pos + 2) & 0x01) != 0;
    pos += 4;
    if (bottom) break;
  }
  return raw_ip(frame, pos, link);
}

decode_status decode_ethernet(bytes frame, size_t at, link_layer& link, packet_view& out) noexcept {
  if (frame.size() < at + 14) return decode_status::truncated;
  return ethertype_payload(frame, load_u16be(frame.data() + at + 12), at + 14, link, out);
}

decode_status decode_link(uint16_t linktype, bytes frame, link_layer& link, packet_view& out) noexcept {
  switch (linktype) {
    case 1:  // LINKTYPE_ETHERNET
      if (frame.size() < 14) return decode_status::truncated;
      return ethertype_payload(frame, load_u16be(frame.data() + 12), 14, link, out);
    case 113:  // LINKTYPE_LINUX_SLL: the protocol is the last field of a 16-byte header
      if (frame.size() < 16) return decode_status::truncated;
      return ethertype_payload(frame, load_u16be(frame.data() + 14), 16, link, out);
    case 276:  // LINKTYPE_LINUX_SLL2: the protocol is the first field of a 20-byte header
      if (frame.size() < 20) return decode_status::truncated;
      return ethertype_payload(frame, load_u16be(frame.data()), 20, link, out);
    case 101:  // LINKTYPE_RAW
    case 12:   // DLT_RAW on most BSDs
    case 14:   // DLT_RAW on OpenBSD
      return raw_ip(frame, 0, link);
    case 228:  // LINKTYPE_IPV4
      link.offset = 0;
      link.protocol = network_protocol::ipv4;
      return frame.empty() ? decode_status::truncated : decode_status::tcp;
    case 229:  // LINKTYPE_IPV6
      link.offset = 0;
      link.protocol = network_protocol::ipv6;
      return frame.empty() ? decode_status::truncated : decode_status::tcp;
    case 0: {  // LINKTYPE_NULL: the family in the capturing host's byte order
      if (frame.size() < 4) return decode_status::truncated;
      uint32_t af = load_u32le(frame.data());
      if (af > 0xffff) af = __builtin_bswap32(af);
      return bsd_family(af, frame, link);
    }
    case 108:  // LINKTYPE_LOOP: the family in network byte order
      if (frame.size() < 4) return decode_status::truncated;
      return bsd_family(load_u32be(frame.data()), frame, link);
    case 104:  // LINKTYPE_C_HDLC: address, control, then an EtherType
      if (frame.size() < 4) return decode_status::truncated;
      return ethertype_payload(frame, load_u16be(frame.data() + 2), 4, link, out);
    case 9:   // LINKTYPE_PPP
    case 50:  // LINKTYPE_PPP_HDLC
      return ppp(frame, 0, link);
    case 7:  // LINKTYPE_ARCNET_BSD
      return arcnet(frame, false, link);
    case 129:  // LINKTYPE_ARCNET_LINUX
      return arcnet(frame, true, link);
    default:
      return decode_status::unsupported_link;
  }
}

}  // namespace synscope::wire
