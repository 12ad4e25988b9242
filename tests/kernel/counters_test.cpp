// The /proc/net counter parsers: nstat's names, gauges, and one-line errors on bad input.
#include "kernel/counters.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/file.h"

namespace synscope::kernel {
namespace {

TEST(Counters, SnmpPairsGetNstatNames) {
  std::vector<counter> out;
  auto r = parse_snmp_pairs(
      "Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 137\nTcpExt: ListenOverflows SyncookiesSent\n"
      "TcpExt: 3 18446744073709551615\n",
      "snmp", out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].name, "TcpRtoAlgorithm");
  EXPECT_TRUE(out[0].gauge);
  EXPECT_EQ(out[1].value, -1);  // MaxConn: no limit
  EXPECT_EQ(out[2].name, "TcpActiveOpens");
  EXPECT_FALSE(out[2].gauge);
  EXPECT_EQ(out[2].value, 137);
  EXPECT_EQ(out[3].name, "TcpExtListenOverflows");
  EXPECT_EQ(*find_counter(out, "TcpExtListenOverflows"), 3);
  EXPECT_FALSE(find_counter(out, "TcpExtNope").has_value());
}

TEST(Counters, Snmp6Lines) {
  std::vector<counter> out;
  ASSERT_TRUE(parse_snmp6("Ip6InReceives                   \t52\nIcmp6InMsgs 0\n", "snmp6", out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "Ip6InReceives");
  EXPECT_EQ(out[0].value, 52);
}

TEST(Counters, BadInputIsOneLineNamingFileAndLine) {
  std::vector<counter> out;
  auto missing = parse_snmp_pairs("Tcp: A B\n", "/proc/net/snmp", out);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "/proc/net/snmp: line 1: a header line with no value line after it");
  EXPECT_EQ(missing.error().code, core::exit_code::bad_data);
  auto count = parse_snmp_pairs("Tcp: A B\nTcp: 1\n", "snmp", out);
  EXPECT_EQ(count.error().message, "snmp: line 2: 2 names but 1 values");
  auto prefix = parse_snmp_pairs("Tcp: A\nUdp: 1\n", "snmp", out);
  EXPECT_EQ(prefix.error().message, "snmp: line 2: expected the values of 'Tcp:'");
  auto number = parse_snmp_pairs("Tcp: A\nTcp: 1x\n", "snmp", out);
  EXPECT_EQ(number.error().message, "snmp: line 2: '1x' is not a number (TcpA)");
  auto six = parse_snmp6("Ip6InReceives\n", "snmp6", out);
  EXPECT_EQ(six.error().message, "snmp6: line 1: expected 'Name value'");
  auto control = parse_snmp_pairs("Tcp: A\nTcp: \x01\n", "snmp", out);
  EXPECT_EQ(control.error().message, "snmp: line 2: '\\x01' is not a number (TcpA)");
}

TEST(Counters, ThisHostsProcParses) {
  auto all = read_counters();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_TRUE(find_counter(*all, "TcpActiveOpens").has_value());
  EXPECT_TRUE(find_counter(*all, "TcpExtListenOverflows").has_value());
  auto none = read_counters("/nonexistent");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("/nonexistent/net/snmp"), std::string::npos);
}

TEST(Counters, SockstatTcpLine) {
  auto tcp = parse_sockstat_tcp(
      "sockets: used 9\nTCP: inuse 3 orphan 1 tw 8 alloc 5 mem 2 newkey 7\nUDP: inuse 0 mem 0\n", "sockstat");
  ASSERT_TRUE(tcp.ok()) << tcp.error().message;
  EXPECT_EQ(tcp->inuse, 3u);
  EXPECT_EQ(tcp->orphan, 1u);
  EXPECT_EQ(tcp->tw, 8u);
  EXPECT_EQ(tcp->alloc, 5u);
  EXPECT_EQ(tcp->mem, 2u);  // and a key this version does not know is skipped
  // "TCP6:" (sockstat6) is another line, not this one.
  EXPECT_EQ(parse_sockstat_tcp("TCP6: inuse 1\n", "s").error().message, "s: no 'TCP:' line");
}

