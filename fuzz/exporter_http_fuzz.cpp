// Fuzzes the exporter's request-head parser: anything a client of /metrics sends. Driven as the
// server drives it (heads taken one after another from the same buffer, as pipelined requests
// are), and its promises are checked: a whole head is consumed within the input and within the
// limit, its path is a view into the input, and more than the limit without an end is too_large.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "exporter/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT
  constexpr size_t max_head = 8192;
  for (int requests = 0; requests < 10'000; ++requests) {
    auto r = exporter::parse_request(in, max_head);
    if (r.kind == exporter::request::need_more) {
      fuzz::check(in.size() < max_head, "a buffer as long as the limit without a whole head is too_large");
      return 0;
    }
    if (r.kind != exporter::request::whole) return 0;  // 400 or 431: the server closes
    fuzz::check(r.consumed >= 4 && r.consumed <= in.size() && r.consumed <= max_head, "a head is consumed within the input");
    fuzz::check(in.substr(r.consumed - 4, 4) == "\r\n\r\n", "a head ends with its blank line");
    fuzz::check(r.path.empty() || (r.path.data() >= in.data() && r.path.data() + r.path.size() <= in.data() + r.consumed),
                "the path is a view into the head");
    in.remove_prefix(r.consumed);
  }
  return 0;
}
