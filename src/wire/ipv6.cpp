#include "wire/ip.h"

namespace synscope::wire {
namespace {
constexpr int max_extension_headers = 16;  // bounds the chain on crafted input
}

decode_status decode_ipv6(bytes frame, size_t at, packet_view& out, transport& l4) noexcept {
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
      case 6:
        if (pos > end) return decode_status::malformed;
        l4.offset = pos;
        l4.wire_len = end - pos;
        return decode_status::tcp;
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140: {  // shim6
        if (frame.size() < pos + 8) return decode_status::truncated;
        size_t len = (static_cast<size_t>(load_u8(frame.data() + pos + 1)) + 1) * 8;
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
        if ((off_m & 0xfff8) != 0 || (off_m & 0x0001) != 0) return decode_status::fragment;
        next = load_u8(frame.data() + pos);  // an atomic fragment: the whole packet follows
        pos += 8;
        break;
      }
      default:
        return decode_status::not_tcp;  // UDP, ICMPv6, ESP, no next header, ...
    }
  }
  return decode_status::malformed;
}

}  // namespace synscope::wire