TEST(Counters, BadSockstatIsOneLineNamingFileAndLine) {
  const std::string source = "/proc/thread-self/net/sockstat";
  auto no_tw = parse_sockstat_tcp("sockets: used 1\nTCP: inuse 1 orphan 0\n", source);
  ASSERT_FALSE(no_tw.ok());
  EXPECT_EQ(no_tw.error().code, core::exit_code::bad_data);
  EXPECT_EQ(no_tw.error().message, source + ": line 2: the TCP line has no 'tw' count");
  EXPECT_EQ(parse_sockstat_tcp("TCP: inuse 1 tw\n", "s").error().message,
            "s: line 1: expected 'TCP: key value ...' pairs");
  EXPECT_EQ(parse_sockstat_tcp("TCP: tw -1\n", "s").error().message, "s: line 1: '-1' is not a number (TCP tw)");
  EXPECT_EQ(parse_sockstat_tcp("TCP: tw 99999999999999999999\n", "s").error().message,
            "s: line 1: '99999999999999999999' is not a number (TCP tw)");
  EXPECT_FALSE(parse_sockstat_tcp("", "s").ok());
}

TEST(Counters, ThisHostsSockstatParses) {
  auto text = core::read_file("/proc/net/sockstat");
  ASSERT_TRUE(text.ok()) << text.error().message;
  auto tcp = parse_sockstat_tcp(*text, "/proc/net/sockstat");
  ASSERT_TRUE(tcp.ok()) << tcp.error().message;
  auto missing = core::read_file("/nonexistent/sockstat");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "/nonexistent/sockstat: open: No such file or directory (ENOENT)");
}

TEST(Counters, GlobsAndGroups) {
  EXPECT_TRUE(glob_match("TcpExt*Listen*", "TcpExtListenOverflows"));
  EXPECT_FALSE(glob_match("TcpExt*Listen*", "TcpActiveOpens"));
  EXPECT_TRUE(glob_match("Tcp?ctiveOpens", "TcpActiveOpens"));
  size_t n = 0;
  for (const auto& g : handshake_groups()) n += g.counters.size();
  EXPECT_GE(handshake_groups().size(), 7u);
  EXPECT_GT(n, 25u);
}

}  // namespace
}  // namespace synscope::kernel

