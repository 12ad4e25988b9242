// Fuzzes the tuning profile parser and the value validator: any text is a profile file a user
// may hand to `synscope tune --profile`. Errors must be one line; parsed settings must be sane.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "tune/profile.h"
#include "tune/sysctl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT
  auto p = tune::parse_profile(text, "fuzz.conf");
  if (!p) {
    fuzz::check(p.error().message.find('\n') == std::string::npos, "an error is one line");
    return 0;
  }
  for (const auto& s : p->settings) {
    fuzz::check(!s.key.empty() && !s.value.empty(), "a setting has a key and a value");
    fuzz::check(s.key.find('/') == std::string::npos, "slashes became dots");
    auto v = tune::validate(s.key, s.value);
    if (!v) fuzz::check(v.error().message.find('\n') == std::string::npos, "a validation error is one line");
  }
  return 0;
}
