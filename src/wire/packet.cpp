#include "wire/packet.h"

#include "wire/ip.h"
#include "wire/link.h"
#include "wire/tcp.h"

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
  }
  return "malformed";
}

decode_status decode(uint16_t linktype, bytes frame, packet_view& out) noexcept {
  out.vlan_count = 0;
  out.vlan = {};
  link_layer link;
  decode_status s = decode_link(linktype, frame, link, out);
  if (s != decode_status::tcp) return s;
  transport l4;
  s = link.protocol == network_protocol::ipv4 ? decode_ipv4(frame, link.offset, out, l4)
                                              : decode_ipv6(frame, link.offset, out, l4);
  if (s != decode_status::tcp) return s;
  return decode_tcp(frame, l4, out);
}

}  // namespace synscope::wire
