#include "wire/reassembly.h"

#include <algorithm>
#include <cstring>

namespace synscope::wire {
namespace {
constexpr uint32_t max_datagram_bytes = 65535;
}

void ip_reassembler::drop(std::map<key, datagram>::iterator it) {
  stats_.dropped += it->second.frames;
  pending_.erase(it);
}

void ip_reassembler::expire(int64_t now_ns) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto here = it++;
    if (now_ns - here->second.first_ns > timeout_ns) drop(here);
  }
}

void ip_reassembler::finish() {
  while (!pending_.empty()) drop(pending_.begin());
}

bytes ip_reassembler::add(const ip_fragment& f, const packet_view& outer, int64_t ts_ns) {
  if ((++adds_ & 1023) == 0) expire(ts_ns);
  key k;
  k.version = f.version;
  k.protocol = f.protocol;
  k.vlan_count = outer.vlan_count;
  k.vlan = outer.vlan;
  k.id = f.id;
  k.src = f.src;
  k.dst = f.dst;
  auto it = pending_.find(k);
  if (it == pending_.end()) {
    if (pending_.size() >= max_datagrams) {  // full: the oldest goes
      auto oldest = std::min_element(pending_.begin(), pending_.end(),
                                     [](const auto& a, const auto& b) { return a.second.first_ns < b.second.first_ns; });
      drop(oldest);
    }
    it = pending_.emplace(k, datagram{}).first;
    it->second.first_ns = ts_ns;
  }
  datagram& d = it->second;
  ++d.frames;
  uint32_t begin = f.offset;
  uint32_t end = f.offset + f.payload_wire_len;
  // Data the capture cut (a short snaplen), beyond what an IP datagram can hold, or past the end
  // a last fragment set: nothing whole can come of it.
  if (f.payload.size() != f.payload_wire_len || end > max_datagram_bytes || (d.have_last && end > d.total) ||
      (!f.more && end < d.data.size())) {
    drop(it);
    return {};
  }
  // An overlap drops the datagram (RFC 5722; Linux does the same for IPv4).
  for (const auto& [b, e] : d.have) {
    if (begin < e && b < end) {
      drop(it);
      return {};
    }
  }
  if (d.data.size() < end) d.data.resize(end);
  if (!f.payload.empty()) std::memcpy(d.data.data() + begin, f.payload.data(), f.payload.size());
  d.have.emplace_back(begin, end);
  std::sort(d.have.begin(), d.have.end());
  if (begin == 0) d.header.assign(f.header.begin(), f.header.end());
  if (!f.more) {
    d.have_last = true;
    d.total = end;
  }
  if (!d.have_last || d.header.empty()) return {};
  uint32_t covered = 0;
  for (const auto& [b, e] : d.have) {
    if (b > covered) return {};  // a hole
    covered = std::max(covered, e);
  }
  if (covered < d.total) return {};

  // Whole: the first fragment's header, told that it is whole, then the data.
  out_.assign(d.header.begin(), d.header.end());
  out_.insert(out_.end(), d.data.begin(), d.data.begin() + d.total);
  if (f.version == 4) {
    size_t total = d.header.size() + d.total;
    out_[2] = static_cast<std::byte>(total >> 8);
    out_[3] = static_cast<std::byte>(total & 0xff);
    out_[6] = std::byte{0};  // no fragment offset, no more fragments
    out_[7] = std::byte{0};
  } else {
    out_[4] = static_cast<std::byte>(d.total >> 8);
    out_[5] = static_cast<std::byte>(d.total & 0xff);
    out_[6] = static_cast<std::byte>(f.protocol);  // what followed the fragment header
    std::memcpy(out_.data() + 24, f.dst.bytes.data(), 16);  // the final destination (a routing header is not kept)
  }
  stats_.datagrams += 1;
  stats_.fragments += d.frames;
  pending_.erase(it);
  return bytes(out_.data(), out_.size());
}

decode_status frame_decoder::decode(uint16_t linktype, bytes frame, int64_t ts_ns, packet_view& out) {
  decode_status s = wire::decode(linktype, frame, out, &fragment_);
  if (s != decode_status::fragment) return s;
  bytes whole = reassembler_.add(fragment_, out, ts_ns);
  if (whole.empty()) return decode_status::fragment;
  uint8_t vlan_count = out.vlan_count;
  auto vlan = out.vlan;
  s = wire::decode(fragment_.version == 4 ? 228 : 229, whole, out);  // LINKTYPE_IPV4, LINKTYPE_IPV6
  out.vlan_count = vlan_count;  // the link layer's tags, which the datagram itself does not carry
  out.vlan = vlan;
  return s;
}

}  // namespace synscope::wire
