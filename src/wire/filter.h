#pragma once
// tcpdump filter expressions ("port 443 and host 10.0.0.1") applied to frames, with libpcap's
// own compiler (pcap_compile on a dead handle per link type) and pcap_offline_filter.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "wire/capture_reader.h"

namespace synscope::wire {

class packet_filter {
 public:
  /// An empty expression matches everything. The expression is checked at once (for Ethernet);
  /// a syntax error is a usage error carrying libpcap's message.
  static core::result<packet_filter> compile(const std::string& expression);

  packet_filter(packet_filter&&) noexcept;
  packet_filter& operator=(packet_filter&&) noexcept;
  ~packet_filter();

  /// True when `f` passes. The program for a link type is compiled the first time one is seen
  /// (a pcapng file may mix several); a link type libpcap cannot filter is an error.
  core::result<bool> matches(const frame& f);
  [[nodiscard]] bool empty() const { return expression_.empty(); }

  struct program;  ///< a compiled BPF program (opaque: libpcap stays out of this header)

 private:
  packet_filter() = default;
  std::string expression_;
  std::unordered_map<uint16_t, std::unique_ptr<program>> programs_;
};

}  // namespace synscope::wire
