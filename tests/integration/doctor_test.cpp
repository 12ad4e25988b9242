// synscope doctor in namespaces the tests create: each WARN and FAIL provoked, seen with the
// right numbers; a clean namespace has no FAIL.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

class Doctor : public netns_test {
 protected:
  // Findings of `synscope doctor --netns NS --json` with these extra arguments.
  std::vector<nlohmann::json> doctor(std::vector<std::string> extra, int* exit_code = nullptr) {
    std::vector<std::string> argv{synscope_binary(), "doctor", "--netns", ns_->name(), "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_command(argv, 60'000);
    if (exit_code != nullptr) *exit_code = r.exit_code;
    return of_type(parse_json_lines(r.out), "finding");
  }
  static const nlohmann::json* find(const std::vector<nlohmann::json>& f, const std::string& check, const std::string& v) {
    for (const auto& x : f) {
      if (x["check"] == check && x["verdict"] == v) return &x;
    }
    return nullptr;
  }
  void in_ns(const std::function<void()>& f) { in_netns(ns_->name(), f); }
  static sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  std::vector<core::unique_fd> held_;
};

TEST_F(Doctor, ACleanNamespaceHasNoFail) {
  int code = -1;
  auto f = doctor({"--window", "200ms"}, &code);
  EXPECT_FALSE(f.empty());
  for (const auto& x : f) EXPECT_NE(x["verdict"], "FAIL") << x.dump();
  EXPECT_NE(code, 2);
  EXPECT_NE(find(f, "loopback", "PASS"), nullptr) << "the self-test passes";
}

TEST_F(Doctor, AHealthyNamespaceWithAGoStyleListenerIsGreen) {
  // Go, nginx's backlog=4096 and most servers ask for somaxconn: a listener at the cap whose
  // queue is empty is healthy. Before, it was a WARN (exit 1) that the suggested fix could not clear.
  in_ns([&] {
    core::unique_fd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(7150);
    ASSERT_EQ(bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(listen(l.get(), 4096), 0);                                       // = somaxconn here
    held_.push_back(std::move(l));
  });
  int code = -1;
  auto f = doctor({"--window", "200ms"}, &code);
  for (const auto& x : f) EXPECT_TRUE(x["verdict"] == "PASS" || x["verdict"] == "INFO") << x.dump();
  EXPECT_EQ(code, 0);
  auto* sizing = find(f, "sizing", "PASS");
  ASSERT_NE(sizing, nullptr);
  EXPECT_NE((*sizing)["summary"].get<std::string>().find("1 at somaxconn (4096) with queues at most 0% full"), std::string::npos)
      << sizing->dump();
}

TEST_F(Doctor, AListenerCappedBySomaxconnWarnsWhenItsQueueFills) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.core.somaxconn=8"}).exit_code, 0);
  in_ns([&] {
    core::unique_fd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(7100);
    ASSERT_EQ(bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(listen(l.get(), 1024), 0);
    held_.push_back(std::move(l));
  });
  // Quiet, it is fine.
  int code = -1;
  auto quiet = doctor({"--only", "backlog", "--window", "0s"}, &code);
  EXPECT_EQ(find(quiet, "capped-by-somaxconn", "WARN"), nullptr);
  EXPECT_EQ(code, 0);
  // Six connections waiting in a queue of 8 (75 %): now the cap matters.
  in_ns([&] {
    for (int i = 0; i < 6; ++i) {
      core::unique_fd c(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a = loopback(7100);
      ASSERT_EQ(connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
      held_.push_back(std::move(c));
    }
  });
  auto f = doctor({"--only", "backlog", "--window", "0s"}, &code);
  auto* w = find(f, "capped-by-somaxconn", "WARN");
  ASSERT_NE(w, nullptr);
  EXPECT_NE((*w)["summary"].get<std::string>().find("127.0.0.1:7100: accept queue 6 of 8 (75%), capped by net.core.somaxconn"),
            std::string::npos)
      << w->dump();
  EXPECT_EQ((*w)["evidence"]["somaxconn"], "8");
  EXPECT_NE((*w)["fix"].get<std::string>().find("synscope tune apply"), std::string::npos);
  EXPECT_EQ(code, 1);
}

TEST_F(Doctor, SynFloodLinesFromAnotherNamespaceAreNotThisOnes) {
  if (access("/dev/kmsg", R_OK) != 0) GTEST_SKIP() << "/dev/kmsg is not readable";
  if (!have_tool("nft")) GTEST_SKIP() << "nft is needed";
  // Another namespace (as a lab drill makes): a listener with a SYN queue of 2 that gets only
  // its clients' SYNs (everything after, the final ACK, data and FIN, is dropped), so the queue
  // overflows and the kernel logs "Possible SYN flooding". (Dropping the bare ACK alone is not
  // enough: a client that closes at once sends a FIN with an ACK, which completes the handshake.)
  std::string why;
  auto flooded = netns::create(why);
  ASSERT_TRUE(flooded) << why;
  temp_dir dir;
  background_process server(flooded->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:7250", "--mode", "ack",
                                           "--backlog", "2"}),
                            dir.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
  ASSERT_EQ(flooded->run({"nft", "add", "table", "inet", "t"}).exit_code, 0);
  ASSERT_EQ(flooded->run({"nft", "add chain inet t in { type filter hook input priority 0; policy accept; }"}).exit_code, 0);
  ASSERT_EQ(flooded->run({"nft", "add rule inet t in tcp dport 7250 tcp flags & (syn | ack) == ack drop"}).exit_code, 0);
  flooded->run({synscope_binary(), "bench", "127.0.0.1:7250", "-n", "8", "-c", "8", "--timeout", "300ms"});
  auto log = run_command({"sh", "-c", "cat /dev/kmsg & sleep 0.5; kill $!"});
  if (log.out.find("Possible SYN flooding on port 127.0.0.1:7250") == std::string::npos) {
    GTEST_SKIP() << "the kernel did not log the flood (rate limited?)";
  }
  // This test's own namespace has no such listener: not its flood.
  auto f = doctor({"--only", "half-open", "--window", "0s"});
  EXPECT_EQ(find(f, "kernel-log", "WARN"), nullptr) << "another namespace's flood";
  // The flooded namespace has it, and says so.
  auto r = run_command({synscope_binary(), "doctor", "--netns", flooded->name(), "--json", "--only", "half-open", "--window", "0s"});
  auto theirs = of_type(parse_json_lines(r.out), "finding");
  auto* w = find(theirs, "kernel-log", "WARN");
  ASSERT_NE(w, nullptr) << r.out;
  EXPECT_NE((*w)["summary"].get<std::string>().find("127.0.0.1:7250"), std::string::npos);
  server.interrupt();
}

TEST_F(Doctor, AFewFailedConnectsOnAQuietHostAreNotARate) {
  // Three refused connects and nothing else: the seed's ratio reads 100 % (it was a FAIL).
  std::vector<nlohmann::json> f;
  int code = -1;
  std::thread t([&] { f = doctor({"--window", "3s", "--only", "failures"}, &code); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(ns_->run({synscope_binary(), "probe", "127.0.0.1:9", "-c", "3", "-i", "100ms", "-q"}).exit_code, 1);
  t.join();
  auto* info = find(f, "attempt-fails", "INFO");
  ASSERT_NE(info, nullptr) << (f.empty() ? "" : f[0].dump());
  EXPECT_NE((*info)["summary"].get<std::string>().find("3 of 3 handshakes failed"), std::string::npos) << info->dump();
  EXPECT_EQ(code, 0);
}

TEST_F(Doctor, FailuresAreAShareOfTheHandshakesAcceptedToo) {
  temp_dir dir;
  background_process server(ns_->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:8080", "--mode", "ack"}),
                            dir.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
  // 300 connects to our own server (300 ActiveOpens, 300 PassiveOpens) and 5 refused: 0.8 % of
  // the 605 handshakes. The seed's ratio, over ActiveOpens alone, is 1.6 % (a FAIL).
  auto window = [&](const std::vector<std::string>& refused_count) {
    std::vector<nlohmann::json> f;
    std::thread t([&] { f = doctor({"--window", "3s", "--only", "failures"}); });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_EQ(ns_->run({synscope_binary(), "bench", "127.0.0.1:8080", "-n", "300", "-c", "4"}).exit_code, 0);
    std::vector<std::string> probe{synscope_binary(), "probe", "127.0.0.1:9", "-i", "0", "-q", "-c"};
    probe.insert(probe.end(), refused_count.begin(), refused_count.end());
    ns_->run(probe);
    t.join();
    return f;
  };
  auto f = window({"5"});
  auto* pass = find(f, "attempt-fails", "PASS");
  ASSERT_NE(pass, nullptr) << (f.empty() ? "" : f[0].dump());
  EXPECT_NE((*pass)["summary"].get<std::string>().find("5 failed of 605 handshakes"), std::string::npos) << pass->dump();
  // 200 refused: 200 of 800, a FAIL.
  f = window({"200"});
  auto* fail = find(f, "attempt-fails", "FAIL");
  ASSERT_NE(fail, nullptr) << (f.empty() ? "" : f[0].dump());
  EXPECT_NE((*fail)["summary"].get<std::string>().find("200 of 800 handshakes failed"), std::string::npos) << fail->dump();
  EXPECT_EQ(server.interrupt(), 0);
}

TEST_F(Doctor, ANonAcceptingListenerOverflows) {
  // Backlog 2, never accepted; 8 non-blocking connects: the queue fills, later SYNs are
  // dropped and retransmitted (1 s later), overflowing again inside the 2 s window.
  in_ns([&] {
    core::unique_fd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(7200);
    ASSERT_EQ(bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(listen(l.get(), 2), 0);
    held_.push_back(std::move(l));
    for (int i = 0; i < 8; ++i) {
      core::unique_fd c(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);  // NOLINT: EINPROGRESS expected
      held_.push_back(std::move(c));
    }
  });
  int code = -1;
  auto f = doctor({"--only", "queues", "--window", "2500ms"}, &code);
  auto* q = find(f, "accept-queue", "FAIL");
  ASSERT_NE(q, nullptr) << nlohmann::json(f).dump();
  EXPECT_NE((*q)["summary"].get<std::string>().find("127.0.0.1:7200: accept queue 3 of 2"), std::string::npos);
  auto* o = find(f, "overflows", "FAIL");
  ASSERT_NE(o, nullptr) << nlohmann::json(f).dump();
  EXPECT_NE((*o)["evidence"]["ListenOverflows"], "+0");
  EXPECT_EQ(code, 2);
}

TEST_F(Doctor, CloseWaitHeldByAnApplicationThatNeverCloses) {
  in_ns([&] {
    core::unique_fd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback(7300);
    ASSERT_EQ(bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(listen(l.get(), 4), 0);
    core::unique_fd c(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    core::unique_fd server_side(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
    c.reset();  // the peer closes; this process keeps its end open: CLOSE-WAIT
    held_.push_back(std::move(server_side));
    held_.push_back(std::move(l));
  });
  auto f = doctor({"--only", "close-wait", "--window", "100ms"});
  auto* w = find(f, "stuck", "WARN");
  ASSERT_NE(w, nullptr) << nlohmann::json(f).dump();
  EXPECT_EQ((*w)["evidence"]["sockets"], "1");
  EXPECT_EQ((*w)["evidence"]["process"].get<std::string>().rfind(std::to_string(getpid()) + "/", 0), 0u) << w->dump();
}

TEST_F(Doctor, ThirtyThousandTimeWait) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  temp_dir dir;
  background_process server(ns_->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:7400"}), dir.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000));
  // The client closes first in connect mode: 31,000 TIME-WAIT, spread over 20 source addresses.
  auto b = ns_->run({synscope_binary(), "bench", "127.0.0.1:7400", "-n", "31000", "-c", "64", "--source",
                     "127.0.0.2-127.0.0.21", "--json"},
                    120'000);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto f = doctor({"--only", "time-wait", "--window", "0s"});
  auto* w = find(f, "count", "WARN");
  ASSERT_NE(w, nullptr) << nlohmann::json(f).dump();
  EXPECT_GE(std::stoull((*w)["evidence"]["time_wait"].get<std::string>()), 30'000u);
  EXPECT_EQ(server.interrupt(), 0);
}

TEST_F(Doctor, SyncookiesOffAndTwReuseWithoutTimestamps) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_syncookies=0"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_timestamps=0"}).exit_code, 0);
  auto f = doctor({"--only", "half-open,time-wait", "--window", "0s"});
  auto* c = find(f, "syncookies", "WARN");
  ASSERT_NE(c, nullptr) << nlohmann::json(f).dump();
  EXPECT_EQ((*c)["evidence"]["tcp_syncookies"], "0");
  EXPECT_NE((*c)["fix"].get<std::string>().find("--profile synflood"), std::string::npos);
  auto* r = find(f, "tw-reuse", "WARN");
  ASSERT_NE(r, nullptr) << nlohmann::json(f).dump();
  EXPECT_EQ((*r)["evidence"]["tcp_timestamps"], "0");
}

TEST_F(Doctor, BadArgumentsAreUnknown) {
  auto r = run_command({synscope_binary(), "doctor", "--only", "nonsense"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("--only 'nonsense'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace synscope::testing
