#include "core/error.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace synscope::core {

std::string errno_name(int errnum) {
  // strerrorname_np is glibc >= 2.32; it returns nullptr for values it does not know.
  if (const char* name = strerrorname_np(errnum)) {
    return name;
  }
  return fmt::format("E{}", errnum);
}

namespace {
std::string escaped(std::string_view text, size_t max_len, bool keep_lines) {
  std::string out;
  size_t n = std::min(text.size(), max_len);
  for (size_t i = 0; i < n; ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u == '\\') {
      out += "\\\\";
    } else if (keep_lines && (u == '\n' || u == '\t')) {
      out += static_cast<char>(u);
    } else if (u < 0x20 || u == 0x7f || u >= 0x80) {
      // Non-ASCII bytes are escaped too: a message must not carry invalid UTF-8 to a terminal.
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += static_cast<char>(u);
    }
  }
  if (text.size() > max_len) {
    out += "...";
  }
  return out;
}
}  // namespace

std::string printable(std::string_view text, size_t max_len) { return escaped(text, max_len, false); }

std::string printable_lines(std::string_view text) { return escaped(text, text.size(), true); }

error system_error(std::string_view what, std::string_view syscall, int errnum) {
  return error{exit_code::environment,
               fmt::format("{}: {}: {} ({})", what, syscall, std::strerror(errnum), errno_name(errnum))};
}

}  // namespace synscope::core
