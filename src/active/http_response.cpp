#include "active/http_response.h"

#include <strings.h>

#include <cctype>
#include <optional>

namespace synscope::active {
namespace {

// A decimal or hexadecimal number of at most 15 digits (a length under 2^60), or nullopt.
std::optional<uint64_t> number(std::string_view s, int base) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : base == 16 && std::isxdigit(static_cast<unsigned char>(c)) ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                                                                           : -1;
    if (d < 0) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return v;
}

bool field_is(std::string_view field, std::string_view name) {
  return field.size() > name.size() && field[name.size()] == ':' && strncasecmp(field.data(), name.data(), name.size()) == 0;
}

// Where the chunked body starting at `at` ends (after the last chunk's trailers), or 0 when it
// has not all come; nullopt when a chunk size is not one.
std::optional<size_t> chunked_end(std::string_view in, size_t at) {
  for (;;) {
    size_t line_end = in.find("\r\n", at);
    if (line_end == std::string_view::npos) return in.size() - at > 1024 ? std::nullopt : std::optional<size_t>(0);
    std::string_view size_line = in.substr(at, line_end - at);
    size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions
    auto size = number(size_line, 16);
    if (!size) return std::nullopt;
    at = line_end + 2;
    if (*size == 0) {
      // Trailer fields, each a line, then an empty line.
      for (;;) {
        size_t end = in.find("\r\n", at);
        if (end == std::string_view::npos) return in.size() - at > max_reply_head ? std::nullopt : std::optional<size_t>(0);
        if (end == at) return end + 2;
        at = end + 2;
      }
    }
    if (in.size() - at < *size + 2) return 0;
    at += *size;
    if (in.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
  }
}

}  // namespace

http_reply parse_http_response(std::string_view in, bool head_request, bool at_eof) {
  http_reply r;
  size_t start = 0;
  for (;;) {
    std::string_view rest = in.substr(start);
    size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      r.kind = rest.size() > max_reply_head ? http_reply::bad : http_reply::need_more;
      return r;
    }
    if (end > max_reply_head) return {http_reply::bad};
    std::string_view head = rest.substr(0, end);
    // "HTTP/1.1 200 OK": the version, a space, three digits.
    if (head.size() < 12 || head.substr(0, 7) != "HTTP/1." || head[8] != ' ') return {http_reply::bad};
    auto status = number(head.substr(9, 3), 10);
    if (!status || *status < 100 || (head.size() > 12 && head[12] != ' ')) return {http_reply::bad};
    r.status = static_cast<int>(*status);
    std::optional<uint64_t> length;
    bool chunked = false;
    for (size_t pos = head.find("\r\n"); pos != std::string_view::npos && pos < head.size();) {
      pos += 2;
      size_t next = head.find("\r\n", pos);
      std::string_view field = head.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
      if (field_is(field, "content-length")) {
        auto v = number(field.substr(15), 10);
        if (!v || (length && *length != *v)) return {http_reply::bad};
        length = v;
      } else if (field_is(field, "transfer-encoding")) {
        std::string_view coding = field.substr(18);
        while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
        chunked = coding.size() >= 7 && strncasecmp(coding.data() + coding.size() - 7, "chunked", 7) == 0;
      }
      pos = next;
    }
    size_t body = start + end + 4;
    if (r.status < 200) {  // 100 Continue, 103 Early Hints: the answer follows
      start = body;
      continue;
    }
    r.chunked = chunked;
    if (head_request || r.status == 204 || r.status == 304) {
      r.kind = http_reply::complete;
      r.consumed = body;
      return r;
    }
    if (chunked) {  // wins over a Content-Length (RFC 9112 §6.3)
      auto e = chunked_end(in, body);
      if (!e) return {http_reply::bad, r.status};
      if (*e == 0) return {http_reply::need_more, r.status};
      r.kind = http_reply::complete;
      r.consumed = *e;
      return r;
    }
    if (length) {
      if (in.size() - body < *length) return {http_reply::need_more, r.status};
      r.kind = http_reply::complete;
      r.consumed = body + static_cast<size_t>(*length);
      return r;
    }
    // Delimited by the close.
    if (!at_eof) return {http_reply::need_more, r.status};
    r.kind = http_reply::complete;
    r.consumed = in.size();
    return r;
  }
}

}  // namespace synscope::active
