#include "core/text.h"

#include <fmt/format.h>

namespace synscope::core {

result<std::string> unescape(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) {
      return error{exit_code::usage, fmt::format("{}: a lone backslash at the end", what)};
    }
    char c = text[++i];
    switch (c) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '0': out.push_back('\0'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
        int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          return error{exit_code::usage, fmt::format("{}: \\x needs two hex digits (at byte {})", what, i - 1)};
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        return error{exit_code::usage, fmt::format("{}: unknown escape '\\{}' at byte {} (known: \\r \\n \\t \\0 \\\\ \\xHH)",
                                                   what, printable(std::string_view(&c, 1)), i - 1)};
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s, bool html_safe) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || (html_safe && (c == '<' || c == '>' || c == '&'))) {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace synscope::core
