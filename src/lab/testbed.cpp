#include "lab/testbed.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/process.h"
#include "core/unique_fd.h"
#include "kernel/netns.h"
#include "kernel/sysctl.h"

namespace synscope::lab {
namespace {

int guardian_fd = -1;  // write end of the pipe the guardian reads; -1 when there is none
std::atomic<int> next_testbed{0};

// Tells the guardian about a namespace: "+name" to watch, "-name" when deleted. One write()
// of a short line is atomic on a pipe, so threads need no lock.
void tell_guardian(char op, const std::string& name) {
  if (guardian_fd < 0) return;
  std::string line = op + name + "\n";
  if (write(guardian_fd, line.data(), line.size()) < 0) {
    // the guardian is gone; the drill's own cleanup still runs
  }
}

bool delete_namespace(const std::string& name) { return core::run_program({"ip", "netns", "delete", name}); }

core::error tool_failed(const std::string& what, const std::string& why) {
  return core::error{core::exit_code::environment, fmt::format("lab: {} failed{}", what, why.empty() ? "" : ": " + why)};
}

// Opens a TUN device named `name` in the calling thread's namespace (IP packets, no header).
core::result<core::unique_fd> open_tun(const std::string& name) {
  core::unique_fd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return core::system_error("lab", "open /dev/net/tun", errno);
  ifreq req{};
  req.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd.get(), TUNSETIFF, &req) != 0) return core::system_error("lab", "TUNSETIFF " + name, errno);
  return fd;
}

}  // namespace

// Packets read from one TUN device are written to the other `delay_ns` later, each way.
struct delay_line {
  core::unique_fd client;
  core::unique_fd server;
  int64_t delay_ns = 0;
  std::atomic<bool> done{false};
  std::thread to_server;
  std::thread to_client;

  static constexpr size_t max_queued = 10'000;  // beyond: dropped, as a full netem queue does

  void pump(int from, int to) const {
    std::deque<std::pair<int64_t, std::vector<uint8_t>>> queue;
    std::vector<uint8_t> buf(65536);
    while (!done.load(std::memory_order_relaxed)) {
      int64_t now = core::monotonic_ns();
      while (!queue.empty() && queue.front().first <= now) {
        if (write(to, queue.front().second.data(), queue.front().second.size()) < 0) {
          // the device's queue is full or it is going away: the packet is lost, as on a link
        }
        queue.pop_front();
      }
      int64_t wait = queue.empty() ? 20'000'000 : std::min<int64_t>(queue.front().first - now, 20'000'000);
      timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
      pollfd p{from, POLLIN, 0};
      if (ppoll(&p, 1, &ts, nullptr) <= 0 || (p.revents & POLLIN) == 0) continue;
      for (;;) {
        ssize_t n = read(from, buf.data(), buf.size());
        if (n <= 0) break;
        if (queue.size() < max_queued) {
          queue.emplace_back(core::monotonic_ns() + delay_ns, std::vector<uint8_t>(buf.begin(), buf.begin() + n));
        }
      }
    }
  }

  void start() {
    to_server = std::thread([this] { pump(client.get(), server.get()); });
    to_client = std::thread([this] { pump(server.get(), client.get()); });
  }
  ~delay_line() {
    done.store(true);
    if (to_server.joinable()) to_server.join();
    if (to_client.joinable()) to_client.join();
  }
};

namespace {

// The guardian's loop: collect names until the pipe ends, then delete what is left.
[[noreturn]] void guard(int fd) {
  std::vector<std::string> names;
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = core::retry_on_eintr([&] { return read(fd, buf, sizeof buf); });
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
      std::string line = pending.substr(0, eol);
      if (line.size() < 2) continue;
      std::string name = line.substr(1);
      if (line[0] == '+') names.push_back(name);
      if (line[0] == '-') std::erase(names, name);
    }
  }
  for (const auto& name : names) delete_namespace(name);
  _exit(0);
}

}  // namespace

bool in_lab(uint32_t ip) { return (ip & 0xffffff00u) == lab_network; }

core::socket_address ipv4_address(uint32_t ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(ip);
  return core::socket_address(reinterpret_cast<const sockaddr*>(&a), sizeof a);  // NOLINT
}

namespace guardian {

core::result<void> start() {
  if (guardian_fd >= 0) return {};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return core::system_error("lab", "pipe2", errno);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return core::system_error("lab", "fork", errno);
  }
  if (pid == 0) {
    // Ctrl-C reaches the whole process group: the drill cleans up itself, and this process
    // must live on to clean up if it cannot. Hold nothing of the parent's but the pipe, so
    // that whoever reads the drill's output sees its end when the drill ends.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int std_fd = 0; std_fd < 3; ++std_fd) dup2(devnull, std_fd);
    int keep = fds[0];
    for (int fd = 3; fd < 1024; ++fd) {
      if (fd != keep) close(fd);
    }
    prctl(PR_SET_NAME, "synscope-lab-gd");
    guard(keep);
  }
  close(fds[0]);
  guardian_fd = fds[1];
  return {};
}

}  // namespace guardian

