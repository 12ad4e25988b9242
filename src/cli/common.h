#pragma once
// Small things every command's rendering shares.
#include <system_error>

#include "core/error.h"

namespace synscope::cli {

/// Prints "synscope: <message>" to stderr and returns the error's exit code.
int fail(const core::error& e);

/// Standard streams the caller closed (`>&-`) are taken by /dev/null opened read-only: no file
/// opened later becomes "standard output", and a write there fails (EBADF) and is reported.
void hold_standard_streams();

/// After a command: flushes standard output and, when a write to it failed (a full disk, a
/// closed or read-only descriptor), says so in one line and returns 3 instead of `rc`: what
/// the command found did not reach its reader.
int finish_output(int rc);

/// A write to standard output failed (fmt throws std::system_error): the line for it, exit 3.
int output_failed(const std::system_error& e);

}  // namespace synscope::cli
