#include "wire/filter.h"

#include <fmt/format.h>

#include "wire/libpcap.h"

namespace synscope::wire {

struct packet_filter::program {
  const libpcap* pcap = nullptr;
  bpf_program bpf{};
  explicit program(const libpcap* p) : pcap(p) {}
  program(const program&) = delete;
  program& operator=(const program&) = delete;
  ~program() { pcap->freecode(&bpf); }
};

namespace {

core::result<std::unique_ptr<packet_filter::program>> compile_for(const std::string& expression, uint16_t linktype) {
  auto pcap = load_libpcap();
  if (!pcap) return pcap.error();
  const libpcap& lib = **pcap;
  pcap_t* dead = lib.open_dead(linktype, 262144);
  if (dead == nullptr) {
    return core::error{core::exit_code::environment, "filter: pcap_open_dead failed"};
  }
  auto prog = std::make_unique<packet_filter::program>(*pcap);
  int rc = lib.compile(dead, &prog->bpf, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  std::string why = rc != 0 ? lib.geterr(dead) : "";
  lib.close(dead);
  if (rc != 0) {
    return core::error{core::exit_code::usage,
                       fmt::format("filter '{}': {} (link type {})", core::printable(expression), why, linktype)};
  }
  return prog;
}

}  // namespace

packet_filter::packet_filter(packet_filter&&) noexcept = default;
packet_filter& packet_filter::operator=(packet_filter&&) noexcept = default;
packet_filter::~packet_filter() = default;

core::result<packet_filter> packet_filter::compile(const std::string& expression) {
  packet_filter f;
  f.expression_ = expression;
  if (!expression.empty()) {
    auto ethernet = compile_for(expression, 1);  // syntax errors surface before any file is read
    if (!ethernet) return ethernet.error();
    f.programs_.emplace(1, std::move(*ethernet));
  }
  return f;
}

core::result<bool> packet_filter::matches(const frame& f) {
  if (expression_.empty()) return true;
  auto it = programs_.find(f.linktype);
  if (it == programs_.end()) {
    auto prog = compile_for(expression_, f.linktype);
    if (!prog) return prog.error();
    it = programs_.emplace(f.linktype, std::move(*prog)).first;
  }
  pcap_pkthdr hdr{};
  hdr.caplen = f.caplen;
  hdr.len = f.origlen;
  const program& p = *it->second;
  return p.pcap->offline_filter(&p.bpf, &hdr, reinterpret_cast<const u_char*>(f.data.data())) != 0;  // NOLINT
}

}  // namespace synscope::wire
