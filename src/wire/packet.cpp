#include "wire/packet.h"

#include "wire/ip.h"
#include "wire/link.h"
#include "wire/tcp.h"
#include "wire/tunnel.h"

namespace synscope::wire {

const char* decode_status_name(decode_status s) {
  switch (s) {
    case decode_status::tcp: return "tcp";
    case decode_status::not_ip: return "not_ip";
    case decode_status::not_tcp: return "not_tcp";
    case decode_status::fragment: return "fragment";
    case decode_status::truncated: return "truncated";
    case decode_status::malformed: return "malformed";
    case decode_status::unsupported_link: return "unsupported_link";
    case decode_status::vlan_depth: return "vlan_depth";
    case decode_status::encrypted: return "encrypted";
    case decode_status::tunnel_depth: return "tunnel_depth";
  }
  return "malformed";
}

const char* decode_status_meaning(decode_status s) {
  switch (s) {
    case decode_status::tcp: return "TCP";
    case decode_status::not_ip: return "not IP (ARP, LLDP, ...)";
    case decode_status::not_tcp: return "IP but not TCP";
    case decode_status::fragment: return "IP fragments";
    case decode_status::truncated: return "cut short by the snapshot length";
    case decode_status::malformed: return "malformed";
    case decode_status::unsupported_link: return "of a link type not decoded";
    case decode_status::vlan_depth: return "with more than 8 VLAN tags";
    case decode_status::encrypted: return "IPsec ESP (encrypted)";
    case decode_status::tunnel_depth: return "in tunnels nested more than 8 deep";
  }
  return "malformed";
}

decode_status decode(uint16_t linktype, bytes frame, packet_view& out, ip_fragment* frag) noexcept {
  out.vlan_count = 0;
  out.vlan = {};
  out.tunnels = 0;
  link_layer link;
  decode_status s = decode_link(linktype, frame, link, out);
  if (s != decode_status::tcp) return s;
  network_protocol network = link.protocol;
  size_t at = link.offset;
  for (int depth = 0;; ++depth) {
    if (depth > max_tunnels) return decode_status::tunnel_depth;
    transport l4;
    s = network == network_protocol::ipv4 ? decode_ipv4(frame, at, out, l4, frag) : decode_ipv6(frame, at, out, l4, frag);
    if (s != decode_status::tcp) return s;
    if (l4.protocol == 6) return decode_tcp(frame, l4, out);
    inner next;
    s = decapsulate(frame, l4, next);
    if (s != decode_status::tcp) return s;
    ++out.tunnels;
    if (next.network == network_protocol::none) {  // an Ethernet frame inside (VXLAN, GRE bridging, ERSPAN)
      link_layer inner_link;
      s = decode_ethernet(frame, next.offset, inner_link, out);
      if (s != decode_status::tcp) return s;
      network = inner_link.protocol;
      at = inner_link.offset;
    } else {
      network = next.network;
      at = next.offset;
    }
  }
}

}  // namespace synscope::wire
