// Fuzzes the request parser of `synscope serve --mode http`: anything a client sends. It is
// driven as the server drives it (requests taken one after another until one is incomplete or
// wrong), and its promises are checked: progress on every request, never past the input.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "active/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT
  constexpr size_t max_head = 16 * 1024;
  for (int requests = 0; requests < 10'000; ++requests) {
    auto r = active::parse_http_request(in, max_head);
    if (r.kind == active::http_parse::need_more) {
      fuzz::check(in.size() <= max_head || in.find("\r\n\r\n") != std::string_view::npos,
                  "more than the head limit without an end is too_large, not need_more");
      return 0;
    }
    if (r.kind != active::http_parse::request) return 0;  // 400 or 431: the server closes
    fuzz::check(r.consumed >= 4 && r.consumed <= in.size(), "a request is consumed within the input");
    fuzz::check(in.substr(0, r.consumed).find("\r\n\r\n") != std::string_view::npos, "a request has a whole head");
    in.remove_prefix(r.consumed);
  }
  return 0;
}
