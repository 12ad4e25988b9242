#pragma once
// Small things every command's rendering shares.
#include <system_error>

#include <CLI/CLI.hpp>

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

/// An option given twice takes its last value, as ping and curl do (`-c 3 -c 5` counts five), for
/// every single-valued option of `app` and its subcommands; lists keep every value.
void take_last_values(CLI::App& app);

/// A command line CLI11 refused, in synscope's words on one line, with the exit code for usage:
/// a mistyped command or option with the nearest known one ("did you mean"), a value that is
/// not a number as "--count 'abc': not a number".
int usage_failure(const CLI::App& app, const CLI::ParseError& e);

}  // namespace synscope::cli
