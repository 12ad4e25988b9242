// The prober against real loopback sockets, through the library API.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "active/loopback_listener.h"
#include "active/prober.h"
#include "core/clock.h"
#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::active {
namespace {

// A bound, non-listening socket: its port answers SYNs with RST, and nobody else can take it.
struct closed_port {
  core::unique_fd fd;
  core::socket_address address;
};

closed_port make_closed_port(core::address_family family) {
  closed_port p;
  core::socket_address local = core::loopback_address(family);
  p.fd.reset(socket(local.family(), SOCK_STREAM, 0));
  EXPECT_EQ(bind(p.fd.get(), local.data(), local.size()), 0);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  EXPECT_EQ(getsockname(p.fd.get(), sa, &len), 0);
  p.address = core::socket_address(sa, len);
  return p;
}

TEST(Prober, ConnectsToListenerAndTimesEveryAttempt) {
  auto listener = loopback_listener::start({});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 20;
  opts.interval_ns = 0;
  std::vector<attempt> seen;
  auto report = run_probe(opts, [&](const attempt& a) { seen.push_back(a); }, nullptr);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(seen.size(), 20u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].result, outcome::connected);
    EXPECT_EQ(seen[i].seq, i + 1);
    EXPECT_GT(seen[i].elapsed_ns, 0);
    EXPECT_TRUE(seen[i].kernel.valid);
    EXPECT_TRUE(seen[i].local.is_loopback());
    EXPECT_EQ(seen[i].syn_retransmits, 0u);
  }
  const auto& t = report->targets.at(0);
  EXPECT_EQ(t.sent, 20u);
  EXPECT_EQ(t.connected, 20u);
  EXPECT_EQ(t.handshake.count(), 20u);
  EXPECT_EQ(t.clean.count(), 20u);
  EXPECT_EQ(t.retransmitted.count(), 0u);
  EXPECT_LE(t.handshake.min(), t.handshake.percentile(50));
  EXPECT_LE(t.handshake.percentile(50), t.handshake.percentile(90));
  EXPECT_LE(t.handshake.percentile(90), t.handshake.percentile(99));
  EXPECT_LE(t.handshake.percentile(99), t.handshake.max());
  EXPECT_TRUE(report->all_connected());
  EXPECT_FALSE(report->stopped);
  // The listener really accepted them (the accepting thread may lag a little).
  for (int i = 0; i < 200 && listener->accepted() < 20; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(listener->accepted(), 20u);
}

TEST(Prober, ClosedPortIsRefused) {
  auto port = make_closed_port(core::address_family::ipv4);
  probe_options opts;
  opts.targets = {port.address};
  opts.count = 3;
  opts.interval_ns = 0;
  std::vector<attempt> seen;
  auto report = run_probe(opts, [&](const attempt& a) { seen.push_back(a); }, nullptr);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& a : seen) {
    EXPECT_EQ(a.result, outcome::refused);
    EXPECT_EQ(a.error_number, ECONNREFUSED);
  }
  EXPECT_EQ(report->targets[0].refused, 3u);
  EXPECT_DOUBLE_EQ(report->targets[0].loss_pct(), 100.0);
  EXPECT_FALSE(report->all_connected());
}

TEST(Prober, Ipv6Loopback) {
  auto listener = loopback_listener::start({.family = core::address_family::ipv6});
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << listener.error().message;
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 3;
  opts.interval_ns = 0;
  auto report = run_probe(opts, [](const attempt& a) { EXPECT_EQ(a.local.family(), AF_INET6); }, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->targets[0].connected, 3u);
}

