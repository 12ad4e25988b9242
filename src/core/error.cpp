#include "core/error.h"

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

error system_error(std::string_view what, std::string_view syscall, int errnum) {
  return error{exit_code::environment,
               fmt::format("{}: {}: {} ({})", what, syscall, std::strerror(errnum), errno_name(errnum))};
}

}  // namespace synscope::core
