// Fuzzes the /proc/net parsers: the first byte picks snmp/netstat pairs (0), snmp6 lines (1)
// or sockstat (2), modulo 3; the rest is the file's text. Errors must be one line.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "kernel/counters.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);  // NOLINT
  if (data[0] % 3 == 2) {
    auto tcp = kernel::parse_sockstat_tcp(text, "sockstat");
    if (!tcp) fuzz::check(tcp.error().message.find('\n') == std::string::npos, "an error is one line");
    return 0;
  }
  std::vector<kernel::counter> out;
  auto r = data[0] % 3 == 1 ? kernel::parse_snmp6(text, "snmp6", out) : kernel::parse_snmp_pairs(text, "snmp", out);
  if (!r.ok()) {
    fuzz::check(r.error().message.find('\n') == std::string::npos, "an error is one line");
  }
  for (const auto& c : out) fuzz::check(!c.name.empty(), "every counter has a name");
  return 0;
}
