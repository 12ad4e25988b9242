#include <algorithm>

#include "wire/ip.h"

namespace synscope::wire {
namespace {
constexpr int max_extension_headers = 16;  // bounds the chain on crafted input

// A routing header with segments left names the final destination: the last address of type
// 0 (RFC 2460) and type 2 (mobile IPv6, the home address), the first entry of a segment
// routing header's list (type 4, RFC 8754: the list runs backwards).
void follow_routing_header(bytes frame, size_t pos, size_t len, ip_address& dst) noexcept {
  if (len < 8 || frame.size() < pos + len) return;
  uint8_t type = load_u8(frame.data() + pos + 2);
  uint8_t segments_left = load_u8(frame.data() + pos + 3);
  if (segments_left == 0 || len < 24) return;
  if (type == 0 || type == 2) {
    std::memcpy(dst.bytes.data(), frame.data() + pos + len - 16, 16);
  } else if (type == 4) {
    std::memcpy(dst.bytes.data(), frame.data() + pos + 8, 16);
  }
}

}  // namespace

decode_status decode_ipv6(bytes frame, size_t at, packet_view& out, transport& l4, ip_fragment* frag) noexcept {
  if (frame.size() < at + 40) return decode_status::truncated;
  const std::byte* h = frame.data() + at;
  uint32_t vtf = load_u32be(h);
  if ((vtf >> 28) != 6) return decode_status::malformed;
  out.ecn = static_cast<uint8_t>((vtf >> 20) & 0x03);
  size_t payload_len = load_u16be(h + 4);
  if (payload_len == 0) {
    payload_len = frame.size() - at - 40;  // a jumbogram (RFC 2675), or offload: use what is there
  }
  out.src = ip_address{6, {}};
  out.dst = ip_address{6, {}};
  std::memcpy(out.src.bytes.data(), h + 8, 16);
  std::memcpy(out.dst.bytes.data(), h + 24, 16);
  uint8_t next = load_u8(h + 6);
  size_t pos = at + 40;
  size_t end = at + 40 + payload_len;  // may lie beyond the capture
  for (int i = 0; i <= max_extension_headers; ++i) {
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140: {  // shim6
        if (frame.size() < pos + 8) return decode_status::truncated;
        size_t len = (static_cast<size_t>(load_u8(frame.data() + pos + 1)) + 1) * 8;
        if (next == 43) follow_routing_header(frame, pos, len, out.dst);
        next = load_u8(frame.data() + pos);
        pos += len;
        break;
      }
      case 51: {  // AH: length in 4-byte units, minus 2
        if (frame.size() < pos + 8) return decode_status::truncated;
        size_t len = (static_cast<size_t>(load_u8(frame.data() + pos + 1)) + 2) * 4;
        next = load_u8(frame.data() + pos);
        pos += len;
        break;
      }
      case 44: {  // fragment
        if (frame.size() < pos + 8) return decode_status::truncated;
        uint16_t off_m = load_u16be(frame.data() + pos + 2);
        uint8_t carried = load_u8(frame.data() + pos);
        if ((off_m & 0xfff8) != 0 || (off_m & 0x0001) != 0) {
          if (frag != nullptr && pos + 8 <= end) {
            frag->version = 6;
            frag->src = out.src;
            frag->dst = out.dst;
            frag->id = load_u32be(frame.data() + pos + 4);
            frag->protocol = carried;
            frag->offset = off_m & 0xfff8u;
            frag->more = (off_m & 0x0001) != 0;
            frag->header = bytes(h, 40);
            size_t data_at = pos + 8;
            size_t captured_end = std::min(frame.size(), end);
            frag->payload = bytes(frame.data() + data_at, captured_end > data_at ? captured_end - data_at : 0);
            frag->payload_wire_len = static_cast<uint32_t>(end - data_at);
          }
          return decode_status::fragment;
        }
        next = carried;  // an atomic fragment: the whole packet follows
        pos += 8;
        break;
      }
      default:  // a transport: TCP, UDP, GRE, IP in IP, ESP, ICMPv6, no next header (59), ...
        if (pos > end) return decode_status::malformed;
        l4.offset = pos;
        l4.wire_len = end - pos;
        l4.protocol = next;
        return decode_status::tcp;
    }
  }
  return decode_status::malformed;
}

}  // namespace synscope::wire
