#include "wire/tunnel.h"

namespace synscope::wire {
namespace {

constexpr uint16_t port_vxlan = 4789;
constexpr uint16_t port_geneve = 6081;

// An EtherType inside a tunnel header: where what it names starts.
decode_status by_ethertype(bytes frame, uint16_t type, size_t pos, inner& next) noexcept {
  next.offset = pos;
  switch (type) {
    case 0x0800: next.network = network_protocol::ipv4; break;
    case 0x86dd: next.network = network_protocol::ipv6; break;
    case 0x6558: next.network = network_protocol::none; break;  // Ethernet
    case 0x8847:
    case 0x8848: {  // MPLS: the label stack, then IP told by its version nibble
      link_layer l;
      decode_status s = decode_mpls(frame, pos, l);
      if (s != decode_status::tcp) return s;
      next.network = l.protocol;
      next.offset = l.offset;
      return decode_status::tcp;
    }
    default: return decode_status::not_ip;
  }
  return frame.size() > pos ? decode_status::tcp : decode_status::truncated;
}

decode_status gre(bytes frame, const transport& l4, inner& next) noexcept {
  size_t pos = l4.offset;
  if (frame.size() < pos + 4) return decode_status::truncated;
  uint16_t flags = load_u16be(frame.data() + pos);
  uint16_t type = load_u16be(frame.data() + pos + 2);
  if ((flags & 0x0007) != 0) return decode_status::not_tcp;  // version 1 is PPTP's, which carries PPP
  size_t len = 4;
  if (flags & 0x8000) len += 4;  // checksum and reserved
  if (flags & 0x2000) len += 4;  // key
  bool sequenced = (flags & 0x1000) != 0;
  if (sequenced) len += 4;
  pos += len;
  if (frame.size() < pos) return decode_status::truncated;
  if (type == 0x88be) {  // ERSPAN type II: 8 bytes, then the mirrored Ethernet frame (type I has no header and no sequence)
    return by_ethertype(frame, 0x6558, pos + (sequenced ? 8 : 0), next);
  }
  if (type == 0x22eb) {  // ERSPAN type III: 12 bytes, 8 more with its optional sub-header
    if (frame.size() < pos + 12) return decode_status::truncated;
    bool sub_header = (load_u8(frame.data() + pos + 11) & 0x01) != 0;
    return by_ethertype(frame, 0x6558, pos + 12 + (sub_header ? 8 : 0), next);
  }
  return by_ethertype(frame, type, pos, next);
}

decode_status udp(bytes frame, const transport& l4, inner& next) noexcept {
  size_t pos = l4.offset;
  if (frame.size() < pos + 8) return decode_status::truncated;
  uint16_t sport = load_u16be(frame.data() + pos);
  uint16_t dport = load_u16be(frame.data() + pos + 2);
  pos += 8;
  if (dport == port_vxlan || sport == port_vxlan) {
    if (frame.size() < pos + 8) return decode_status::truncated;
    if ((load_u8(frame.data() + pos) & 0x08) == 0) return decode_status::not_tcp;  // no VNI: not VXLAN
    return by_ethertype(frame, 0x6558, pos + 8, next);
  }
  if (dport == port_geneve || sport == port_geneve) {
    if (frame.size() < pos + 8) return decode_status::truncated;
    uint8_t first = load_u8(frame.data() + pos);
    if ((first >> 6) != 0) return decode_status::not_tcp;  // a version this decoder does not know
    size_t options = static_cast<size_t>(first & 0x3f) * 4;
    return by_ethertype(frame, load_u16be(frame.data() + pos + 2), pos + 8 + options, next);
  }
  return decode_status::not_tcp;
}

}  // namespace

decode_status decapsulate(bytes frame, const transport& l4, inner& next) noexcept {
  switch (l4.protocol) {
    case 4:
      next = {network_protocol::ipv4, l4.offset};
      return frame.size() > l4.offset ? decode_status::tcp : decode_status::truncated;
    case 41:
      next = {network_protocol::ipv6, l4.offset};
      return frame.size() > l4.offset ? decode_status::tcp : decode_status::truncated;
    case 47: return gre(frame, l4, next);
    case 17: return udp(frame, l4, next);
    case 50: return decode_status::encrypted;
    default: return decode_status::not_tcp;
  }
}

}  // namespace synscope::wire
