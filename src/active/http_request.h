#pragma once
// The request side of `synscope serve --mode http`: finding one HTTP/1.x request at the start
// of what a client sent. Pure, so that a fuzz target can feed it anything.
//
//   auto r = active::parse_http_request(buffer, 16 * 1024);
//   if (r.kind == active::http_parse::request) { answer(r.keep_alive, r.head); buffer.erase(0, r.consumed); }
#include <cstddef>
#include <string_view>

namespace synscope::active {

struct http_parse {
  enum kind_t {
    need_more,   ///< no whole request yet (head or body still coming)
    request,     ///< one whole request: `consumed` bytes (head, blank line, body)
    bad,         ///< not a request line of HTTP/1.0 or 1.1, or a bad Content-Length: answer 400, close
    too_large,   ///< no end of the head within `max_head` bytes: answer 431, close
  };
  kind_t kind = need_more;
  size_t consumed = 0;
  bool keep_alive = false;  ///< HTTP/1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  bool head = false;        ///< a HEAD request: the answer has no body
  /// need_more with the head complete and a body still coming, and the client sent "Expect:
  /// 100-continue": it waits for "100 Continue" before it sends the body (RFC 9110 §10.1.1),
  /// as curl does for bodies over 1 KiB.
  bool expect_continue = false;
};

/// Looks at the start of `in` for one request. Content-Length bodies (up to 1 MiB) are part
/// of the request; chunked bodies are not supported (the request is taken without them).
http_parse parse_http_request(std::string_view in, size_t max_head);

}  // namespace synscope::active
