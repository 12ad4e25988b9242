#include "active/http_request.h"

#include <cctype>

namespace synscope::active {
namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

http_parse parse_http_request(std::string_view in, size_t max_head) {
  http_parse out;
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > max_head) out.kind = http_parse::too_large;
    return out;
  }
  if (end > max_head) {
    out.kind = http_parse::too_large;
    return out;
  }
  std::string_view head = in.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  bool http10 = ends_with(request_line, " HTTP/1.0");
  bool valid = request_line.find(' ') != 0 && (http10 || ends_with(request_line, " HTTP/1.1"));
  out.head = request_line.substr(0, 5) == "HEAD ";
  out.keep_alive = !http10;
  size_t body = 0;
  bool expect_continue = false;
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view field = head.substr(pos, next - pos);
    if (iequals_prefix(field, "connection:")) {
      std::string_view v = trim(field.substr(11));
      if (iequals_prefix(v, "close")) out.keep_alive = false;
      if (iequals_prefix(v, "keep-alive")) out.keep_alive = true;
    } else if (iequals_prefix(field, "expect:")) {
      expect_continue = iequals_prefix(trim(field.substr(7)), "100-continue");
    } else if (iequals_prefix(field, "content-length:")) {
      std::string_view v = trim(field.substr(15));
      body = 0;
      if (v.empty()) valid = false;
      for (char ch : v) {
        if (ch < '0' || ch > '9' || body > (size_t{1} << 20)) {
          valid = false;
          break;
        }
        body = body * 10 + static_cast<size_t>(ch - '0');
      }
    }
    pos = next + 2;
  }
  if (!valid) {
    out.kind = http_parse::bad;
    return out;
  }
  if (in.size() - (end + 4) < body) {  // the body is still coming
    out.expect_continue = expect_continue;
    return out;
  }
  out.kind = http_parse::request;
  out.consumed = end + 4 + body;
  return out;
}

}  // namespace synscope::active
