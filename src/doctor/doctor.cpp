#include "doctor/doctor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "active/loopback_listener.h"
#include "active/prober.h"
#include "core/clock.h"
#include "core/unique_fd.h"
#include "kernel/counters.h"
#include "kernel/snapshot.h"
#include "kernel/sockets.h"
#include "kernel/sysctl.h"

namespace synscope::doctor {
namespace {

constexpr uint64_t time_wait_limit = 30'000;  // the seed's alert

struct context {
  const options& o;
  kernel::sysctl_tree tree;
  kernel::snapshot before;
  kernel::snapshot after;
  std::vector<kernel::tcp_socket> close_wait;
  std::unordered_map<uint64_t, std::string> owners;
  /// From the trace through the window, per listener port (empty without one).
  struct traced_listener {
    uint16_t port = 0;
    uint64_t accepted = 0;
    int64_t wait_p99_ns = 0;
    int64_t wait_max_ns = 0;
    uint64_t queue_drops = 0;
  };
  std::vector<traced_listener> traced;
  bool tracing = false;

  int64_t sysctl(const char* key, int64_t fallback = -1) const {
    auto v = tree.read_int(key);
    return v ? *v : fallback;
  }
  int64_t delta(const char* counter) const {
    auto a = kernel::find_counter(before.counters, counter);
    auto b = kernel::find_counter(after.counters, counter);
    return a && b ? *b - *a : 0;
  }
  double seconds() const { return static_cast<double>(after.taken_ns - before.taken_ns) / 1e9; }
};

finding make(const char* group, const char* check, verdict v, std::string summary, std::string fix = "") {
  finding f;
  f.group = group;
  f.check = check;
  f.level = v;
  f.summary = std::move(summary);
  f.fix = std::move(fix);
  return f;
}

void check_backlog(const context& c, std::vector<finding>& out) {
  int64_t somaxconn = c.sysctl("net.core.somaxconn");
  int64_t syn_backlog = c.sysctl("net.ipv4.tcp_max_syn_backlog");
  bool overflowing = c.delta("TcpExtListenOverflows") > 0;
  // A backlog at somaxconn is what Go, nginx's backlog=4096 and most servers ask for: the cap
  // matters only when the queue fills (or overflows), which is when the finding is a WARN.
  size_t capped = 0;
  double fullest = 0;
  for (const auto& l : c.after.sockets.listeners) {
    if (somaxconn <= 0 || static_cast<int64_t>(l.backlog) < somaxconn) continue;
    ++capped;
    fullest = std::max(fullest, l.fill());
    if (l.fill() < 0.5 && !overflowing) continue;
    auto f = make("backlog", "capped-by-somaxconn", verdict::warn,
                  fmt::format("{}: accept queue {} of {} ({:.0f}%), capped by net.core.somaxconn: the listener asked "
                              "for at least that and the kernel cut it there",
                              kernel::socket_text(l.local), l.accept_queue, l.backlog, l.fill() * 100),
                  fmt::format("synscope tune apply --profile baseline --expected-connections {}  (or sysctl -w "
                              "net.core.somaxconn={}), then restart the listener so that it asks again",
                              somaxconn * 4, somaxconn * 4));
    f.evidence = {{"listener", kernel::socket_text(l.local)}, {"accept_queue", std::to_string(l.accept_queue)},
                  {"backlog", std::to_string(l.backlog)}, {"somaxconn", std::to_string(somaxconn)},
                  {"tcp_max_syn_backlog", std::to_string(syn_backlog)}};
    out.push_back(std::move(f));
  }
  auto f = make("backlog", "sizing", verdict::pass,
                capped == 0
                    ? fmt::format("{} listener{}, none capped by somaxconn ({}); tcp_max_syn_backlog {}",
                                  c.after.sockets.listeners.size(), c.after.sockets.listeners.size() == 1 ? "" : "s", somaxconn, syn_backlog)
                    : fmt::format("{} listener{}, {} at somaxconn ({}) with queues at most {:.0f}% full and no overflow; "
                                  "tcp_max_syn_backlog {}",
                                  c.after.sockets.listeners.size(), c.after.sockets.listeners.size() == 1 ? "" : "s", capped, somaxconn,
                                  fullest * 100, syn_backlog));
  f.evidence = {{"somaxconn", std::to_string(somaxconn)}, {"tcp_max_syn_backlog", std::to_string(syn_backlog)},
                {"capped", std::to_string(capped)}};
  bool warned = std::any_of(out.begin(), out.end(), [](const finding& x) { return x.check == "capped-by-somaxconn"; });
  if (!warned) out.push_back(std::move(f));
}

// The listener a kernel-log line names ("Possible SYN flooding on port 127.0.0.1:8080.",
// "[::1]:8080", or a bare port on older kernels) is one of this namespace's: the log is the whole
// host's, and a flood in another namespace (synscope's own lab drills, a container) is not this
// one's.
bool names_a_listener(std::string_view line, const std::vector<kernel::listener_load>& listeners) {
  size_t at = line.find("on port ");
  if (at == std::string_view::npos) return false;
  std::string_view rest = line.substr(at + 8);
  // An IPv4 address has dots of its own: the token ends at ". " (the sentence's end), or at the
  // line's end, less a final full stop.
  std::string token(rest.substr(0, std::min(rest.find(". "), rest.find('\n'))));
  while (!token.empty() && (token.back() == '.' || token.back() == ' ')) token.pop_back();
  std::string address;
  std::string port = token;
  if (size_t colon = token.rfind(':'); colon != std::string::npos) {
    address = token.substr(0, colon);
    port = token.substr(colon + 1);
    if (address.size() >= 2 && address.front() == '[') address = address.substr(1, address.size() - 2);
  }
  for (const auto& l : listeners) {
    if (std::to_string(l.local.port) != port) continue;
    std::string name = kernel::socket_text(l.local);
    bool wildcard = name.rfind("*:", 0) == 0;
    if (address.empty()) return true;
    if (wildcard && (address == "0.0.0.0" || address == "::")) return true;
    std::string listener_address = name.substr(0, name.rfind(':'));
    if (listener_address.size() >= 2 && listener_address.front() == '[') {
      listener_address = listener_address.substr(1, listener_address.size() - 2);
    }
    if (listener_address == address) return true;
  }
  return false;
}

void check_queues(const context& c, std::vector<finding>& out) {
  bool full = false;
  for (const auto& l : c.after.sockets.listeners) {
    if (l.backlog == 0 || l.fill() < 0.8) continue;
    full = true;
    bool overflowing = l.accept_queue > l.backlog;
    auto f = make("queues", "accept-queue", overflowing ? verdict::fail : verdict::warn,
                  fmt::format("{}: accept queue {} of {} ({:.0f}%): the application is not accepting fast enough",
                              kernel::socket_text(l.local), l.accept_queue, l.backlog, l.fill() * 100),
                  "fix the accept loop of the process listening there (synscope sockets -l -p); a larger backlog only "
                  "buys time: synscope tune apply --profile baseline");
    f.evidence = {{"listener", kernel::socket_text(l.local)}, {"accept_queue", std::to_string(l.accept_queue)},
                  {"backlog", std::to_string(l.backlog)}};
    out.push_back(std::move(f));
  }
  // With the trace, how long connections waited for accept() and which listener dropped them:
  // a queue can be short at both snapshots and still hold every connection for 200 ms.
  const char* tier = c.tracing ? "eBPF trace" : "counters";
  bool slow_listener = false;
  std::string dropping;
  for (const auto& t : c.traced) {
    if (t.queue_drops) dropping += fmt::format("{}port {}: {} dropped", dropping.empty() ? "" : ", ", t.port, t.queue_drops);
    if (t.accepted == 0 || t.wait_p99_ns < 100 * core::ns_per_ms) continue;
    auto f = make("queues", "accept-wait", verdict::warn,
                  fmt::format("port {}: connections waited {:.1f} ms (p99) in the accept queue, {:.1f} ms at most, over "
                              "{} accepted: the application is slow to accept",
                              t.port, core::ns_to_ms(t.wait_p99_ns), core::ns_to_ms(t.wait_max_ns), t.accepted),
                  "fix the accept loop of the process listening there (synscope sockets -l -p; synscope trace -p PORT -v "
                  "names who accepts)");
    f.evidence = {{"port", std::to_string(t.port)}, {"accept_wait_p99_ms", fmt::format("{:.3f}", core::ns_to_ms(t.wait_p99_ns))},
                  {"accepted", std::to_string(t.accepted)}, {"tier", tier}};
    out.push_back(std::move(f));
    slow_listener = true;
  }
  int64_t overflows = c.delta("TcpExtListenOverflows");
  int64_t drops = c.delta("TcpExtListenDrops");
  if (overflows > 0 || drops > 0) {
    auto f = make("queues", "overflows", verdict::fail,
                  fmt::format("ListenOverflows +{}, ListenDrops +{} in {:.1f} s: connections are being dropped{}", overflows,
                              drops, c.seconds(), dropping.empty() ? "" : " (" + dropping + ")"),
                  "synscope sockets -s (which listener), then fix its accept loop or raise its backlog and "
                  "net.core.somaxconn: synscope tune apply --profile baseline");
    f.evidence = {{"ListenOverflows", fmt::format("+{}", overflows)}, {"ListenDrops", fmt::format("+{}", drops)},
                  {"window_s", fmt::format("{:.1f}", c.seconds())}, {"tier", tier}};
    if (!dropping.empty()) f.evidence.emplace_back("dropped_by_listener", dropping);
    out.push_back(std::move(f));
  } else if (!full && !slow_listener) {
    std::string waits;
    if (c.tracing) {
      int64_t p99 = 0;
      uint64_t accepted = 0;
      for (const auto& t : c.traced) {
        p99 = std::max(p99, t.wait_p99_ns);
        accepted += t.accepted;
      }
      waits = accepted ? fmt::format("; accept-queue wait p99 {:.3f} ms over {} handshakes", core::ns_to_ms(p99), accepted)
                       : "; no handshake accepted in the window";
    }
    auto f = make("queues", "accept-queues", verdict::pass,
                  fmt::format("no accept queue over 80 %; ListenOverflows and ListenDrops flat over {:.1f} s{} (tier: {})",
                              c.seconds(), waits, tier));
    f.evidence = {{"tier", tier}};
    out.push_back(std::move(f));
  }
}

void check_half_open(const context& c, std::vector<finding>& out) {
  int64_t cookies = c.sysctl("net.ipv4.tcp_syncookies");
  uint64_t half_open = c.after.sockets.in_state(kernel::tcp_state::syn_recv);
  if (cookies == 0) {
    auto f = make("half-open", "syncookies", verdict::warn,
                  "net.ipv4.tcp_syncookies = 0: a SYN flood fills the SYN queue and legitimate SYNs are dropped",
                  "synscope tune apply --profile synflood  (or sysctl -w net.ipv4.tcp_syncookies=1)");
    f.evidence = {{"tcp_syncookies", "0"}, {"syn_recv", std::to_string(half_open)}};
    out.push_back(std::move(f));
  } else {
    out.push_back(make("half-open", "syncookies", verdict::pass,
                       fmt::format("tcp_syncookies = {}; {} half-open (SYN-RECV) now", cookies, half_open)));
  }
  int64_t sent = c.delta("TcpExtSyncookiesSent");
  if (sent > 0) {
    auto f = make("half-open", "syn-flood", verdict::warn,
                  fmt::format("SyncookiesSent +{} in {:.1f} s: a SYN queue overflowed (a flood or a burst)", sent, c.seconds()),
                  "synscope sockets -s (half-open per listener); synscope capture 'tcp[tcpflags] & tcp-syn != 0' for the sources");
    f.evidence = {{"SyncookiesSent", fmt::format("+{}", sent)}, {"syn_recv", std::to_string(half_open)}};
    out.push_back(std::move(f));
  }
  for (const auto& l : c.after.sockets.listeners) {
    if (l.half_open >= 100) {
      auto f = make("half-open", "per-listener", verdict::warn,
                    fmt::format("{}: {} half-open connections", kernel::socket_text(l.local), l.half_open),
                    "synscope analyze on a capture of that port for the SYN sources; synscope tune apply --profile synflood");
      out.push_back(std::move(f));
    }
  }
  // The kernel log says "Possible SYN flooding on port ..." when it starts sending cookies.
  core::unique_fd kmsg(open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!kmsg) {
    out.push_back(make("half-open", "kernel-log", verdict::info, "the kernel log is not readable here (/dev/kmsg)"));
    return;
  }
  // Records are "priority,sequence,microseconds since boot,flags;message"; only the last 15
  // minutes count (an old flood is not today's problem). The log is the whole host's.
  std::string hits;
  uint64_t count = 0;
  char buf[8192];
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t now_us = static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  for (int i = 0; i < 100'000; ++i) {
    ssize_t n = read(kmsg.get(), buf, sizeof buf - 1);
    if (n <= 0) {
      if (n < 0 && errno == EPIPE) continue;  // an overwritten record: go on
      break;
    }
    std::string_view rec(buf, static_cast<size_t>(n));
    if (rec.find("Possible SYN flooding") == std::string_view::npos) continue;
    if (!names_a_listener(rec, c.after.sockets.listeners)) continue;  // another namespace's listener
    int64_t at_us = 0;
    size_t c1 = rec.find(',');
    size_t c2 = c1 == std::string_view::npos ? c1 : rec.find(',', c1 + 1);
    if (c2 != std::string_view::npos) at_us = std::strtoll(std::string(rec.substr(c2 + 1, 20)).c_str(), nullptr, 10);
    if (now_us - at_us > 15 * 60 * 1'000'000LL) continue;
    ++count;
    hits = std::string(rec.substr(rec.find(';') + 1));
    while (!hits.empty() && hits.back() == '\n') hits.pop_back();
  }
  if (!hits.empty()) {
    out.push_back(make("half-open", "kernel-log", verdict::warn,
                       fmt::format("kernel log, {} for this namespace's listeners in the last 15 min, latest: {}", count, hits),
                       "synscope tune apply --profile synflood"));
  }
}

// A share of failures means something from this many handshakes on (the shipped alert's floor,
// 0.5 a second over 5 minutes, is 150).
constexpr int64_t failure_ratio_floor = 100;

void check_failures(const context& c, std::vector<finding>& out) {
  // AttemptFails counts failed passive handshakes too (a SYN-RECV request reset), so the
  // handshakes it is a share of are both the connects started (ActiveOpens) and the handshakes
  // accepted (PassiveOpens); the seed's ActiveOpens alone makes a server's ratio infinite.
  int64_t active = c.delta("TcpActiveOpens");
  int64_t passive = c.delta("TcpPassiveOpens");
  int64_t handshakes = active + passive;
  int64_t fails = c.delta("TcpAttemptFails");
  int64_t retrans = c.delta("TcpExtTCPSynRetrans");
  double rate = handshakes > 0 ? static_cast<double>(fails) / static_cast<double>(handshakes) : 0;
  auto evidence = std::vector<std::pair<std::string, std::string>>{{"ActiveOpens", fmt::format("+{}", active)},
                                                                   {"PassiveOpens", fmt::format("+{}", passive)},
                                                                   {"AttemptFails", fmt::format("+{}", fails)}};
  if (handshakes >= failure_ratio_floor && rate > 0.01) {
    auto f = make("failures", "attempt-fails", verdict::fail,
                  fmt::format("{} of {} handshakes failed in {:.1f} s ({:.1f}%, the alert is at 1%)", fails, handshakes,
                              c.seconds(), rate * 100),
                  "synscope sockets --state syn-sent --top remote (which peers); synscope probe HOST:PORT (refused or timeout)");
    f.evidence = std::move(evidence);
    out.push_back(std::move(f));
  } else if (fails > 0 && handshakes < failure_ratio_floor) {
    auto f = make("failures", "attempt-fails", verdict::info,
                  fmt::format("{} of {} handshakes failed in {:.1f} s: too few to be a rate (a longer --window sees more)",
                              fails, handshakes, c.seconds()),
                  "synscope doctor --window 60s --only failures");
    f.evidence = std::move(evidence);
    out.push_back(std::move(f));
  } else {
    out.push_back(make("failures", "attempt-fails", verdict::pass,
                       fmt::format("{} failed of {} handshakes in {:.1f} s", fails, handshakes, c.seconds())));
  }
  if (retrans > 0) {
    auto f = make("failures", "syn-retransmits", verdict::warn,
                  fmt::format("TCPSynRetrans +{} in {:.1f} s: handshakes are being lost (each costs 1 s or more)", retrans,
                              c.seconds()),
                  "synscope probe HOST:PORT -c 20 (SYN retransmitted column); check the peers' listen queues");
    f.evidence = {{"TCPSynRetrans", fmt::format("+{}", retrans)}};
    out.push_back(std::move(f));
  }
}

void check_time_wait(const context& c, std::vector<finding>& out) {
  uint64_t tw = c.after.sockets.in_state(kernel::tcp_state::time_wait);
  auto range = c.tree.read("net.ipv4.ip_local_port_range");
  int64_t low = 0;
  int64_t high = 0;
  if (range && std::sscanf(range->c_str(), "%ld %ld", &low, &high) != 2) low = high = 0;
  int64_t ports = high >= low && high > 0 ? high - low + 1 : 0;
  if (tw > time_wait_limit || (ports > 0 && static_cast<int64_t>(tw) > ports / 2)) {
    auto f = make("time-wait", "count", verdict::warn,
                  fmt::format("{} sockets in TIME-WAIT (a common alert line is {}; the local port range has {} ports)", tw,
                              time_wait_limit, ports),
                  "synscope sockets --state time-wait --top remote (which peers); pool connections, or synscope tune "
                  "apply --profile high-rate-client");
    f.evidence = {{"time_wait", std::to_string(tw)}, {"ip_local_port_range", range ? *range : "?"}};
    out.push_back(std::move(f));
  } else {
    out.push_back(make("time-wait", "count", verdict::pass,
                       fmt::format("{} in TIME-WAIT, local port range {} ports", tw, ports)));
  }
  int64_t reuse = c.sysctl("net.ipv4.tcp_tw_reuse");
  int64_t timestamps = c.sysctl("net.ipv4.tcp_timestamps");
  if (reuse >= 1 && timestamps == 0) {
    auto f = make("time-wait", "tw-reuse", verdict::warn,
                  fmt::format("tcp_tw_reuse = {} but tcp_timestamps = 0: reuse needs timestamps, so it does nothing", reuse),
                  "sysctl -w net.ipv4.tcp_timestamps=1  (synscope tune apply --profile high-rate-client)");
    f.evidence = {{"tcp_tw_reuse", std::to_string(reuse)}, {"tcp_timestamps", "0"}};
    out.push_back(std::move(f));
  }
  if (c.tree.exists("net.ipv4.tcp_tw_recycle") && c.sysctl("net.ipv4.tcp_tw_recycle") > 0) {
    out.push_back(make("time-wait", "tw-recycle", verdict::fail,
                       "tcp_tw_recycle = 1: breaks clients behind NAT (removed from Linux in 4.12)",
                       "sysctl -w net.ipv4.tcp_tw_recycle=0"));
  }
}

void check_close_wait(const context& c, std::vector<finding>& out) {
  if (c.close_wait.empty()) {
    out.push_back(make("close-wait", "stuck", verdict::pass, "no sockets in CLOSE-WAIT"));
    return;
  }
  std::map<std::string, uint64_t> by_owner;
  for (const auto& s : c.close_wait) {
    auto it = c.owners.find(s.inode);
    ++by_owner[it == c.owners.end() ? std::string("unknown process") : it->second];
  }
  for (const auto& [owner, n] : by_owner) {
    auto f = make("close-wait", "stuck", verdict::warn,
                  fmt::format("{} socket{} in CLOSE-WAIT held by {}: the peer closed, this application never did "
                              "(a bug in it, not something tuning fixes)",
                              n, n == 1 ? "" : "s", owner),
                  "synscope sockets --state close-wait -p (which connections); fix the application to close() them");
    f.evidence = {{"process", owner}, {"sockets", std::to_string(n)}};
    out.push_back(std::move(f));
  }
}

void check_fastopen(const context& c, std::vector<finding>& out) {
  int64_t tfo = c.sysctl("net.ipv4.tcp_fastopen", 0);
  std::string sides = (tfo & 1) && (tfo & 2) ? "client and server" : (tfo & 1) ? "client only" : (tfo & 2) ? "server only" : "off";
  auto f = make("fastopen", "enabled", verdict::info, fmt::format("tcp_fastopen = {}: {}", tfo, sides),
                "");
  f.evidence = {{"tcp_fastopen", std::to_string(tfo)}};
  out.push_back(std::move(f));
  auto fails = kernel::find_counter(c.after.counters, "TcpExtTCPFastOpenActiveFail");
  auto blackhole = kernel::find_counter(c.after.counters, "TcpExtTCPFastOpenBlackhole");
  if ((blackhole && *blackhole > 0) || c.delta("TcpExtTCPFastOpenActiveFail") > 0) {
    out.push_back(make("fastopen", "failures", verdict::warn,
                       fmt::format("TCPFastOpenActiveFail {}, TCPFastOpenBlackhole {}: a middlebox drops SYNs with data",
                                   fails ? *fails : 0, blackhole ? *blackhole : 0),
                       "keep TFO for peers known to support it; synscope probe HOST:PORT --fastopen to check one"));
  }
}

void check_timers(const context& c, std::vector<finding>& out) {
  struct expect {
    const char* key;
    int64_t recommended;
    const char* why;
  };
  for (const auto& e : {expect{"net.ipv4.tcp_fin_timeout", 30, "orphaned FIN-WAIT-2 sockets linger"},
                        expect{"net.ipv4.tcp_syn_retries", 3, "a dead peer takes up to 127 s to fail with 6"},
                        expect{"net.ipv4.tcp_synack_retries", 2, "half-open entries live longer under a flood"}}) {
    int64_t v = c.sysctl(e.key);
    if (v < 0) continue;
    if (v > e.recommended) {
      auto f = make("timers", e.key + 9, verdict::info,
                    fmt::format("{} = {} (the baseline profile: {}): {}", e.key, v, e.recommended, e.why),
                    "synscope tune plan --profile baseline");
      out.push_back(std::move(f));
    } else {
      out.push_back(make("timers", e.key + 9, verdict::pass, fmt::format("{} = {}", e.key, v)));
    }
  }
}

void check_self_test(const context& c, std::vector<finding>& out) {
  if (!c.o.self_test) return;
  auto listener = active::loopback_listener::start({});
  if (!listener) {
    out.push_back(make("self-test", "loopback", verdict::fail, "cannot open a loopback listener: " + listener.error().message,
                       "check the open-file limit and that the loopback interface is up (ip link set lo up)"));
    return;
  }
  active::probe_options p;
  p.targets = {listener->address()};
  p.count = 200;
  p.interval_ns = 0;
  p.timeout_ns = 1'000'000'000;
  p.socket.reset_on_close = true;  // no TIME-WAIT left behind by the doctor
  auto r = active::run_probe(p, [](const active::attempt&) {}, nullptr);
  if (!r || r->targets.empty()) {
    out.push_back(make("self-test", "loopback", verdict::fail, "the self-test could not run", ""));
    return;
  }
  const auto& t = r->targets[0];
  double p50 = static_cast<double>(t.handshake.percentile(50)) / 1e3;
  double p99 = static_cast<double>(t.handshake.percentile(99)) / 1e3;
  auto f = make("self-test", "loopback", t.connected == t.sent ? verdict::pass : verdict::fail,
                fmt::format("{} of {} loopback handshakes, p50 {:.0f} us, p99 {:.0f} us", t.connected, t.sent, p50, p99),
                t.connected == t.sent ? "" : "synscope probe -c 100 -i 0 (which attempts fail and how)");
  f.evidence = {{"connected", std::to_string(t.connected)}, {"p50_us", fmt::format("{:.0f}", p50)},
                {"p99_us", fmt::format("{:.0f}", p99)}};
  out.push_back(std::move(f));
}

}  // namespace

const char* verdict_name(verdict v) {
  switch (v) {
    case verdict::pass: return "PASS";
    case verdict::info: return "INFO";
    case verdict::warn: return "WARN";
    case verdict::fail: return "FAIL";
  }
  return "FAIL";
}

namespace {

// The checklist as one table: each group's name (what --only takes) and its check, in the order
// they are reported.
struct check_group {
  const char* name;
  void (*check)(const context&, std::vector<finding>&);
};
constexpr check_group checklist[] = {
    {"backlog", check_backlog},       {"queues", check_queues},         {"half-open", check_half_open},
    {"failures", check_failures},     {"time-wait", check_time_wait},   {"close-wait", check_close_wait},
    {"fastopen", check_fastopen},     {"timers", check_timers},         {"self-test", check_self_test},
};

}  // namespace

const std::vector<std::string>& groups() {
  static const std::vector<std::string> g = [] {
    std::vector<std::string> names;
    for (const auto& group : checklist) names.emplace_back(group.name);
    return names;
  }();
  return g;
}

std::string group_list() {
  std::string out;
  for (const auto& g : groups()) out += (out.empty() ? "" : ", ") + g;
  return out;
}

verdict worst(const std::vector<finding>& findings) {
  verdict w = verdict::pass;
  for (const auto& f : findings) w = std::max(w, f.level);
  return w;
}

core::result<std::vector<finding>> examine(const options& o) {
  for (const auto& g : o.only) {
    if (std::find(groups().begin(), groups().end(), g) == groups().end()) {
      return core::error{core::exit_code::usage, fmt::format("--only '{}': one of {}", core::printable(g), group_list())};
    }
  }
  auto wanted = [&](const char* g) { return o.only.empty() || std::find(o.only.begin(), o.only.end(), g) != o.only.end(); };
  auto first = kernel::take_snapshot();
  if (!first) return first.error();
  std::this_thread::sleep_for(std::chrono::nanoseconds(o.window_ns));
  auto second = kernel::take_snapshot();
  if (!second) return second.error();
  context c{o, kernel::sysctl_tree(o.proc_root), std::move(*first), std::move(*second), {}, {}, {}, false};
  if (o.trace) {  // read at the window's end, before the self-test's own handshakes
    c.tracing = true;
    o.trace([&](const trace::view& v) {
      for (const auto& [k, s] : v.listeners) {
        c.traced.push_back({k.port, s.accepted, s.ack_to_accept.percentile(99), s.ack_to_accept.max(),
                            s.accept_queue_drops()});
      }
    });
  }
  if (wanted("close-wait")) {
    kernel::socket_query q;
    q.states = kernel::state_bit(kernel::tcp_state::close_wait);
    auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket& s) { c.close_wait.push_back(s); });
    if (!r) return r.error();
    if (!c.close_wait.empty()) {
      for (auto& [inode, owner] : kernel::socket_owners()) {
        if (owner.pid == getpid()) continue;  // a descriptor this process inherited is not the holder
        auto& text = c.owners[inode];
        text += (text.empty() ? "" : ",") + fmt::format("{}/{}", owner.pid, owner.comm);
      }
    }
  }
  std::vector<finding> out;
  for (const auto& group : checklist) {
    if (wanted(group.name)) group.check(c, out);
  }
  return out;
}

}  // namespace synscope::doctor
