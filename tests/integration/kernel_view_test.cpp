// synscope sockets and synscope counters against ss and nstat, in a namespace the test makes:
// 20,000+ TIME-WAIT sockets plus listeners, an accept queue nobody drains, ESTABLISHED,
// CLOSE-WAIT and FIN-WAIT-2 pairs.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "integration/support.h"
#include "kernel/sockets.h"

namespace synscope::testing {
namespace {

// Sockets made inside a namespace: a thread enters it, creates them, and leaves them to us
// (a socket stays in the namespace it was created in).
class sockets_in {
 public:
  explicit sockets_in(const std::string& ns) : ns_(ns) {}

  // A listener on 127.0.0.1:port with `backlog`; returns its fd.
  int listener(uint16_t port, int backlog) {
    int fd = -1;
    in_ns([&] {
      fd = socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a = address(port);
      EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
      EXPECT_EQ(listen(fd, backlog), 0);
    });
    keep(fd);
    return fd;
  }
  // A listener on [::1]:port.
  int listener6(uint16_t port) {
    int fd = -1;
    in_ns([&] {
      fd = socket(AF_INET6, SOCK_STREAM, 0);
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_loopback;
      EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
      EXPECT_EQ(listen(fd, 4), 0);
    });
    keep(fd);
    return fd;
  }
  // A connected client to 127.0.0.1:port.
  int connect_to(uint16_t port) {
    int fd = -1;
    in_ns([&] {
      fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = address(port);
      EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    });
    keep(fd);
    return fd;
  }
  void keep(int fd) { fds_.emplace_back(fd); }

