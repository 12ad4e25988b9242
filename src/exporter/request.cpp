#include "exporter/request.h"

#include <cctype>

namespace synscope::exporter {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool icontains(std::string_view text, std::string_view token) {
  if (token.size() > text.size()) return false;
  for (size_t i = 0; i + token.size() <= text.size(); ++i) {
    if (iequals(text.substr(i, token.size()), token)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "10", "9.5": a positive number of seconds, or 0 for anything else (the header is advice).
double parse_seconds(std::string_view v) {
  double whole = 0;
  double scale = 0;
  bool digits = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      digits = true;
      if (scale == 0) {
        whole = whole * 10 + (c - '0');
      } else {
        whole += (c - '0') * scale;
        scale /= 10;
      }
      if (whole > 1e9) return 0;
    } else if (c == '.' && scale == 0) {
      scale = 0.1;
    } else {
      return 0;
    }
  }
  return digits ? whole : 0;
}

}  // namespace

request parse_request(std::string_view in, size_t max_head) {
  request r;
  size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos || end + 4 > max_head) {
    if (in.size() >= max_head || end != std::string_view::npos) r.kind = request::too_large;
    return r;
  }
  r.consumed = end + 4;
  std::string_view head = in.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  // METHOD SP TARGET SP HTTP/1.x
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    r.kind = request::bad;
    return r;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  bool http10 = version == "HTTP/1.0";
  if (!http10 && version != "HTTP/1.1") {
    r.kind = request::bad;
    return r;
  }
  r.method = method == "GET" ? request::get : method == "HEAD" ? request::head : request::other;
  size_t question = target.find('?');
  r.path = target.substr(0, question);
  if (question != std::string_view::npos) r.query = target.substr(question + 1);
  r.keep_alive = !http10;
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view field = head.substr(pos, next - pos);
    pos = next + 2;
    size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      r.kind = request::bad;
      return r;
    }
    std::string_view name = field.substr(0, colon);
    std::string_view value = trim(field.substr(colon + 1));
    if (iequals(name, "connection")) {
      if (icontains(value, "close")) r.keep_alive = false;
      if (icontains(value, "keep-alive")) r.keep_alive = true;
    } else if (iequals(name, "accept")) {
      r.openmetrics = r.openmetrics || icontains(value, "application/openmetrics-text");
    } else if (iequals(name, "accept-encoding")) {
      r.gzip = r.gzip || icontains(value, "gzip");
    } else if (iequals(name, "content-length")) {
      r.has_body = r.has_body || (value != "0" && !value.empty());
    } else if (iequals(name, "transfer-encoding")) {
      r.has_body = true;
    } else if (iequals(name, "x-prometheus-scrape-timeout-seconds")) {
      r.scrape_timeout_s = parse_seconds(value);
    }
  }
  r.kind = request::whole;
  return r;
}

}  // namespace synscope::exporter
