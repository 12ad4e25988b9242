#pragma once
// Errors and exit codes.
//
// Untrusted input and likely environment failures return a value, never throw:
//
//   core::result<core::endpoint_spec> spec = core::parse_endpoint("[::1]:80", {});
//   if (!spec) { fmt::print(stderr, "synscope: {}\n", spec.error().message); return spec.error().exit(); }
//
// The message names what failed and where (the argument, the file offset, the syscall), so the
// CLI prints it as one line. Exit codes are documented in docs/exit-codes.md.
#include <string>
#include <utility>
#include <variant>

namespace synscope::core {

/// Process exit codes shared by every subcommand (docs/exit-codes.md).
enum class exit_code : int {
  ok = 0,           ///< everything asked for worked
  failed = 1,       ///< the command ran, but what it measured failed (a probe was refused, ...)
  usage = 2,        ///< bad arguments or bad input named on the command line
  environment = 3,  ///< the system refused something the command needs (a syscall, a resource)
  bad_data = 4,     ///< an input file is corrupt or not of the expected kind (a capture file)
  no_permission = 77,  ///< needs root or a capability it lacks (CAP_NET_RAW); BSD's EX_NOPERM
};

struct error {
  exit_code code = exit_code::environment;
  std::string message;  ///< one line: what and where, no trailing newline

  [[nodiscard]] int exit() const { return static_cast<int>(code); }
};

/// An error for a failed syscall: "<what>: <syscall>: <strerror> (<ERRNO>)".
[[nodiscard]] error system_error(std::string_view what, std::string_view syscall, int errnum);

/// `text` made safe to quote in a one-line message: a backslash becomes two, and every byte
/// that is not printable ASCII (control bytes, DEL, bytes >= 0x80) becomes \xNN. Text longer
/// than `max_len` bytes is cut there and "..." appended.
[[nodiscard]] std::string printable(std::string_view text, size_t max_len = 200);

/// `text` of many lines made safe for a terminal: as printable(), but line breaks and tabs are
/// kept, and nothing is cut.
[[nodiscard]] std::string printable_lines(std::string_view text);

/// The symbolic name of an errno value ("ECONNREFUSED"); "E<number>" when unknown.
[[nodiscard]] std::string errno_name(int errnum);

/// A value or an error. Must be checked: it is [[nodiscard]].
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  result(core::error err) : v_(std::move(err)) {}            // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const core::error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, core::error> v_;
};

/// Success or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(core::error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const core::error& error() const { return err_; }

 private:
  core::error err_;
  bool ok_ = true;
};

}  // namespace synscope::core
