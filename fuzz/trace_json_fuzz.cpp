// Fuzzes the reader of `synscope trace --json` files that `analyze --trace FILE` takes: any
// text is a file a user may hand it. Errors are one line; each handshake read has its key and
// moments only from the fields it names.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "trace/trace_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT
  auto r = trace::read_trace_json(text, "fuzz.jsonl");
  if (!r) {
    fuzz::check(r.error().message.find('\n') == std::string::npos, "an error is one line");
    fuzz::check(r.error().code == core::exit_code::bad_data, "a bad file is bad data");
    return 0;
  }
  for (const auto& h : *r) {
    fuzz::check(h.moments.size() <= 7, "at most the seven moments a handshake has");
    for (const auto& [ns, what] : h.moments) fuzz::check(!what.empty() && what.find('\n') == std::string::npos, "labels are one line");
  }
  return 0;
}
