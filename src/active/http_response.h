#pragma once
// The reply side of `synscope bench` against an HTTP server: where one HTTP/1.x response ends
// in what the server sent, and its status. Pure, so that a fuzz target can feed it anything.
//
//   auto r = active::parse_http_response(reply, false, at_eof);
//   if (r.kind == active::http_reply::complete) ++status_counts[r.status];
//
// The body is delimited as RFC 9112 §6.3 says: no body for 1xx, 204 and 304 answers or a HEAD
// request; a chunked body to its last chunk and trailers; a Content-Length body to its length;
// otherwise everything up to the server's close. Interim 1xx answers (100 Continue) are skipped.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace synscope::active {

struct http_reply {
  enum kind_t {
    need_more,  ///< no whole response yet
    complete,   ///< one whole response: `consumed` bytes, `status`
    bad,        ///< not an HTTP/1.x status line, a bad length or chunk size, a head over the limit
  };
  kind_t kind = need_more;
  int status = 0;       ///< 100..999
  size_t consumed = 0;  ///< through the end of the body (interim answers included)
  bool chunked = false;
};

/// The longest response head taken (ab's is 8 KiB; nginx's default buffer is 8 KiB, then 32 KiB).
inline constexpr size_t max_reply_head = 64 * 1024;

/// `head_request`: the request was HEAD (no body follows). `at_eof`: the server has closed, so
/// a body delimited by the close is complete.
http_reply parse_http_response(std::string_view in, bool head_request, bool at_eof);

}  // namespace synscope::active
