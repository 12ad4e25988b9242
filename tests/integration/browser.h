#pragma once
// A real headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// JSON messages ending in NUL on fds 3 and 4), for the tests that open synscope's HTML reports.
//
//   std::string why;
//   auto b = headless_browser::start(why);       // nullopt when chromium is missing
//   auto page = b->open("file:///tmp/report.html", 30'000);
//   auto n = b->eval(page, "document.querySelectorAll('tr').length");
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace synscope::testing {

class headless_browser {
 public:
  static std::unique_ptr<headless_browser> start(std::string& why);
  ~headless_browser();  ///< closes the browser (Browser.close), then SIGKILLs it by PID if needed
  headless_browser(const headless_browser&) = delete;
  headless_browser& operator=(const headless_browser&) = delete;

  /// Sends a command and waits for its answer; the "result" object, or null on an error or
  /// timeout (the error text goes to last_error()). `session` empty: the browser itself.
  nlohmann::json call(const std::string& method, const nlohmann::json& params, const std::string& session = {},
                      int64_t timeout_ms = 30'000);
  /// A new tab with Runtime, Log and Page events on, navigated to `url` and loaded (the load
  /// event fired); its session id, or empty. `load_ms` gets the navigation-to-load time.
  std::string open(const std::string& url, int64_t timeout_ms, double* load_ms = nullptr);
  /// Evaluates `expression` in the page and returns its value (returnByValue).
  nlohmann::json eval(const std::string& session, const std::string& expression);
  /// A real mouse click (pressed, released) at page coordinates.
  bool click(const std::string& session, double x, double y);
  /// Exceptions thrown in the page, console.error calls and error log entries, as text.
  [[nodiscard]] std::vector<std::string> page_errors() const;
  [[nodiscard]] const std::string& last_error() const { return last_error_; }

 private:
  headless_browser() = default;
  bool send(const nlohmann::json& message);
  // Reads messages until one satisfies `done` or the time is up; events are kept.
  std::optional<nlohmann::json> read_until(const std::function<bool(const nlohmann::json&)>& done, int64_t timeout_ms);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string profile_dir_;
  std::string pending_;
  int next_id_ = 1;
  std::vector<nlohmann::json> events_;
  std::string last_error_;
};

}  // namespace synscope::testing
