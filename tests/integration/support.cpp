#include "integration/support.h"

#include <arpa/inet.h>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/endpoint.h"

extern char** environ;

namespace synscope::testing {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execvp's signature
  out.push_back(nullptr);
  return out;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout_ms`; SIGKILLs it after that. Returns the decoded status.
int wait_or_kill(pid_t pid, int64_t timeout_ms, bool* killed) {
  int64_t deadline = core::monotonic_ns() + timeout_ms * core::ns_per_ms;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return -1;
    if (core::monotonic_ns() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (killed) *killed = true;
      return decode_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

command_result run_command(const std::vector<std::string>& argv, int64_t timeout_ms) {
  command_result result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  auto args = c_argv(argv);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << strerror(rc);
    return result;
  }
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int64_t deadline = core::monotonic_ns() + timeout_ms * core::ns_per_ms;
  int open_pipes = 2;
  std::array<char, 65536> buf{};
  while (open_pipes > 0) {
    int64_t left_ms = (deadline - core::monotonic_ns()) / core::ns_per_ms;
    if (left_ms <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int n = poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        sinks[i]->append(buf.data(), static_cast<size_t>(got));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  bool killed = false;
  result.exit_code = wait_or_kill(pid, result.timed_out ? 5'000 : timeout_ms, &killed);
  result.timed_out = result.timed_out || killed;
  return result;
}

std::string synscope_binary() {
  // SYNSCOPE_TEST_BINARY runs the suite against another build: how a new test is seen failing on
  // the code before its fix.
  const char* other = std::getenv("SYNSCOPE_TEST_BINARY");
  return other != nullptr && *other != '\0' ? other : SYNSCOPE_BINARY;
}

std::vector<nlohmann::json> parse_json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << "not a JSON line: " << line << " (" << e.what() << ")";
    }
  }
  return out;
}

std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& lines, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& l : lines) {
    if (l.contains("type") && l.at("type") == type) out.push_back(l);
  }
  return out;
}

std::vector<std::string> shared_captures() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SYNSCOPE_SHARED_DIR "/pcaps", ec)) {
    auto ext = e.path().extension().string();
    if (ext == ".pcap" || ext == ".pcapng") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int64_t tshark_time_ns(const std::string& text) {
  auto dot = text.find('.');
  int64_t sec = std::stoll(text.substr(0, dot));
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (frac.size() < 9) frac.resize(9, '0');
  return sec * 1'000'000'000 + std::stoll(frac);
}

bool have_tool(const std::string& tool) {
  return run_command({"sh", "-c", "command -v " + tool}, 10'000).exit_code == 0;
}

background_process::background_process(const std::vector<std::string>& argv, const std::string& log_path)
    : log_path_(log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  auto args = c_argv(argv);
  if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) {
    pid_ = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
}

background_process::~background_process() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::string background_process::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool background_process::wait_for_log(const std::string& text, int64_t timeout_ms) {
  int64_t deadline = core::monotonic_ns() + timeout_ms * core::ns_per_ms;
  while (core::monotonic_ns() < deadline) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int background_process::interrupt(int64_t timeout_ms) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGINT);
  int code = wait_or_kill(pid_, timeout_ms, nullptr);
  pid_ = -1;
  return code;
}

int background_process::wait(int64_t timeout_ms) {
  if (pid_ <= 0) return -1;
  int code = wait_or_kill(pid_, timeout_ms, nullptr);
  pid_ = -1;
  return code;
}

int background_process::kill_now() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGKILL);
  int code = wait_or_kill(pid_, 10'000, nullptr);
  pid_ = -1;
  return code;
}

namespace {

// A test killed before its destructors ran (ctest's timeout sends SIGKILL) leaves its
// namespaces behind: "synscope-t<pid>-<n>" whose process is gone are deleted here, once a run.
void remove_namespaces_of_dead_tests() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    std::string name = entry.path().filename().string();
    unsigned long pid = 0;
    int n = 0;
    if (std::sscanf(name.c_str(), "synscope-t%lu-%d", &pid, &n) != 2 || pid == 0 ||
        name != fmt::format("synscope-t{}-{}", pid, n)) {
      continue;
    }
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      (void)run_command({"ip", "netns", "del", name}, 20'000);
    }
  }
}

}  // namespace

std::optional<netns> netns::create(std::string& why) {
  static std::atomic<int> counter{0};
  static const bool swept = (remove_namespaces_of_dead_tests(), true);
  (void)swept;
  std::string name = fmt::format("synscope-t{}-{}", getpid(), counter++);
  auto add = run_command({"ip", "netns", "add", name}, 20'000);
  if (add.exit_code != 0) {
    why = "cannot create a network namespace (needs root and iproute2): " + add.err;
    return std::nullopt;
  }
  netns ns(name);
  auto up = ns.run({"ip", "link", "set", "lo", "up"}, 20'000);
  if (up.exit_code != 0) {
    why = "cannot bring up lo in the namespace: " + up.err;
    return std::nullopt;
  }
  return ns;
}

netns::netns(netns&& other) noexcept : name_(std::move(other.name_)) { other.name_.clear(); }

netns& netns::operator=(netns&& other) noexcept {
  if (this != &other) {
    remove();
    name_ = std::move(other.name_);
    other.name_.clear();
  }
  return *this;
}

netns::~netns() { remove(); }

void netns::remove() noexcept {
  if (!name_.empty()) {
    (void)run_command({"ip", "netns", "del", name_}, 20'000);
    name_.clear();
  }
}

std::vector<std::string> netns::exec(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
  return argv;
}

command_result netns::run(const std::vector<std::string>& argv, int64_t timeout_ms) const {
  return run_command(exec(argv), timeout_ms);
}

temp_dir::temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "synscope-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
  }
  dir_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

void netns_test::SetUp() {
  std::string why;
  auto ns = netns::create(why);
  if (!ns) GTEST_SKIP() << why;
  ns_.emplace(std::move(*ns));
}

void in_netns(const std::string& ns, const std::function<void()>& f) {
  std::thread t([&] {
    core::unique_fd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(nsfd) << "open /run/netns/" << ns;
    ASSERT_EQ(setns(nsfd.get(), CLONE_NEWNET), 0);
    f();
  });
  t.join();
}

core::unique_fd listen_in(const std::string& ns, const std::string& address, int backlog) {
  auto at = core::parse_local_address(address, "listen_in");
  EXPECT_TRUE(at.ok()) << address;
  core::unique_fd fd;
  if (!at) return fd;
  in_netns(ns, [&] {
    fd.reset(socket(at->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(bind(fd.get(), at->data(), at->size()), 0) << address << ": " << std::strerror(errno);
    EXPECT_EQ(listen(fd.get(), backlog), 0);
  });
  return fd;
}

bool drop_arriving(const netns& ns, const std::string& table, const std::string& match) {
  return ns.run({"nft", "add table inet " + table + "; add chain inet " + table +
                            " in { type filter hook input priority 0; }; add rule inet " + table + " in " + match + " drop"})
             .exit_code == 0;
}

void write_synthetic_capture(const std::string& path, uint64_t connections) {
  std::ofstream out(path, std::ios::binary);
  uint32_t header[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101};
  out.write(reinterpret_cast<const char*>(header), sizeof header);  // NOLINT
  auto packet = [&](int64_t ts_us, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                    uint8_t flags) {
    uint8_t p[40] = {};
    p[0] = 0x45;
    p[3] = 40;
    p[8] = 64;
    p[9] = 6;
    uint32_t s = htonl(src), d = htonl(dst);
    std::memcpy(p + 12, &s, 4);
    std::memcpy(p + 16, &d, 4);
    uint16_t sp = htons(sport), dp = htons(dport);
    std::memcpy(p + 20, &sp, 2);
    std::memcpy(p + 22, &dp, 2);
    uint32_t sq = htonl(seq), ak = htonl(ack);
    std::memcpy(p + 24, &sq, 4);
    std::memcpy(p + 28, &ak, 4);
    p[32] = 0x50;
    p[33] = flags;
    p[34] = 0xff;
    p[35] = 0xff;
    uint32_t rec[4] = {static_cast<uint32_t>(ts_us / 1'000'000), static_cast<uint32_t>(ts_us % 1'000'000), 40, 40};
    out.write(reinterpret_cast<const char*>(rec), sizeof rec);  // NOLINT
    out.write(reinterpret_cast<const char*>(p), sizeof p);      // NOLINT
  };
  const uint32_t server = 0x0a010001;
  for (uint64_t n = 0; n < connections; ++n) {
    auto i = static_cast<uint32_t>(n);
    int64_t t = 1'700'000'000'000'000 + static_cast<int64_t>(n) * 40;
    uint32_t client = 0x0a000000 | static_cast<uint32_t>(1 + n / 60000);
    auto port = static_cast<uint16_t>(1024 + i % 60000);
    uint32_t isn = i * 7919u, sisn = i * 104729u;
    packet(t, client, server, port, 80, isn, 0, 0x02);
    if (i % 10 == 9) {
      packet(t + 1000, client, server, port, 80, isn, 0, 0x02);  // retransmitted, never answered
      packet(t + 3000, client, server, port, 80, isn, 0, 0x02);
      packet(t + 7000, client, server, port, 80, isn, 0, 0x02);
    } else if (i % 17 == 16) {
      packet(t + 100, server, client, 80, port, 0, isn + 1, 0x14);  // refused
      packet(t + 1000, client, server, port, 80, isn, 0, 0x02);
      packet(t + 1100, server, client, 80, port, 0, isn + 1, 0x14);
    } else {
      packet(t + 100, server, client, 80, port, sisn, isn + 1, 0x12);
      packet(t + 200, client, server, port, 80, isn + 1, sisn + 1, 0x10);
      packet(t + 300, client, server, port, 80, isn + 1, sisn + 1, 0x14);
    }
  }
}


sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string normalized_ruleset(const std::string& dump) {
  std::istringstream in(dump);
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (size_t b = line.find(" ["); b != std::string::npos && line.back() == ']') line.resize(b);
    out += line + "\n";
  }
  return out;
}

std::map<std::string, std::string> net_sysctls(const netns& ns) {
  auto r = ns.run({"sysctl", "-a"});
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("net.", 0) != 0) continue;
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    out[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

}  // namespace synscope::testing
