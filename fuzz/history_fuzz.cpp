// Fuzzes the parser of counters --delta's history file (kernel::parse_history): whatever a file
// at the history path holds, parsing ends, and what it gives back saves and parses again to the
// same values.
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_check.h"

#include "kernel/counters.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT
  auto h = kernel::parse_history(text);
  if (!h) return 0;
  std::string again = fmt::format("#synscope-counters {}\n", h->wall_ns);
  for (const auto& [name, value] : h->values) {
    fuzz::check(!name.empty() && name.find_first_of(" \t\n") == std::string::npos, "a name is one word");
    again += fmt::format("{} {}\n", name, value);
  }
  auto back = kernel::parse_history(again);
  fuzz::check(back.has_value(), "what was read writes back as a history");
  fuzz::check(back->wall_ns == h->wall_ns && back->values == h->values, "and reads back the same");
  return 0;
}