core::result<std::unique_ptr<testbed>> testbed::create(const link_options& link) {
  if (geteuid() != 0) {
    return core::error{core::exit_code::no_permission, "lab: needs root (it creates network namespaces)"};
  }
  std::unique_ptr<testbed> tb(new testbed());
  std::string base = fmt::format("{}{}-{}", name_prefix, getpid(), next_testbed.fetch_add(1));
  std::string why;
  for (const char* side : {"client", "server"}) {
    std::string name = base + "-" + side;
    tell_guardian('+', name);  // before it exists: a kill in between still finds it
    if (!core::run_program({"ip", "netns", "add", name}, {}, &why)) return tool_failed("ip netns add " + name, why);
    (side[0] == 'c' ? tb->client_ : tb->server_) = name;
  }
  const std::string& c = tb->client_;
  const std::string& s = tb->server_;
  std::vector<std::vector<std::string>> steps;
  if (link.delay_ms > 0) {
    tb->device_ = "wan0";
    tb->delay_ = std::make_unique<delay_line>();
    tb->delay_->delay_ns = static_cast<int64_t>(link.delay_ms) * 1'000'000;
    for (auto [ns, fd] : {std::pair{c, &tb->delay_->client}, std::pair{s, &tb->delay_->server}}) {
      core::result<core::unique_fd> tun = core::error{};
      if (auto r = tb->in(ns, [&] { tun = open_tun(tb->device_); }); !r) return r.error();
      if (!tun) return tun.error();
      *fd = std::move(*tun);
    }
  } else {
    steps.push_back({"ip", "-n", c, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", s});
  }
  const std::string& dev = tb->device_;
  for (const auto& step : std::vector<std::vector<std::string>>{
           {"ip", "-n", c, "addr", "add", "10.203.0.2/24", "dev", dev},
           {"ip", "-n", s, "addr", "add", "10.203.0.1/24", "dev", dev},
           {"ip", "-n", c, "link", "set", "lo", "up"},
           {"ip", "-n", s, "link", "set", "lo", "up"},
           {"ip", "-n", c, "link", "set", dev, "up"},
           {"ip", "-n", s, "link", "set", dev, "up"},
           // SYN-ACKs to spoofed flood sources go back to the client namespace, which does not
           // forward and drops them without a word: no RST, no ICMP, the half-open sockets stay.
           {"ip", "-n", s, "route", "add", "10.204.0.0/16", "via", "10.203.0.2"}}) {
    steps.push_back(step);
  }
  for (const auto& step : steps) {
    if (!core::run_program(step, {}, &why)) {
      std::string cmd;
      for (const auto& w : step) cmd += (cmd.empty() ? "" : " ") + w;
      return tool_failed(cmd, why);
    }
  }
  for (const auto& [ns, key, value] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {c, "net.ipv4.ip_forward", "0"},
           {s, "net.ipv4.conf.all.rp_filter", "0"},
           {s, "net.ipv4.conf." + tb->device_ + ".rp_filter", "0"}}) {
    if (auto r = tb->sysctl(ns, key, value); !r) return r.error();
  }
  if (tb->delay_) tb->delay_->start();
  return tb;
}

testbed::~testbed() {
  delay_.reset();  // its threads first, then the devices go with the namespaces
  for (const auto* name : {&client_, &server_}) {
    if (name->empty()) continue;
    delete_namespace(*name);
    tell_guardian('-', *name);
  }
}

core::result<void> testbed::in(const std::string& ns, const std::function<void()>& f) const {
  core::result<void> entered;
  std::thread t([&] {
    entered = kernel::enter_netns(ns);
    if (entered) f();
  });
  t.join();
  return entered;
}

core::result<void> testbed::sysctl(const std::string& ns, const std::string& key, const std::string& value) const {
  core::result<void> written;
  auto r = in(ns, [&] { written = kernel::sysctl_tree().write(key, value); });
  if (!r) return r.error();
  if (!written) return core::error{written.error().code, fmt::format("lab: in {}: {}", ns, written.error().message)};
  return {};
}

core::result<std::vector<core::socket_address>> testbed::add_client_addresses(int n) {
  std::vector<core::socket_address> out;
  for (int i = 0; i < n; ++i) {
    uint32_t ip = client_ip + 8 + static_cast<uint32_t>(extra_addresses_ + i);  // 10.203.0.10 on
    if (!in_lab(ip) || (ip & 0xff) == 0xff) return core::error{core::exit_code::usage, "lab: at most 245 client addresses"};
    std::string text = fmt::format("10.203.0.{}/24", ip & 0xff);
    std::string why;
    if (!core::run_program({"ip", "-n", client_, "addr", "add", text, "dev", device_}, {}, &why)) {
      return tool_failed("ip addr add " + text, why);
    }
    out.push_back(ipv4_address(ip, 0));
  }
  extra_addresses_ += n;
  return out;
}

std::vector<std::string> cleanup_stale() {
  std::vector<std::string> removed;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/run/netns"), closedir);
  if (!dir) return removed;
  std::vector<std::string> names;
  while (dirent* e = readdir(dir.get())) {
    std::string name = e->d_name;
    if (name.rfind(name_prefix, 0) == 0) names.push_back(name);
  }
  for (const auto& name : names) {
    std::string rest = name.substr(name_prefix.size());
    char* end = nullptr;
    long pid = std::strtol(rest.c_str(), &end, 10);
    bool alive = pid > 0 && *end == '-' && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (alive) continue;
    if (delete_namespace(name)) removed.push_back(name);
  }
  return removed;
}

}  // namespace synscope::lab
