#pragma once
// Reading a whole file, and writing one so that a reader (or a power cut) never sees half of it.
//
//   auto text = core::read_file("/proc/net/snmp");
//   if (auto w = core::write_file_atomically("out.html", html); !w) return fail(w.error());
#include <string>

#include "core/error.h"

namespace synscope::core {

/// The whole of `path`. Errors name `path` and the failing call (exit 3).
result<std::string> read_file(const std::string& path);

/// Writes `text` to a temporary file beside `path` (mode 0644), fsyncs it, renames it over
/// `path` and fsyncs the directory. On any failure the temporary file is removed and `path` is
/// as it was. Errors name `path` and the failing call (exit 3).
result<void> write_file_atomically(const std::string& path, const std::string& text);

}  // namespace synscope::core
