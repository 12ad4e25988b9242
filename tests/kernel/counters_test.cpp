// The /proc/net counter parsers: nstat's names, gauges, and one-line errors on bad input.
#include "kernel/counters.h"

#include <gtest/gtest.h>

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
