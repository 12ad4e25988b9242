#include <algorithm>

#include "wire/ip.h"

namespace synscope::wire {

decode_status decode_ipv4(bytes frame, size_t at, packet_view& out, transport& l4) noexcept {
  if (frame.size() < at + 20) return decode_status::truncated;
  const std::byte* h = frame.data() + at;
  uint8_t version_ihl = load_u8(h);
  if ((version_ihl >> 4) != 4) return decode_status::malformed;
  size_t header_len = static_cast<size_t>(version_ihl & 0x0f) * 4;
  if (header_len < 20) return decode_status::malformed;
  if (frame.size() < at + header_len) return decode_status::truncated;
  size_t total_len = load_u16be(h + 2);
  if (total_len == 0) {
    total_len = frame.size() - at;  // TSO: the capturing host had not split the segment yet
  } else if (total_len < header_len) {
    return decode_status::malformed;
  }
  out.ecn = load_u8(h + 1) & 0x03;
  uint16_t frag = load_u16be(h + 6);
  bool more_fragments = (frag & 0x2000) != 0;
  if (more_fragments || (frag & 0x1fff) != 0) return decode_status::fragment;
  out.src = ip_address{4, {}};
  out.dst = ip_address{4, {}};
  std::memcpy(out.src.bytes.data(), h + 12, 4);
  std::memcpy(out.dst.bytes.data(), h + 16, 4);
  if (load_u8(h + 9) != 6) return decode_status::not_tcp;
  l4.offset = at + header_len;
  l4.wire_len = total_len - header_len;
  return decode_status::tcp;
}

}  // namespace synscope::wire