TEST(Prober, ConcurrencyKeepsSeveralInFlightAndCountsEachTarget) {
  auto a = loopback_listener::start({});
  auto b = loopback_listener::start({});
  ASSERT_TRUE(a.ok() && b.ok());
  probe_options opts;
  opts.targets = {a->address(), b->address()};
  opts.count = 25;
  opts.interval_ns = 0;
  opts.concurrency = 8;
  uint64_t calls = 0;
  auto report = run_probe(opts, [&](const attempt&) { ++calls; }, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(calls, 50u);
  EXPECT_EQ(report->targets[0].connected, 25u);
  EXPECT_EQ(report->targets[1].connected, 25u);
}

TEST(Prober, IntervalSpacesRounds) {
  auto listener = loopback_listener::start({});
  ASSERT_TRUE(listener.ok());
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 4;
  opts.interval_ns = 50 * core::ns_per_ms;
  auto report = run_probe(opts, [](const attempt&) {}, nullptr);
  ASSERT_TRUE(report.ok());
  // Three gaps of at least 50 ms between four attempts (a lower bound only: no upper timing bound).
  EXPECT_GE(report->elapsed_ns, 150 * core::ns_per_ms);
}

TEST(Prober, StopFlagEndsAnUnboundedRun) {
  auto listener = loopback_listener::start({});
  ASSERT_TRUE(listener.ok());
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 0;  // until stopped
  opts.interval_ns = 10 * core::ns_per_ms;
  std::atomic<bool> stop{false};
  uint64_t calls = 0;
  auto report = run_probe(
      opts,
      [&](const attempt&) {
        if (++calls == 5) stop = true;
      },
      &stop);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->stopped);
  EXPECT_EQ(report->targets[0].sent, 5u);
}

TEST(Prober, FamilyMismatchedBindIsOneErrorBeforeTheRun) {
  auto listener = loopback_listener::start({});
  ASSERT_TRUE(listener.ok());
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 3;
  auto bind6 = core::parse_local_address("[::1]:0", "--bind");
  ASSERT_TRUE(bind6.ok());
  opts.socket.bind = *bind6;
  uint64_t calls = 0;
  auto report = run_probe(opts, [&](const attempt&) { ++calls; }, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, core::exit_code::usage);
  EXPECT_EQ(calls, 0u);
}

TEST(Prober, BindPicksTheSourceAddress) {
  auto listener = loopback_listener::start({});
  ASSERT_TRUE(listener.ok());
  probe_options opts;
  opts.targets = {listener->address()};
  opts.count = 2;
  opts.interval_ns = 0;
  auto local = core::parse_local_address("127.0.0.2", "--bind");
  ASSERT_TRUE(local.ok());
  opts.socket.bind = *local;
  opts.socket.nodelay = opts.socket.quickack = true;
  opts.socket.tos = 0x10;
  auto report = run_probe(opts, [](const attempt& a) { EXPECT_EQ(a.local.host_string(), "127.0.0.2"); }, nullptr);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->targets[0].connected, 2u);
}

// ss is the oracle: a FIN close leaves the client's sockets in TIME_WAIT, a RST close none.
TEST(Prober, ResetOnCloseLeavesNoTimeWait) {
  if (!testing::have_tool("ss")) GTEST_SKIP() << "ss (iproute2) is not installed";
  auto time_wait_to = [](uint16_t port) {
    auto r = testing::run_command({"ss", "-Htan", "state", "time-wait", "dport", "= :" + std::to_string(port)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::count(r.out.begin(), r.out.end(), '\n');
  };
  for (bool reset : {false, true}) {
    auto listener = loopback_listener::start({});
    ASSERT_TRUE(listener.ok());
    probe_options opts;
    opts.targets = {listener->address()};
    opts.count = 5;
    opts.interval_ns = 0;
    opts.socket.reset_on_close = reset;
    auto report = run_probe(opts, [](const attempt&) {}, nullptr);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->targets[0].connected, 5u);
    // Let the listener's side finish its close before asking ss.
    for (int i = 0; i < 200 && listener->accepted() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(time_wait_to(listener->address().port()), reset ? 0 : 5) << (reset ? "RST close" : "FIN close");
  }
}

}  // namespace
}  // namespace synscope::active
