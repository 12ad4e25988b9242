#pragma once
// IP reassembly: fragments kept until their datagram is whole (a fragmented SYN is still a SYN),
// and a frame decoder that does it on the way.
//
//   wire::frame_decoder d;
//   for each frame: if (d.decode(f.linktype, f.data, f.ts_ns, view) == wire::decode_status::tcp) use(view);
//   d.stats();   // datagrams reassembled, fragments used, fragments given up on
//
// As Linux reassembles (net/ipv4/ip_fragment.c, RFC 5722 for IPv6): fragments of one datagram
// share source, destination, identification, protocol (and here VLANs); a fragment that
// overlaps another makes the whole datagram be dropped; a datagram not whole 30 s (of capture
// time) after its first fragment is dropped; at most 4096 datagrams at once and 64 KiB each.
#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "wire/packet.h"

namespace synscope::wire {

struct reassembly_stats {
  uint64_t datagrams = 0;      ///< made whole
  uint64_t fragments = 0;      ///< frames that went into a whole datagram
  uint64_t dropped = 0;        ///< fragments of datagrams given up on (overlap, timeout, limits, cut by the snaplen)
};

class ip_reassembler {
 public:
  static constexpr size_t max_datagrams = 4096;
  static constexpr int64_t timeout_ns = 30'000'000'000;

  /// One fragment seen at `ts_ns`, behind the VLAN tags of `outer`. Returns the whole datagram
  /// as a raw IP packet (header, then every byte of data) when this fragment completes one, or
  /// an empty span; the bytes stay valid until the next call.
  bytes add(const ip_fragment& f, const packet_view& outer, int64_t ts_ns);
  /// Fragments still held for datagrams that are not whole, given up on: counted as dropped.
  void finish();
  [[nodiscard]] const reassembly_stats& stats() const { return stats_; }

 private:
  struct key {
    uint8_t version = 0;
    uint8_t protocol = 0;
    uint8_t vlan_count = 0;
    std::array<uint16_t, 3> vlan{};
    uint32_t id = 0;
    ip_address src;
    ip_address dst;
    friend auto operator<=>(const key& a, const key& b) {
      if (auto c = std::tie(a.version, a.protocol, a.vlan_count, a.vlan, a.id) <=>
                   std::tie(b.version, b.protocol, b.vlan_count, b.vlan, b.id);
          c != 0) {
        return c;
      }
      if (auto c = a.src.bytes <=> b.src.bytes; c != 0) return c;
      return a.dst.bytes <=> b.dst.bytes;
    }
    friend bool operator==(const key&, const key&) = default;
  };
  struct datagram {
    std::vector<std::byte> header;             // the first fragment's IP header
    std::vector<std::byte> data;               // bytes at their offsets
    std::vector<std::pair<uint32_t, uint32_t>> have;  // [begin, end) ranges received, sorted
    uint32_t total = 0;                        // known once the last fragment came
    bool have_last = false;
    int64_t first_ns = 0;
    uint32_t frames = 0;
  };
  void drop(std::map<key, datagram>::iterator it);
  void expire(int64_t now_ns);

  std::map<key, datagram> pending_;
  std::vector<std::byte> out_;
  reassembly_stats stats_;
  uint64_t adds_ = 0;
};

/// decode() with reassembly: a fragment is held (decode_status::fragment) until its datagram is
/// whole; the fragment that completes it gives the datagram's segment. One per input stream.
class frame_decoder {
 public:
  decode_status decode(uint16_t linktype, bytes frame, int64_t ts_ns, packet_view& out);
  void finish() { reassembler_.finish(); }
  [[nodiscard]] const reassembly_stats& stats() const { return reassembler_.stats(); }

 private:
  ip_reassembler reassembler_;
  ip_fragment fragment_;
};

}  // namespace synscope::wire