 private:
  static sockaddr_in address(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void in_ns(const std::function<void()>& f) { in_netns(ns_, f); }
  std::string ns_;
  std::vector<core::unique_fd> fds_;
};

// ss -tan's State column -> synscope's state names.
std::map<std::string, uint64_t> ss_counts(const netns& ns) {
  static const std::map<std::string, std::string> names = {
      {"ESTAB", "established"},  {"SYN-SENT", "syn-sent"},     {"SYN-RECV", "syn-recv"},   {"FIN-WAIT-1", "fin-wait-1"},
      {"FIN-WAIT-2", "fin-wait-2"}, {"TIME-WAIT", "time-wait"}, {"UNCONN", "closed"}, {"CLOSE-WAIT", "close-wait"},
      {"LAST-ACK", "last-ack"},  {"LISTEN", "listen"},         {"CLOSING", "closing"}};
  auto r = ns.run({"ss", "-tan"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, uint64_t> counts;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string state;
    words >> state;
    auto it = names.find(state);
    EXPECT_NE(it, names.end()) << "ss state " << state;
    if (it != names.end()) ++counts[it->second];
  }
  return counts;
}

class KernelView : public netns_test {};

TEST_F(KernelView, SummaryCountsEqualSsForEveryStateWith20000TimeWait) {
  // 22,000 handshakes against synscope probe's own listener (a few percent end with a RST
  // rather than TIME-WAIT, so 20,000+ remain), closed normally: one side of each
  // ends in TIME-WAIT (60 s, longer than this test). tw_reuse off (in this namespace only), or
  // loopback connects would recycle TIME-WAIT ports as they go.
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  auto probe = ns_->run({synscope_binary(), "probe", "-c", "22000", "-i", "0", "-q"}, 120'000);
  ASSERT_EQ(probe.exit_code, 0) << probe.err;
  sockets_in s(ns_->name());
  s.listener(7000, 16);  // never accepts: 5 connections wait in its queue
  for (int i = 0; i < 5; ++i) s.connect_to(7000);
  int l2 = s.listener(7001, 16);
  s.connect_to(7001);  // accepted and closed by the server: CLOSE-WAIT here, FIN-WAIT-2 there
  int accepted = accept(l2, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  close(accepted);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // The probe's last orphans still move from FIN-WAIT-2 to TIME-WAIT for a while: a socket that
  // moves between our dump and ss's is no disagreement, so up to five looks, until they agree.
  nlohmann::json j;
  std::map<std::string, uint64_t> ss;
  for (int look = 0; look < 5; ++look) {
    auto r = run_command({synscope_binary(), "sockets", "--summary", "--json", "--netns", ns_->name()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ss = ss_counts(*ns_);
    j = nlohmann::json::parse(r.out);
    bool agree = true;
    for (const auto& [state, v] : j["states"].items()) agree = agree && v["total"].get<uint64_t>() == ss[state];
    if (agree) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  uint64_t total = 0;
  for (const auto& [state, v] : j["states"].items()) {
    SCOPED_TRACE(state);
    EXPECT_EQ(v["total"].get<uint64_t>(), ss[state]);
    total += v["total"].get<uint64_t>();
  }
  EXPECT_EQ(j["total"].get<uint64_t>(), total);
  EXPECT_GE(j["states"]["time-wait"]["total"].get<uint64_t>(), 20'000u);
  EXPECT_EQ(j["states"]["listen"]["total"].get<uint64_t>(), 2u);
  EXPECT_EQ(j["states"]["close-wait"]["total"].get<uint64_t>(), 1u);
  EXPECT_GE(j["states"]["fin-wait-2"]["total"].get<uint64_t>(), 1u);  // ours, and the probe's orphans
  EXPECT_EQ(j["states"]["established"]["total"].get<uint64_t>(), 10u);  // 5 pairs in the queue

  // The never-accepting listener: accept queue 5 of 16, as ss -ltn's Recv-Q and Send-Q.
  bool found = false;
  for (const auto& l : j["listeners"]) {
    if (l["local"] == "127.0.0.1:7000") {
      found = true;
      EXPECT_EQ(l["accept_queue"].get<uint32_t>(), 5u);
      EXPECT_EQ(l["backlog"].get<uint32_t>(), 16u);
    }
  }
  EXPECT_TRUE(found);
  auto ltn = ns_->run({"ss", "-Hltn", "sport", "= :7000"});
  std::istringstream words(ltn.out);
  std::string state, recv_q, send_q;
  words >> state >> recv_q >> send_q;
  EXPECT_EQ(recv_q, "5");
  EXPECT_EQ(send_q, "16");

  // --count without formatting, and the same number as ss's list.
  auto count = run_command({synscope_binary(), "sockets", "--state", "time-wait", "--count", "--netns", ns_->name()});
  ASSERT_EQ(count.exit_code, 0) << count.err;
  auto ss_tw = ns_->run({"sh", "-c", "ss -Htan state time-wait | wc -l"});
  EXPECT_EQ(std::stoull(count.out), std::stoull(ss_tw.out));

  // --top process finds us holding the CLOSE-WAIT socket; --top remote groups TIME-WAIT peers.
  auto top = run_command({synscope_binary(), "sockets", "--state", "close-wait", "--top", "process", "--json", "--netns",
                          ns_->name()});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  auto rows = parse_json_lines(top.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows[0]["process"].get<std::string>().find(std::to_string(getpid()) + "/"), std::string::npos) << top.out;
  auto peers = run_command({synscope_binary(), "sockets", "--state", "time-wait", "--top", "remote", "--json", "--netns",
                            ns_->name()});
  auto peer_rows = parse_json_lines(peers.out);
  ASSERT_FALSE(peer_rows.empty());
  EXPECT_GE(peer_rows[0]["sockets"].get<uint64_t>(), 20'000u);
}

// count_tcp() (the exporter's counts) leaves TIME-WAIT out of its dumps and takes it from
// sockstat: it must still equal a full dump for every state and family, with TIME-WAIT and
// FIN-WAIT-2 mini-sockets (also in sockstat's tw) of both families present.
TEST_F(KernelView, CountsWithoutTimeWaitMessagesEqualAFullDump) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  std::vector<core::unique_fd> kept;
  in_netns(ns_->name(), [&] {
    for (int family : {AF_INET, AF_INET6}) {
      core::unique_fd listener(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_storage a{};
      socklen_t len = 0;
      if (family == AF_INET) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&a);  // NOLINT
        v4->sin_family = AF_INET;
        v4->sin_port = htons(7400);
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *v4;
      } else {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);  // NOLINT
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(7401);
        v6->sin6_addr = in6addr_loopback;
        len = sizeof *v6;
      }
      auto* sa = reinterpret_cast<sockaddr*>(&a);  // NOLINT
      ASSERT_EQ(bind(listener.get(), sa, len), 0);
      ASSERT_EQ(listen(listener.get(), 64), 0);
      int time_wait = family == AF_INET ? 300 : 200;
      for (int i = 0; i < time_wait + 4; ++i) {
        core::unique_fd client(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(connect(client.get(), sa, len), 0);
        core::unique_fd server(accept(listener.get(), nullptr, nullptr));
        ASSERT_TRUE(server);
        if (i < time_wait) {
          client.reset();  // the client closes first: TIME-WAIT on its side
        } else if (i < time_wait + 3) {
          server.reset();  // the server closes, the client never does: a FIN-WAIT-2 mini-socket
          kept.push_back(std::move(client));
        } else {
          kept.push_back(std::move(client));  // an ESTABLISHED pair
          kept.push_back(std::move(server));
        }
      }
      kept.push_back(std::move(listener));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // FINs acknowledged, orphans turned
  kernel::state_counts full{};
  core::result<kernel::state_counts> counted = kernel::state_counts{};
  uint64_t passed_on = 0;
  in_netns(ns_->name(), [&] {
    auto dumped = kernel::dump_tcp({}, [&](const kernel::tcp_socket& s) {
      ++full[static_cast<size_t>(s.state)][s.local.address.version == 4 ? 0 : 1];
    });
    ASSERT_TRUE(dumped) << dumped.error().message;
    counted = kernel::count_tcp([&](const kernel::tcp_socket&) { ++passed_on; });
  });
  ASSERT_TRUE(counted) << counted.error().message;
  for (int st = 1; st <= kernel::tcp_state_max; ++st) {
    SCOPED_TRACE(kernel::state_name(static_cast<kernel::tcp_state>(st)));
    EXPECT_EQ((*counted)[static_cast<size_t>(st)][0], full[static_cast<size_t>(st)][0]) << "ipv4";
    EXPECT_EQ((*counted)[static_cast<size_t>(st)][1], full[static_cast<size_t>(st)][1]) << "ipv6";
  }
  auto tw = static_cast<size_t>(kernel::tcp_state::time_wait);
  auto fw2 = static_cast<size_t>(kernel::tcp_state::fin_wait2);
  EXPECT_GE(full[tw][0], 300u);
  EXPECT_GE(full[tw][1], 200u);
  EXPECT_GE(full[fw2][0], 3u);
  EXPECT_GE(full[fw2][1], 3u);
  uint64_t all = 0;
  for (const auto& by_family : full) all += by_family[0] + by_family[1];
  EXPECT_EQ(passed_on, all - full[tw][0] - full[tw][1]);  // every socket but TIME-WAIT
}

TEST_F(KernelView, FiltersAndPortCounts) {
  sockets_in s(ns_->name());
  s.listener(7100, 8);
  s.listener(7200, 8);
  for (int i = 0; i < 3; ++i) s.connect_to(7100);
  auto by = run_command({synscope_binary(), "sockets", "--by", "port", "--json", "--netns", ns_->name()});
  ASSERT_EQ(by.exit_code, 0) << by.err;
  std::map<std::string, nlohmann::json> ports;
  for (const auto& row : parse_json_lines(by.out)) ports[row["port"].get<std::string>()] = row;
  EXPECT_EQ(ports["7100"]["states"]["listen"], 1);
  EXPECT_EQ(ports["7100"]["states"]["established"], 3);  // the server side of each queued connection
  EXPECT_EQ(ports["7200"]["sockets"], 1);
  // The clients' ports are in the ephemeral range and nothing listens there: one row, not three.
  std::string range;
  for (const auto& [key, row] : ports) {
    if (key.find('-') != std::string::npos) range = key;
  }
  ASSERT_FALSE(range.empty()) << by.out;
  EXPECT_EQ(ports[range]["states"]["established"], 3) << by.out;
  EXPECT_EQ(ports.size(), 3u) << by.out;
  // ss's options, clusters and filter words, state names in any case.
  auto ss_words = [&](std::vector<std::string> words) {
    words.insert(words.begin(), {synscope_binary(), "sockets", "--netns", ns_->name()});
    return run_command(words);
  };
  EXPECT_EQ(ss_words({"-tan", "state", "LISTENING", "--count"}).out, "2\n");
  EXPECT_EQ(ss_words({"-ltn", "--count"}).out, "2\n");
  EXPECT_EQ(ss_words({"state", "Established", "dport = :7100", "--count"}).out, "3\n");
  EXPECT_EQ(ss_words({"state", "established", "and", "sport", "eq", "7100", "--count"}).out, "3\n");
  EXPECT_EQ(ss_words({"exclude", "listening", "--count"}).out, "6\n");
  EXPECT_EQ(ss_words({"-tanp", "state", "time-wait", "--count"}).out, "0\n");
  auto wild = ss_words({"-ltn", "--json"});
  for (const auto& row : parse_json_lines(wild.out)) EXPECT_EQ(row["remote"], "0.0.0.0:*") << wild.out;
  auto unknown = ss_words({"state", "bogus"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("'bogus'"), std::string::npos) << unknown.err;
  auto ors = ss_words({"dport = :80", "or", "sport = :80"});
  EXPECT_EQ(ors.exit_code, 2);
  EXPECT_NE(ors.err.find("'or' is not understood"), std::string::npos) << ors.err;
  auto listing = run_command({synscope_binary(), "sockets", "--dport", "7100", "--src", "127.0.0.0/8", "--json",
                              "--netns", ns_->name()});
  EXPECT_EQ(parse_json_lines(listing.out).size(), 3u) << listing.out;
  auto v6 = run_command({synscope_binary(), "sockets", "-6", "--count", "--netns", ns_->name()});
  EXPECT_EQ(v6.out, "0\n");
  // Both families come from one request (TCPDIAG_GETSOCK), one family from its own.
  s.listener6(7300);
  auto both = run_command({synscope_binary(), "sockets", "-l", "--json", "--netns", ns_->name()});
  auto rows = parse_json_lines(both.out);
  ASSERT_EQ(rows.size(), 3u) << both.out;
  EXPECT_EQ(run_command({synscope_binary(), "sockets", "-6", "--count", "--netns", ns_->name()}).out, "1\n");
  EXPECT_EQ(run_command({synscope_binary(), "sockets", "-4", "-l", "--count", "--netns", ns_->name()}).out, "2\n");
  bool v6_listener = false;
  for (const auto& row : rows) v6_listener = v6_listener || (row["local"] == "[::1]:7300" && row["family"] == "ipv6");
  EXPECT_TRUE(v6_listener) << both.out;
  auto bad = run_command({synscope_binary(), "sockets", "--src", "10.0.0.0/33"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--src '10.0.0.0/33'"), std::string::npos) << bad.err;
}

// -i's options, MSS and cwnd against ss -tino on the same sockets (ss prints "ts sack ...
// wscale:7,7 ... mss:N ... cwnd:N"); -s reads somaxconn from --proc-root.
TEST_F(KernelView, InfoAgreesWithSsAndSomaxconnComesFromProcRoot) {
  sockets_in s(ns_->name());
  s.listener(7400, 8);
  s.connect_to(7400);
  auto ours = run_command({synscope_binary(), "sockets", "-i", "--json", "--dport", "7400", "--netns", ns_->name()});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto rows = parse_json_lines(ours.out);
  ASSERT_EQ(rows.size(), 1u) << ours.out;
  const auto& row = rows[0];
  auto ss = ns_->run({"ss", "-tinoH", "dport", "= :7400"});  // -o: ss prints ts and sack only with it
  ASSERT_EQ(ss.exit_code, 0) << ss.err;
  auto has = [&](const std::string& word) { return (" " + ss.out + " ").find(" " + word + " ") != std::string::npos; };
  auto options = row["options"].get<std::vector<std::string>>();
  auto ours_has = [&](const char* name) { return std::find(options.begin(), options.end(), name) != options.end(); };
  EXPECT_EQ(ours_has("timestamps"), has("ts")) << ss.out;
  EXPECT_EQ(ours_has("sack"), has("sack")) << ss.out;
  ASSERT_TRUE(ours_has("wscale")) << ours.out;
  EXPECT_TRUE(has(fmt::format("wscale:{},{}", row["snd_wscale"].get<int>(), row["rcv_wscale"].get<int>()))) << ss.out;
  EXPECT_TRUE(has(fmt::format("mss:{}", row["mss"].get<int>()))) << ss.out;
  EXPECT_TRUE(has(fmt::format("cwnd:{}", row["cwnd"].get<int>()))) << ss.out;

  temp_dir proc;
  std::filesystem::create_directories(proc.path("sys/net/core"));
  std::ofstream(proc.path("sys/net/core/somaxconn")) << "8\n";
  auto sum = run_command({synscope_binary(), "sockets", "-s", "--json", "--proc-root", proc.path(""), "--netns", ns_->name()});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  auto j = nlohmann::json::parse(sum.out);
  EXPECT_EQ(j["somaxconn"], 8);
  ASSERT_EQ(j["listeners"].size(), 1u) << sum.out;
  EXPECT_EQ(j["listeners"][0]["backlog_capped_by_somaxconn"], true);  // backlog 8 = the copy's somaxconn
}

TEST_F(KernelView, CountersEqualNstatInAQuietNamespace) {
  auto ours = run_command({synscope_binary(), "counters", "--all", "-az", "--json", "--netns", ns_->name()});
  auto theirs = ns_->run({"nstat", "-azs", "--json"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  std::map<std::string, int64_t> mine;
  for (const auto& row : parse_json_lines(ours.out)) mine[row["name"].get<std::string>()] = row["value"].get<int64_t>();
  auto j = nlohmann::json::parse(theirs.out);
  size_t compared = 0;
  for (const auto& [name, value] : j["kernel"].items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(mine.count(name)) << "nstat has it, we do not";
    EXPECT_EQ(mine[name], value.get<int64_t>());
    ++compared;
  }
  EXPECT_GT(compared, 200u);
  EXPECT_TRUE(mine.count("TcpCurrEstab")) << "gauges are ours too";
}

// Without -z, the listing is nstat -a's: the same counters, none of them zero.
TEST_F(KernelView, CountersWithoutZerosListWhatNstatListsWithoutZeros) {
  sockets_in s(ns_->name());
  s.listener(7400, 8);
  s.connect_to(7400);
  auto ours = run_command({synscope_binary(), "counters", "--all", "--json", "--netns", ns_->name()});
  auto theirs = ns_->run({"nstat", "-as", "--json"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  std::set<std::string> mine;
  for (const auto& row : parse_json_lines(ours.out)) {
    EXPECT_NE(row["value"], 0) << row.dump();
    mine.insert(row["name"].get<std::string>());
  }
  std::set<std::string> nstat;
  for (const auto& [name, value] : nlohmann::json::parse(theirs.out)["kernel"].items()) {
    if (value.get<int64_t>() != 0) nstat.insert(name);
  }
  // A connect between the two reads can make a counter non-zero in the second only.
  for (const auto& name : nstat) EXPECT_TRUE(mine.count(name)) << name;
  EXPECT_TRUE(mine.count("TcpActiveOpens"));
  EXPECT_FALSE(mine.count("TcpExtSyncookiesSent")) << "zero in a quiet namespace";
}

// --line: a header of short names, then one line per interval with a rate per column.
TEST_F(KernelView, CounterLinesAreOnePerIntervalWithTheConnectsCounted) {
  sockets_in s(ns_->name());
  s.listener(7500, 64);
  std::thread connects([&] {
    for (int i = 0; i < 20; ++i) {
      s.connect_to(7500);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  auto r = run_command({synscope_binary(), "counters", "--interval", "200ms", "-n", "3", "--line", "--netns", ns_->name(),
                        "TcpActiveOpens", "TcpExtListenOverflows"});
  connects.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<std::vector<std::string>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    lines.emplace_back(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
  }
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], (std::vector<std::string>{"time", "ActiveOpens", "ListenOverflows"}));
  double opens = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i].size(), 3u) << r.out;
    EXPECT_EQ(lines[i][0].size(), 8u) << "HH:MM:SS";
    opens += std::stod(lines[i][1]) * 0.2;
    EXPECT_EQ(lines[i][2], "0.0");
  }
  EXPECT_GT(opens, 0.0) << r.out;
  auto json = run_command({synscope_binary(), "counters", "--interval", "100ms", "-n", "1", "--line", "--json", "--netns",
                           ns_->name()});
  auto rows = parse_json_lines(json.out);
  ASSERT_EQ(rows.size(), 1u) << json.out;
  EXPECT_TRUE(rows[0]["per_s"].contains("TcpExtListenDrops")) << json.out;
  EXPECT_GT(rows[0]["time_unix_ns"].get<int64_t>(), 1'700'000'000'000'000'000);
  EXPECT_EQ(run_command({synscope_binary(), "counters", "--line"}).exit_code, 2) << "--line needs --interval";
}

TEST_F(KernelView, CounterDeltaCountsTheConnectsInBetween) {
  temp_dir dir;
  std::string state = dir.path("state");
  auto first = run_command({synscope_binary(), "counters", "--delta", "--state-file", state, "--json", "--netns", ns_->name()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(ns_->run({synscope_binary(), "probe", "-c", "25", "-i", "0", "-q", "--reset"}).exit_code, 0);
  auto second = run_command({synscope_binary(), "counters", "--delta", "--state-file", state, "--json", "--netns",
                             ns_->name(), "TcpActiveOpens"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto rows = parse_json_lines(second.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["delta"].get<double>(), 25.0);
  // Rates: two intervals, then it stops by itself.
  auto rates = run_command({synscope_binary(), "counters", "--interval", "100ms", "-n", "2", "--json", "--netns",
                            ns_->name(), "TcpActiveOpens"});
  ASSERT_EQ(rates.exit_code, 0) << rates.err;
  EXPECT_EQ(parse_json_lines(rates.out).size(), 2u);
  // As grep: a pattern matching nothing is named on stderr; none matching anything is exit 1.
  auto typo = run_command({synscope_binary(), "counters", "--netns", ns_->name(), "TcpActivOpens"});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_EQ(typo.out, "");
  EXPECT_EQ(typo.err, "synscope: no counter matches 'TcpActivOpens' (synscope counters --all lists them)\n");
  auto some = run_command({synscope_binary(), "counters", "--json", "--netns", ns_->name(), "TcpActiveOpens", "Nope*"});
  EXPECT_EQ(some.exit_code, 0);
  EXPECT_EQ(parse_json_lines(some.out).size(), 1u);
  EXPECT_EQ(some.err, "synscope: no counter matches 'Nope*' (synscope counters --all lists them)\n");
  auto missing = run_command({synscope_binary(), "counters", "--netns", "synscope-no-such-ns"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no such network namespace"), std::string::npos);
}

TEST_F(KernelView, CounterMeaningsAreTheKernelsTimeWaitIsCountedOnEntry) {
  // The kernel counts TcpExtTW in __inet_twsk_schedule(), when a socket enters TIME-WAIT (the
  // sockets are still there for 60 s), and TcpPassiveOpens in tcp_create_openreq_child(), when
  // a handshake completes. ss is the oracle for how many sockets are in TIME-WAIT right after.
  temp_dir dir;
  std::string state = dir.path("state");
  // No TIME-WAIT taken over by a new connect (tcp_tw_reuse=2, the default, does so on loopback)
  // nor ended by a stray RST (tcp_rfc1337=0, the default, lets one kill it): every socket that
  // entered TIME-WAIT is still there to count.
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0", "net.ipv4.tcp_rfc1337=1"}).exit_code, 0);
  background_process server(ns_->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:8080", "--mode", "ack"}),
                            dir.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
  ASSERT_EQ(run_command({synscope_binary(), "counters", "--delta", "--state-file", state, "--netns", ns_->name()}).exit_code, 0);
  auto b = ns_->run({synscope_binary(), "bench", "127.0.0.1:8080", "-n", "300", "-c", "10", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto delta = run_command({synscope_binary(), "counters", "--delta", "--state-file", state, "--json", "--netns",
                            ns_->name(), "TcpExtTW", "TcpPassiveOpens"});
  ASSERT_EQ(delta.exit_code, 0) << delta.err;
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& row : parse_json_lines(delta.out)) by_name[row["name"]] = row;
  // TIME-WAIT sockets, and FIN-WAIT-2 ones already handed to the timewait machinery (the kernel
  // counts those in TW too).
  auto ss = ns_->run({"ss", "-Htan", "state", "time-wait", "state", "fin-wait-2"});
  size_t in_time_wait = static_cast<size_t>(std::count(ss.out.begin(), ss.out.end(), '\n'));
  EXPECT_GE(in_time_wait, 300u);
  EXPECT_EQ(by_name["TcpExtTW"]["delta"].get<double>(), static_cast<double>(in_time_wait))
      << "every socket now in TIME-WAIT was counted as it entered";
  EXPECT_NE(by_name["TcpExtTW"]["meaning"].get<std::string>().find("entering TIME-WAIT"), std::string::npos);
  EXPECT_NE(by_name["TcpExtTW"]["meaning"].get<std::string>().find("__inet_twsk_schedule"), std::string::npos);
  EXPECT_EQ(by_name["TcpPassiveOpens"]["delta"].get<double>(), 300.0);
  EXPECT_NE(by_name["TcpPassiveOpens"]["meaning"].get<std::string>().find("tcp_create_openreq_child"), std::string::npos);
  // Every meaning the default view shows names the kernel function that bumps the counter.
  auto all = run_command({synscope_binary(), "counters", "--json", "--netns", ns_->name()});
  for (const auto& row : parse_json_lines(all.out)) {
    std::string m = row.value("meaning", "");
    EXPECT_NE(m.find('('), std::string::npos) << row["name"] << ": " << m;
    EXPECT_EQ(m.back(), ')') << row["name"] << ": " << m;
  }
  EXPECT_EQ(server.interrupt(), 0);
}

TEST_F(KernelView, TopOnARealTerminalShowsTheCountsAndQuitsOnQ) {
  if (!have_tool("tmux")) GTEST_SKIP() << "no tmux";
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  ASSERT_EQ(ns_->run({synscope_binary(), "probe", "-c", "300", "-i", "0", "-q"}).exit_code, 0);
  // The last connections finish closing just after the probe exits: wait until the count holds.
  auto count = [&] {
    auto tw = run_command({synscope_binary(), "sockets", "--state", "time-wait", "--count", "--netns", ns_->name()});
    EXPECT_EQ(tw.exit_code, 0);
    return std::stoull(tw.out);
  };
  uint64_t expected = count();
  for (int i = 0; i < 25; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t again = count();
    if (again == expected) break;
    expected = again;
  }
  ASSERT_GE(expected, 250u);  // the last few may end with a RST when the probe exits
  // A tmux server of our own (its own socket), so no one else's sessions are touched.
  std::string server = "synscope-test-" + std::to_string(getpid());
  auto tmux = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"tmux", "-L", server});
    return run_command(argv, 10'000);
  };
  auto started = tmux({"new-session", "-d", "-x", "120", "-y", "40", "-s", "top", synscope_binary(), "top", "--netns",
                       ns_->name(), "--interval", "300ms"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string screen;
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    screen = tmux({"capture-pane", "-p", "-t", "top"}).out;
    // The second screen has rates: wait for it.
    seen = screen.find("time-wait") != std::string::npos && screen.find("active opens") != std::string::npos &&
           screen.find("       -") == std::string::npos;
  }
  EXPECT_TRUE(seen) << screen;
  std::istringstream lines(screen);
  std::string line;
  bool counted = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string label;
    uint64_t value = 0;
    if (words >> label >> value && label == "time-wait") {
      counted = true;
      EXPECT_EQ(value, expected) << line;
    }
  }
  EXPECT_TRUE(counted) << screen;
  EXPECT_NE(screen.find("LISTENERS"), std::string::npos);
  tmux({"send-keys", "-t", "top", "q"});
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = tmux({"has-session", "-t", "top"}).exit_code != 0;
  }
  EXPECT_TRUE(gone) << "top did not quit on q";
  tmux({"kill-server"});
}

// On an 80x24 terminal the listener queues stay on screen (sockets and rates side by side), the
// ones that do not fit are counted, a full accept queue is red, and NO_COLOR turns colour off.
TEST_F(KernelView, TopAt80x24KeepsTheListenersOnScreenInColour) {
  if (!have_tool("tmux")) GTEST_SKIP() << "no tmux";
  sockets_in s(ns_->name());
  s.listener(7600, 4);
  for (int i = 0; i < 5; ++i) s.connect_to(7600);  // never accepted: the queue is full
  for (uint16_t port = 7601; port <= 7611; ++port) s.listener(port, 16);
  std::string server = "synscope-test-" + std::to_string(getpid());
  auto tmux = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"tmux", "-L", server});
    return run_command(argv, 10'000);
  };
  auto screen_of = [&](const std::vector<std::string>& env) {
    std::vector<std::string> argv{"new-session", "-d", "-x", "80", "-y", "24", "-s", "top", "env"};
    argv.insert(argv.end(), env.begin(), env.end());
    for (const auto& a : {synscope_binary(), std::string("top"), std::string("--netns"), ns_->name(),
                          std::string("--interval"), std::string("300ms")}) {
      argv.push_back(a);
    }
    auto started = tmux(argv);
    EXPECT_EQ(started.exit_code, 0) << started.err;
    std::string screen;
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      screen = tmux({"capture-pane", "-e", "-p", "-t", "top"}).out;
      if (screen.find("more (synscope sockets -s") != std::string::npos && screen.find("       -") == std::string::npos) break;
    }
    tmux({"send-keys", "-t", "top", "q"});
    for (int i = 0; i < 50 && tmux({"has-session", "-t", "top"}).exit_code == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return screen;
  };
  std::string coloured = screen_of({"TERM=xterm-256color"});
  std::string plain = screen_of({"TERM=xterm-256color", "NO_COLOR=1"});
  tmux({"kill-server"});
  EXPECT_EQ(coloured.rfind("synscope top ", 0), 0u) << "nothing scrolled off the top:\n" << coloured;
  EXPECT_NE(coloured.find("LISTENERS"), std::string::npos) << coloured;
  EXPECT_NE(coloured.find("... 4 more (synscope sockets -s lists every listener)"), std::string::npos) << coloured;
  size_t full = coloured.find("127.0.0.1:7600");
  ASSERT_NE(full, std::string::npos) << coloured;
  std::string before_it = coloured.substr(coloured.rfind('\n', full) + 1, full - coloured.rfind('\n', full) - 1);
  EXPECT_NE(before_it.find("31"), std::string::npos) << "the full queue is red: " << before_it;
  EXPECT_EQ(plain.find('\033'), std::string::npos) << plain;
  EXPECT_NE(plain.find("127.0.0.1:7600"), std::string::npos) << plain;
  size_t rows = std::count(plain.begin(), plain.end(), '\n');
  EXPECT_LE(rows, 24u) << plain;
}

TEST_F(KernelView, TopWithoutATerminalPrintsOneLinePerInterval) {
  auto r = run_command({synscope_binary(), "top", "--netns", ns_->name(), "--interval", "100ms", "-n", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    EXPECT_NE(line.find(" time-wait=0 "), std::string::npos) << line;
    EXPECT_NE(line.find(" active_opens/s=0.0 "), std::string::npos) << line;
  }
  EXPECT_EQ(n, 3);
  auto j = run_command({synscope_binary(), "top", "--netns", ns_->name(), "--interval", "100ms", "-n", "2", "--json"});
  auto rows = parse_json_lines(j.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["states"]["listen"], 0);
}

}  // namespace
}  // namespace synscope::testing
