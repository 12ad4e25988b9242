// Fuzzes endpoint and duration parsing (command-line text is untrusted input too), checking
// the parser's promises rather than only "no crash": a parsed endpoint has a port unless port
// 0 was allowed, a bracketed or multi-colon host is a valid IPv6 literal, errors are one line,
// and formatting a parsed IPv6 endpoint and parsing it again gives the same endpoint.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "core/duration.h"
#include "core/endpoint.h"

using synscope::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope::core;
  std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT

  for (bool zero_ok : {false, true}) {
    auto r = parse_endpoint(text, {.default_port = 80, .allow_port_zero = zero_ok});
    if (!r.ok()) {
      check(r.error().code == exit_code::usage, "parse errors are usage errors");
      check(r.error().message.find('\n') == std::string::npos, "errors are one line");
      continue;
    }
    check(zero_ok || r->port != 0, "port 0 only when allowed");
    check(!r->host.empty(), "host is never empty");
    check(r->host.find('\0') == std::string::npos, "no NUL survives into a host");
    if (r->host.find(':') != std::string::npos) {
      std::string addr = r->host.substr(0, r->host.find('%'));
      in6_addr out{};
      check(inet_pton(AF_INET6, addr.c_str(), &out) == 1, "a host with ':' is an IPv6 literal");
      std::string again = "[" + r->host + "]:" + std::to_string(r->port);
      auto r2 = parse_endpoint(again, {.allow_port_zero = zero_ok});
      check(r2.ok() && r2->host == r->host && r2->port == r->port, "IPv6 endpoints round-trip");
    }
  }
  auto d = parse_duration(text, "-i");
  check(!d.ok() || *d >= 0, "durations are not negative");
  return 0;
}
