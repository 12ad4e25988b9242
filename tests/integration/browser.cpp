#include "integration/browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "core/clock.h"

extern char** environ;

namespace synscope::testing {

std::unique_ptr<headless_browser> headless_browser::start(std::string& why) {
  const char* binary = nullptr;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (access(candidate, X_OK) == 0) {
      binary = candidate;
      break;
    }
  }
  if (binary == nullptr) {
    why = "no chromium (scripts/setup.sh installs Debian's)";
    return nullptr;
  }
  std::unique_ptr<headless_browser> b(new headless_browser());
  char dir[] = "/tmp/synscope-chromium-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    why = "mkdtemp failed";
    return nullptr;
  }
  b->profile_dir_ = dir;
  int to[2];
  int from[2];
  if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) {
    why = "pipe2 failed";
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, to[0], 3);    // Chromium reads commands on fd 3
  posix_spawn_file_actions_adddup2(&actions, from[1], 4);  // and writes answers on fd 4
  std::string profile = "--user-data-dir=" + b->profile_dir_;
  std::vector<std::string> argv = {binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                                   "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                                   "--disable-background-networking", "--disable-dev-shm-usage", "--window-size=1280,1000",
                                   profile, "about:blank"};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&b->pid_, binary, &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to[0]);
  close(from[1]);
  b->to_browser_ = to[1];
  b->from_browser_ = from[0];
  if (rc != 0) {
    b->pid_ = -1;
    why = "cannot start chromium";
    return nullptr;
  }
  auto version = b->call("Browser.getVersion", nlohmann::json::object(), {}, 60'000);
  if (version.is_null()) {
    why = "chromium did not answer on the DevTools pipe: " + b->last_error_;
    return nullptr;
  }
  return b;
}

headless_browser::~headless_browser() {
  if (pid_ > 0) {
    send({{"id", next_id_++}, {"method", "Browser.close"}, {"params", nlohmann::json::object()}});
    int status = 0;
    bool ended = false;
    for (int i = 0; i < 100 && !ended; ++i) {
      ended = waitpid(pid_, &status, WNOHANG) == pid_;
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!ended) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
  std::error_code ec;
  if (!profile_dir_.empty()) std::filesystem::remove_all(profile_dir_, ec);
}

bool headless_browser::send(const nlohmann::json& message) {
  std::string text = message.dump();
  text.push_back('\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(to_browser_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<nlohmann::json> headless_browser::read_until(const std::function<bool(const nlohmann::json&)>& done,
                                                          int64_t timeout_ms) {
  int64_t deadline = core::monotonic_ns() + timeout_ms * core::ns_per_ms;
  char buf[65536];
  for (;;) {
    for (size_t nul; (nul = pending_.find('\0')) != std::string::npos;) {
      auto message = nlohmann::json::parse(pending_.substr(0, nul), nullptr, false);
      pending_.erase(0, nul + 1);
      if (message.is_discarded()) continue;
      if (!message.contains("id")) events_.push_back(message);
      if (done(message)) return message;
    }
    int64_t left = (deadline - core::monotonic_ns()) / core::ns_per_ms;
    if (left <= 0) return std::nullopt;
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(from_browser_, buf, sizeof buf);
    if (n <= 0) return std::nullopt;  // the browser went away
    pending_.append(buf, static_cast<size_t>(n));
  }
}

nlohmann::json headless_browser::call(const std::string& method, const nlohmann::json& params, const std::string& session,
                                      int64_t timeout_ms) {
  int id = next_id_++;
  nlohmann::json m = {{"id", id}, {"method", method}, {"params", params}};
  if (!session.empty()) m["sessionId"] = session;
  if (!send(m)) {
    last_error_ = "write to chromium failed";
    return nullptr;
  }
  auto answer = read_until([&](const nlohmann::json& j) { return j.contains("id") && j["id"] == id; }, timeout_ms);
  if (!answer) {
    last_error_ = method + ": no answer in time";
    return nullptr;
  }
  if (answer->contains("error")) {
    last_error_ = method + ": " + (*answer)["error"].dump();
    return nullptr;
  }
  return answer->value("result", nlohmann::json::object());
}

std::string headless_browser::open(const std::string& url, int64_t timeout_ms, double* load_ms) {
  auto target = call("Target.createTarget", {{"url", "about:blank"}});
  if (target.is_null()) return {};
  auto attached = call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}});
  if (attached.is_null()) return {};
  std::string session = attached["sessionId"];
  for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable"}) {
    if (call(domain, nlohmann::json::object(), session).is_null()) return {};
  }
  int64_t begin = core::monotonic_ns();
  if (call("Page.navigate", {{"url", url}}, session).is_null()) return {};
  auto loaded = read_until(
      [&](const nlohmann::json& j) { return j.value("method", "") == "Page.loadEventFired" && j.value("sessionId", "") == session; },
      timeout_ms);
  if (!loaded) {
    last_error_ = "the page did not load in time";
    return {};
  }
  if (load_ms != nullptr) *load_ms = static_cast<double>(core::monotonic_ns() - begin) / 1e6;
  return session;
}

nlohmann::json headless_browser::eval(const std::string& session, const std::string& expression) {
  auto r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}}, session);
  if (r.is_null() || !r.contains("result")) return nullptr;
  if (r.contains("exceptionDetails")) {
    last_error_ = r["exceptionDetails"].dump();
    return nullptr;
  }
  return r["result"].value("value", nlohmann::json());
}

bool headless_browser::click(const std::string& session, double x, double y) {
  for (const char* type : {"mousePressed", "mouseReleased"}) {
    nlohmann::json p = {{"type", type}, {"x", x}, {"y", y}, {"button", "left"}, {"clickCount", 1}};
    if (call("Input.dispatchMouseEvent", p, session).is_null()) return false;
  }
  return true;
}

std::vector<std::string> headless_browser::page_errors() const {
  std::vector<std::string> out;
  for (const auto& e : events_) {
    std::string method = e.value("method", "");
    const auto& p = e.contains("params") ? e["params"] : nlohmann::json::object();
    if (method == "Runtime.exceptionThrown") out.push_back(p.dump());
    if (method == "Runtime.consoleAPICalled" && p.value("type", "") == "error") out.push_back(p.dump());
    if (method == "Log.entryAdded" && p.contains("entry") && p["entry"].value("level", "") == "error") {
      out.push_back(p["entry"].dump());
    }
  }
  return out;
}

}  // namespace synscope::testing
