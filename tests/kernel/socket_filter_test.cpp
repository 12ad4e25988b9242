// The socket filter as data: prefixes, states and groups parsed with one-line errors naming the
// option, and the part of the filter matched in user space.
#include "kernel/socket_filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace synscope::kernel {
namespace {

ip_endpoint endpoint(const char* text, uint16_t port) {
  ip_endpoint e;
  e.port = port;
  if (inet_pton(AF_INET, text, e.address.bytes.data()) == 1) {
    e.address.version = 4;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, e.address.bytes.data()), 1) << text;
    e.address.version = 6;
  }
  return e;
}

TEST(AddressPrefix, MatchesWholeAndPartialBytes) {
  auto p = parse_prefix("10.1.0.0/16", "--dst");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->matches(endpoint("10.1.200.3", 1)));
  EXPECT_FALSE(p->matches(endpoint("10.2.0.1", 1)));
  EXPECT_FALSE(p->matches(endpoint("::ffff:10.1.0.1", 1)));  // another family
  auto odd = parse_prefix("192.168.0.128/25", "--src");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->matches(endpoint("192.168.0.200", 1)));
  EXPECT_FALSE(odd->matches(endpoint("192.168.0.100", 1)));
  auto host = parse_prefix("[::1]", "--src");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->bits, 128);
  EXPECT_TRUE(host->matches(endpoint("::1", 80)));
  EXPECT_FALSE(host->matches(endpoint("::2", 80)));
  auto v6 = parse_prefix("fd00::/8", "--dst");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->matches(endpoint("fdab::1", 9)));
  EXPECT_TRUE(parse_prefix("0.0.0.0/0", "--dst")->matches(endpoint("8.8.8.8", 53)));
}

TEST(AddressPrefix, BadTextIsAUsageErrorNamingTheOption) {
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/0008", "host.example", ""}) {
    auto p = parse_prefix(bad, "--dst");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, core::exit_code::usage);
    EXPECT_EQ(p.error().message.rfind("--dst '", 0), 0u) << p.error().message;
  }
}

TEST(SocketFilter, StatesGoToTheKernelPortsAndPrefixesAreMatchedHere) {
  filter_spec spec;
  spec.states = {"time-wait", "syn-recv"};
  spec.dport = 443;
  spec.dst = "10.0.0.0/8";
  spec.ipv6 = false;
  auto f = socket_filter::parse(spec);
  ASSERT_TRUE(f.ok()) << f.error().message;
  auto q = f->query(true);
  EXPECT_EQ(q.states, state_bit(tcp_state::time_wait) | state_bit(tcp_state::syn_recv));
  EXPECT_TRUE(q.ipv4);
  EXPECT_FALSE(q.ipv6);
  EXPECT_TRUE(q.tcp_info);
  tcp_socket s;
  s.local = endpoint("10.0.0.1", 40000);
  s.remote = endpoint("10.9.9.9", 443);
  EXPECT_TRUE(f->matches(s));
  s.remote.port = 80;
  EXPECT_FALSE(f->matches(s));
  s.remote = endpoint("11.0.0.1", 443);
  EXPECT_FALSE(f->matches(s));
}

TEST(SocketFilter, ListeningWinsAndBadStatesNameEveryChoice) {
  filter_spec spec;
  spec.states = {"established"};
  spec.listening = true;
  EXPECT_EQ(socket_filter::parse(spec)->states, state_bit(tcp_state::listen));
  EXPECT_EQ(socket_filter::parse({})->states, all_states);
  spec.states = {"connected", "nope"};
  auto bad = socket_filter::parse(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, core::exit_code::usage);
  EXPECT_NE(bad.error().message.find("--state 'nope': not a state (established"), std::string::npos);
  EXPECT_NE(bad.error().message.find("nor a group (all, connected, synchronized, bucket, big)"), std::string::npos);
  spec.states = {};
  spec.src = "300.1.1.1";
  EXPECT_EQ(socket_filter::parse(spec).error().message.rfind("--src '300.1.1.1'", 0), 0u);
}

TEST(GroupKey, WordsRoundTrip) {
  for (auto k : {group_key::local_port, group_key::local_address, group_key::remote_address, group_key::process}) {
    EXPECT_EQ(parse_group_key(group_key_name(k)), k);
  }
  EXPECT_FALSE(parse_group_key("ports").has_value());
}

}  // namespace
}  // namespace synscope::kernel
