// Fuzzes what /probe reads from outside: the query string of a request (anyone who reaches the
// exporter) and the YAML module file (through libyaml). The first byte chooses which. Promises
// checked: a query either names a target or is refused with the 400 text, and a file that
// parses has an allow-list and a module, each module a positive timeout.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"

#include "exporter/probe_config.h"
#include "exporter/probe_endpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);  // NOLINT
  if (data[0] % 2 == 0) {
    auto q = exporter::parse_probe_query(in);
    if (q) {
      fuzz::check(!q->target.empty() && !q->module.empty(), "a parsed query has a target and a module");
    } else {
      fuzz::check(q.error().message == "Target parameter is missing", "the only refusal is a missing target");
    }
    return 0;
  }
  auto c = exporter::parse_probe_config(in, "fuzz.yml");
  if (c) {
    fuzz::check(!c->allowed.empty() && !c->modules.empty(), "a parsed file has an allow-list and a module");
    for (const auto& m : c->modules) fuzz::check(m.timeout_ns > 0, "every module has a positive timeout");
  } else {
    fuzz::check(c.error().message.rfind("fuzz.yml:", 0) == 0, "an error names the file");
    fuzz::check(c.error().message.find('\n') == std::string::npos, "an error is one line");
  }
  return 0;
}
