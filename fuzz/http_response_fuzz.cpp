// Fuzzes the reply parser of `synscope bench`: anything a server sends back. Its promises are
// checked: a complete reply lies within the input and has a status; a prefix of a complete reply
// (with the close not yet seen) is never complete before it.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"

#include "active/http_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace synscope;
  std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT
  bool head = size > 0 && (data[0] & 1) != 0;
  for (bool eof : {false, true}) {
    auto r = active::parse_http_response(in, head, eof);
    if (r.kind != active::http_reply::complete) continue;
    fuzz::check(r.consumed <= in.size(), "a reply ends within the input");
    fuzz::check(r.status >= 200 && r.status <= 999, "a final reply has a final status");
    if (!eof) {
      auto shorter = active::parse_http_response(in.substr(0, r.consumed), head, false);
      fuzz::check(shorter.kind == active::http_reply::complete && shorter.consumed == r.consumed,
                  "the reply alone is the same reply");
    }
  }
  return 0;
}
