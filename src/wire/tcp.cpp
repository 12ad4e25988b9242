#include "wire/tcp.h"

#include <algorithm>

namespace synscope::wire {
namespace {

enum : uint8_t {
  kind_eol = 0,
  kind_nop = 1,
  kind_mss = 2,
  kind_wscale = 3,
  kind_sack_permitted = 4,
  kind_timestamps = 8,
  kind_mptcp = 30,
  kind_fastopen = 34,
  kind_experimental = 254,  // RFC 6994; TFO used it with magic 0xF989 before kind 34
};
constexpr uint16_t fastopen_magic = 0xf989;

}  // namespace

void parse_tcp_options(bytes area, tcp_options& out, bool area_cut) noexcept {
  // What Linux puts on every segment after the handshake: NOP, NOP, timestamps.
  if (area.size() == 12 && load_u32be(area.data()) == 0x0101080a) {
    out.has_timestamps = true;
    out.tsval = load_u32be(area.data() + 4);
    out.tsecr = load_u32be(area.data() + 8);
    return;
  }
  size_t pos = 0;
  while (pos < area.size()) {
    uint8_t kind = load_u8(area.data() + pos);
    if (kind == kind_eol) return;
    if (kind == kind_nop) {
      ++pos;
      continue;
    }
    if (pos + 2 > area.size()) {
      (area_cut ? out.truncated : out.malformed) = true;  // a kind with no room for its length
      return;
    }
    size_t len = load_u8(area.data() + pos + 1);
    if (len < 2) {
      out.malformed = true;
      return;
    }
    if (pos + len > area.size()) {
      (area_cut ? out.truncated : out.malformed) = true;
      return;
    }
    const std::byte* v = area.data() + pos + 2;
    switch (kind) {
      case kind_mss:
        if (len == 4) {
          out.has_mss = true;
          out.mss = load_u16be(v);
        } else {
          out.malformed = true;
        }
        break;
      case kind_wscale:
        if (len == 3) {
          out.has_wscale = true;
          out.wscale = load_u8(v);
        } else {
          out.malformed = true;
        }
        break;
      case kind_sack_permitted:
        if (len == 2) {
          out.sack_permitted = true;
        } else {
          out.malformed = true;
        }
        break;
      case kind_timestamps:
        if (len == 10) {
          out.has_timestamps = true;
          out.tsval = load_u32be(v);
          out.tsecr = load_u32be(v + 4);
        } else {
          out.malformed = true;
        }
        break;
      case kind_mptcp:
        out.mptcp = true;
        break;
      case kind_fastopen:
        // A cookie is 4 to 16 bytes; an empty one is a cookie request (RFC 7413 §4.1.1).
        if (len == 2 || (len >= 6 && len <= 18)) {
          out.has_fastopen = true;
          out.fastopen_cookie_len = static_cast<uint8_t>(len - 2);
        } else {
          out.malformed = true;
        }
        break;
      case kind_experimental:
        if (len >= 4 && load_u16be(v) == fastopen_magic) {
          out.has_fastopen = true;
          out.fastopen_cookie_len = static_cast<uint8_t>(len - 4);
        }
        break;
      default:
        break;  // SACK blocks, MD5, TCP-AO, ...: not needed for the handshake
    }
    pos += len;
  }
}

decode_status decode_tcp(bytes frame, const transport& l4, packet_view& out) noexcept {
  if (frame.size() < l4.offset + 20) return decode_status::truncated;
  if (l4.wire_len < 20) return decode_status::malformed;
  const std::byte* h = frame.data() + l4.offset;
  size_t header_len = static_cast<size_t>(load_u8(h + 12) >> 4) * 4;
  if (header_len < 20 || header_len > l4.wire_len) return decode_status::malformed;
  size_t captured = std::min(header_len, frame.size() - l4.offset);
  out.sport = load_u16be(h);
  out.dport = load_u16be(h + 2);
  out.seq = load_u32be(h + 4);
  out.ack = load_u32be(h + 8);
  out.flags = static_cast<uint16_t>(load_u16be(h + 12) & 0x01ff);
  out.window = load_u16be(h + 14);
  out.payload_len = static_cast<uint32_t>(l4.wire_len - header_len);
  out.options = tcp_options{};
  bool cut = captured < header_len;
  parse_tcp_options(bytes(h + 20, captured - 20), out.options, cut);
  if (cut) {
    out.options.truncated = true;
  }
  return decode_status::tcp;
}

}  // namespace synscope::wire
