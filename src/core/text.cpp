#include "core/text.h"

#include <algorithm>
#include <vector>

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
  // Runs of characters that need no escape (nearly all of them) are appended whole.
  auto plain = [html_safe](unsigned char u) {
    return u >= 0x20 && u != '"' && u != '\\' && !(html_safe && (u == '<' || u == '>' || u == '&'));
  };
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (plain(u)) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (u) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += fmt::format("\\u{:04x}", u);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the optimal string alignment table (Levenshtein plus adjacent transposition).
  std::vector<size_t> before(b.size() + 1);
  std::vector<size_t> last(b.size() + 1);
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) last[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({last[j] + 1, row[j - 1] + 1, last[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, last);
    std::swap(last, row);
  }
  return last[b.size()];
}

}  // namespace

std::string closest_word(std::string_view word, const std::vector<std::string>& candidates) {
  size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace synscope::core
