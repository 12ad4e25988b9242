#pragma once
// Writing a file so that a reader (or a power cut) never sees half of it.
//
//   if (auto w = core::write_file_atomically("out.html", html); !w) return fail(w.error());
#include <string>

#include "core/error.h"

namespace synscope::core {

/// Writes `text` to a temporary file beside `path` (mode 0644), fsyncs it, renames it over
/// `path` and fsyncs the directory. On any failure the temporary file is removed and `path` is
/// as it was. Errors name `path` and the failing call (exit 3).
result<void> write_file_atomically(const std::string& path, const std::string& text);

}  // namespace synscope::core
