#pragma once
// Reading back what `synscope trace --json` wrote: each handshake's key and the server kernel's
// moments, to draw them on the ladder of the same connection in a capture
// (`synscope analyze FILE --ladder ID --trace TRACE.jsonl`).
//
//   auto traced = trace::read_trace_json(text, "trace.jsonl");
//   for (const auto& h : *traced) if (h.client == "127.0.0.1:40000" && h.client_isn == isn) ...
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace synscope::trace {

/// One handshake object: its key as written ("127.0.0.1:40000", "[::1]:80") and its moments
/// (nanoseconds since the epoch, what happened), in the order of the kernel's path.
struct traced_handshake {
  std::string client;
  std::string server;
  uint32_t client_isn = 0;
  std::vector<std::pair<int64_t, std::string>> moments;
};

/// The handshake objects of `text` (JSON lines; other objects and blank lines are skipped).
/// A line that is not a JSON object, or a handshake whose key or moments are not of their types,
/// is a bad_data error naming `source` and the line number.
core::result<std::vector<traced_handshake>> read_trace_json(std::string_view text, std::string_view source);

}  // namespace synscope::trace
