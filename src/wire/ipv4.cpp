#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "wire/ip.h"

namespace synscope::wire {
namespace {

constexpr uint8_t option_lsrr = 131;  // loose source and record route
constexpr uint8_t option_ssrr = 137;  // strict source and record route

// The address at `from`, its 16 bytes written by one store: the tracker reads them back at once
// as one 16-byte load, which the processor forwards from a store of the same size and place
// but not from a zeroing store and a 4-byte one (a stall of the whole pipeline each packet).
void set_ipv4(ip_address& a, const std::byte* from) noexcept {
  a.version = 4;
#if defined(__SSE2__)
  uint32_t v = 0;
  std::memcpy(&v, from, 4);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(a.bytes.data()), _mm_cvtsi32_si128(static_cast<int>(v)));  // NOLINT
#else
  a.bytes = {};
  std::memcpy(a.bytes.data(), from, 4);
#endif
}

// The final destination of a source route that is not done yet, from the options area.
void follow_source_route(bytes options, ip_address& dst) noexcept {
  size_t pos = 0;
  while (pos < options.size()) {
    uint8_t type = load_u8(options.data() + pos);
    if (type == 0) return;  // end of options
    if (type == 1) {        // no-op
      ++pos;
      continue;
    }
    if (pos + 2 > options.size()) return;
    size_t len = load_u8(options.data() + pos + 1);
    if (len < 2 || pos + len > options.size()) return;
    if ((type == option_lsrr || type == option_ssrr) && len >= 7) {
      // type, length, pointer (1-based, to the next address to use), addresses. While the
      // pointer is within the option, the route goes on and its last address is the end.
      size_t pointer = load_u8(options.data() + pos + 2);
      if (pointer >= 4 && pointer + 3 <= len) std::memcpy(dst.bytes.data(), options.data() + pos + len - 4, 4);
      return;
    }
    pos += len;
  }
}

}  // namespace

decode_status decode_ipv4(bytes frame, size_t at, packet_view& out, transport& l4, ip_fragment* frag) noexcept {
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
  set_ipv4(out.src, h + 12);
  set_ipv4(out.dst, h + 16);
  if (header_len > 20) follow_source_route(bytes(h + 20, header_len - 20), out.dst);
  uint8_t protocol = load_u8(h + 9);
  uint16_t fragment_field = load_u16be(h + 6);
  bool more_fragments = (fragment_field & 0x2000) != 0;
  uint32_t fragment_offset = static_cast<uint32_t>(fragment_field & 0x1fff) * 8;
  if (more_fragments || fragment_offset != 0) {
    if (frag != nullptr) {
      frag->version = 4;
      frag->src = out.src;
      frag->dst = out.dst;
      frag->id = load_u16be(h + 4);
      frag->protocol = protocol;
      frag->offset = fragment_offset;
      frag->more = more_fragments;
      frag->header = bytes(h, header_len);
      size_t captured = std::min(frame.size() - at, total_len);
      frag->payload = bytes(h + header_len, captured - header_len);
      frag->payload_wire_len = static_cast<uint32_t>(total_len - header_len);
    }
    return decode_status::fragment;
  }
  l4.offset = at + header_len;
  l4.wire_len = total_len - header_len;
  l4.protocol = protocol;
  // IPsec AH (RFC 4302) carries the next protocol after its own header: 4-byte units, minus 2.
  for (int i = 0; i < 4 && l4.protocol == 51; ++i) {
    if (frame.size() < l4.offset + 8) return decode_status::truncated;
    size_t ah_len = (static_cast<size_t>(load_u8(frame.data() + l4.offset + 1)) + 2) * 4;
    if (ah_len > l4.wire_len) return decode_status::malformed;
    l4.protocol = load_u8(frame.data() + l4.offset);
    l4.offset += ah_len;
    l4.wire_len -= ah_len;
  }
  return decode_status::tcp;
}

}  // namespace synscope::wire