namespace synscope::kernel {
namespace {

std::vector<counter> sample_counters() {
  return {{"TcpActiveOpens", "Tcp", "ActiveOpens", 100, false},
          {"TcpCurrEstab", "Tcp", "CurrEstab", 7, true},
          {"TcpExtListenOverflows", "TcpExt", "ListenOverflows", 3, false},
          {"TcpExtListenDrops", "TcpExt", "ListenDrops", 4, false}};
}

TEST(CounterView, DefaultIsTheHandshakeGroupsAndPatternsKeepTheKernelsOrder) {
  auto all = sample_counters();
  auto rows = select_counters(all, {}, false);
  ASSERT_FALSE(rows.empty());
  EXPECT_STREQ(rows.front().group, handshake_groups().front().name);
  size_t expected = 0;
  for (const auto& g : handshake_groups()) expected += g.counters.size();
  EXPECT_EQ(rows.size(), expected);
  auto listen = select_counters(all, {"TcpExt*Listen*"}, false);
  ASSERT_EQ(listen.size(), 2u);
  EXPECT_EQ(listen[0].name, "TcpExtListenOverflows");
  EXPECT_EQ(*listen[1].value, 4);
  EXPECT_NE(std::string(listen[0].meaning), "");  // a handshake counter keeps its meaning
  EXPECT_EQ(select_counters(all, {}, true).size(), all.size());
  EXPECT_EQ(unmatched_patterns(all, {"Tcp*Opens", "TcpExtNope*"}), std::vector<std::string>{"TcpExtNope*"});
}

TEST(CounterView, RatesAndDeltasLeaveGaugesAlone) {
  auto before = sample_counters();
  auto after = sample_counters();
  after[0].value = 160;  // 60 opens
  after[1].value = 9;    // a gauge moved
  auto rows = select_counters(after, {}, true);
  set_rates(rows, before, 2.0);
  EXPECT_DOUBLE_EQ(*rows[0].change, 30.0);
  EXPECT_FALSE(rows[1].change.has_value());
  EXPECT_DOUBLE_EQ(*rows[2].change, 0.0);
  counter_history h;
  h.values = {{"TcpActiveOpens", 150}, {"TcpCurrEstab", 1}};
  auto delta = select_counters(after, {}, true);
  set_deltas(delta, h);
  EXPECT_DOUBLE_EQ(*delta[0].change, 10.0);
  EXPECT_FALSE(delta[1].change.has_value());  // a gauge
  EXPECT_FALSE(delta[2].change.has_value());  // not in the history
}

TEST(CounterHistory, RoundTripsAndRefusesWhatIsNotOne) {
  char tmpl[] = "/tmp/synscope-history-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/h";
  auto none = load_history(path);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(save_history(path, sample_counters(), 1234567).ok());
  auto h = load_history(path);
  ASSERT_TRUE(h && h->has_value());
  EXPECT_EQ((*h)->wall_ns, 1234567);
  EXPECT_EQ((*h)->values.at("TcpExtListenDrops"), 4);
  EXPECT_EQ((*h)->values.size(), 4u);
  // A link planted at the path is replaced, not written through, and not read.
  std::string victim = dir + "/victim";
  ASSERT_TRUE(core::write_file_atomically(victim, "#synscope-counters 1\nTcpActiveOpens 99\n", 0600).ok());
  ASSERT_EQ(unlink(path.c_str()), 0);
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  auto linked = load_history(path);
  ASSERT_FALSE(linked);
  EXPECT_EQ(linked.error().message, path + ": a symbolic link, not a history file");
  ASSERT_TRUE(save_history(path, sample_counters(), 1).ok());
  EXPECT_EQ(*core::read_file(victim), "#synscope-counters 1\nTcpActiveOpens 99\n");
  ASSERT_TRUE(core::write_file_atomically(path, "not a history\n", 0600).ok());
  auto bad = load_history(path);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->has_value());
  std::filesystem::remove_all(dir);
}

TEST(CounterHistory, AFileSomeoneElseCouldHavePutThereIsRefused) {
  char tmpl[] = "/tmp/synscope-history-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/h";
  ASSERT_TRUE(save_history(path, sample_counters(), 1).ok());
  ASSERT_EQ(chmod(path.c_str(), 0622), 0);
  auto writable = load_history(path);
  ASSERT_FALSE(writable);
  EXPECT_EQ(writable.error().message, path + ": writable by others (mode 0622)");
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  if (geteuid() == 0) {
    ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);
    auto theirs = load_history(path);
    ASSERT_FALSE(theirs);
    EXPECT_EQ(theirs.error().message, path + ": owned by uid 65534, not by this user (uid 0)");
    ASSERT_EQ(chown(path.c_str(), 0, 0), 0);
  }
  ASSERT_TRUE(core::write_file_atomically(path, std::string(history_limit + 1, '#'), 0600).ok());
  auto huge = load_history(path);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("over the 1048576"), std::string::npos) << huge.error().message;
  std::filesystem::remove_all(dir);
}

TEST(CounterHistory, ParseStopsAtTheFirstLineThatIsNotACounter) {
  auto h = parse_history("#synscope-counters 42\nTcpActiveOpens 7\nTcpPassiveOpens x\nTcpExtTW 3\n");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->wall_ns, 42);
  EXPECT_EQ(h->values.size(), 1u);
  EXPECT_FALSE(parse_history("").has_value());
  EXPECT_FALSE(parse_history("#nstat 1\n").has_value());
}

TEST(CounterHistory, DefaultPathIsPerUserAndNamespace) {
  std::string base = default_history_path("");
  EXPECT_NE(base.find(".synscope-counters.u" + std::to_string(getuid())), std::string::npos);
  EXPECT_EQ(default_history_path("lab0"), base + ".lab0");
}

TEST(CounterDeltas, InTheOrderAskedAndZeroWhereEitherLacksIt) {
  std::vector<counter> before = {{"TcpPassiveOpens", "Tcp", "PassiveOpens", 10, false},
                                 {"TcpExtListenDrops", "TcpExt", "ListenDrops", 4, false}};
  std::vector<counter> after = {{"TcpExtListenDrops", "TcpExt", "ListenDrops", 9, false},
                                {"TcpPassiveOpens", "Tcp", "PassiveOpens", 25, false},
                                {"TcpExtTW", "TcpExt", "TW", 3, false}};
  auto d = counter_deltas(before, after, {"TcpPassiveOpens", "TcpExtListenDrops", "TcpExtTW", "TcpNoSuch"});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], (std::pair<std::string, int64_t>{"TcpPassiveOpens", 15}));
  EXPECT_EQ(d[1].second, 5);
  EXPECT_EQ(d[2].second, 0);  // not in `before`
  EXPECT_EQ(d[3].second, 0);
}

}  // namespace
}  // namespace synscope::kernel
