#pragma once
// Reading a whole file, writing one so that a reader (or a power cut) never sees half of it, and
// working inside a folder through its descriptor, so that nobody can swap a path under us.
//
//   auto text = core::read_file("/proc/net/snmp");
//   if (auto w = core::write_file_atomically("out.html", html); !w) return fail(w.error());
//
//   core::unique_fd dir = ...;                        // a folder opened once, checked with fstat
//   core::write_new_file_at(dir.get(), "META", meta, 0600, "backup META");
#include <sys/stat.h>

#include <string>

#include "core/error.h"

namespace synscope::core {

/// The whole of `path`. Errors name `path` and the failing call (exit 3).
result<std::string> read_file(const std::string& path);

/// The rest of the open file `fd`, to its end. Errors name `shown` (exit 3).
result<std::string> read_fd(int fd, const std::string& shown);

/// Writes `text` to a temporary file beside `path` (with `mode`), fsyncs it, renames it over
/// `path` and fsyncs the directory. On any failure the temporary file is removed and `path` is
/// as it was. Errors name `path` and the failing call (exit 3).
result<void> write_file_atomically(const std::string& path, const std::string& text, mode_t mode = 0644);

/// Creates `name` in the folder open as `dirfd` (O_EXCL, O_NOFOLLOW: never an existing file or
/// a link), with `mode`, writes `text` and fsyncs it. Errors name `shown` (exit 3).
result<void> write_new_file_at(int dirfd, const std::string& name, const std::string& text, mode_t mode,
                               const std::string& shown);

/// The whole of the regular file `name` in the folder open as `dirfd`, opened without following
/// a link; `st` (when given) gets fstat of the opened file. A link or a non-regular file is an
/// error (ELOOP / EINVAL, exit 3). Errors name `shown`.
result<std::string> read_file_at(int dirfd, const std::string& name, const std::string& shown, struct stat* st = nullptr);

/// Removes `name` in the folder open as `dirfd` and, for a folder, everything below it; links
/// are removed, never followed (each folder is opened O_NOFOLLOW before it is read).
result<void> remove_tree_at(int dirfd, const std::string& name);

/// Whether a file can be written at `path`, checked before the work that produces it: its folder
/// exists and may be written, and `path` is not a folder. Errors name `what` ("--report") and
/// the path: a usage error (exit 2) for a folder that does not exist or a path that is a folder,
/// exit 3 for one that may not be written (permissions, a read-only file system).
result<void> check_output_path(const std::string& path, const std::string& what);

/// OpenSSH's StrictModes for one opened file or folder: owned by root or by the user running
/// us, and writable by nobody else (no group or other write bit). Otherwise a bad_data error
/// (exit 4): "<shown>: refused: owned by uid 1000, not root" or "... writable by group or others (mode 0777)".
result<void> check_owned_safely(const struct stat& st, const std::string& shown);

}  // namespace synscope::core
