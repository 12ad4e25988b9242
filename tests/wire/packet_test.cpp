// Decoding hand-built frames: every link type, IPv6 extension headers, fragments, options,
// and one named test per malformed case.
#include "wire/packet.h"

#include <vector>

#include <gtest/gtest.h>

#include "wire/tcp.h"

namespace synscope::wire {
namespace {

using byte_vec = std::vector<uint8_t>;

bytes view(const byte_vec& v) { return bytes(reinterpret_cast<const std::byte*>(v.data()), v.size()); }

void append(byte_vec& v, std::initializer_list<uint8_t> b) { v.insert(v.end(), b); }

// A SYN from 10.0.0.1:40000 to 10.0.0.2:80, seq 0x01020304, with MSS 1460, SACK-permitted,
// timestamps 7/0, NOP, window scale 7; and `payload` bytes of data.
byte_vec tcp_syn(size_t payload = 0) {
  byte_vec t = {0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0};
  append(t, {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7});
  t.resize(t.size() + payload, 0xaa);
  return t;
}

byte_vec ipv4(const byte_vec& l4, uint8_t proto = 6, uint16_t frag = 0) {
  uint16_t total = static_cast<uint16_t>(20 + l4.size());
  byte_vec v = {0x45, 0x02, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1,
                static_cast<uint8_t>(frag >> 8), static_cast<uint8_t>(frag), 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  v.insert(v.end(), l4.begin(), l4.end());
  return v;
}

byte_vec ipv6(const byte_vec& after, uint8_t next) {
  uint16_t plen = static_cast<uint16_t>(after.size());
  byte_vec v = {0x60, 0x00, 0, 0, static_cast<uint8_t>(plen >> 8), static_cast<uint8_t>(plen), next, 64};
  for (int i = 0; i < 15; ++i) v.push_back(0);
  v.push_back(1);  // ::1
  for (int i = 0; i < 15; ++i) v.push_back(0);
  v.push_back(2);  // ::2
  v.insert(v.end(), after.begin(), after.end());
  return v;
}

byte_vec ethernet(const byte_vec& payload, uint16_t type, std::vector<uint16_t> vlans = {}) {
  byte_vec v(12, 0x11);
  for (uint16_t vid : vlans) append(v, {0x81, 0x00, static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid)});
  append(v, {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type)});
  v.insert(v.end(), payload.begin(), payload.end());
  return v;
}

void expect_syn(const packet_view& p) {
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 80);
  EXPECT_EQ(p.seq, 0x01020304u);
  EXPECT_EQ(p.flags, tcp_flag::syn);
  EXPECT_TRUE(p.options.has_mss);
  EXPECT_EQ(p.options.mss, 1460);
  EXPECT_TRUE(p.options.sack_permitted);
  EXPECT_TRUE(p.options.has_timestamps);
  EXPECT_EQ(p.options.tsval, 7u);
  EXPECT_TRUE(p.options.has_wscale);
  EXPECT_EQ(p.options.wscale, 7);
  EXPECT_FALSE(p.options.malformed);
}

TEST(Decode, EthernetIpv4Syn) {
  byte_vec f = ethernet(ipv4(tcp_syn(5)), 0x0800);
  packet_view p;
  ASSERT_EQ(decode(1, view(f), p), decode_status::tcp);
  expect_syn(p);
  EXPECT_EQ(p.src.version, 4);
  EXPECT_EQ(p.src.bytes[3], 1);
  EXPECT_EQ(p.dst.bytes[3], 2);
  EXPECT_EQ(p.payload_len, 5u);
  EXPECT_EQ(p.ecn, 2);
  EXPECT_EQ(p.vlan_count, 0);
}

TEST(Decode, StackedVlanTags) {
  byte_vec f = ethernet(ipv4(tcp_syn()), 0x0800, {30, 20, 10});
  packet_view p;
  ASSERT_EQ(decode(1, view(f), p), decode_status::tcp);
  expect_syn(p);
  EXPECT_EQ(p.vlan_count, 3);
  EXPECT_EQ(p.vlan[0], 30);
  EXPECT_EQ(p.vlan[2], 10);
}

TEST(Decode, MoreThanEightVlanTagsAreCountedApart) {
  byte_vec f = ethernet(ipv4(tcp_syn()), 0x0800, std::vector<uint16_t>(9, 5));
  packet_view p;
  EXPECT_EQ(decode(1, view(f), p), decode_status::vlan_depth);
  byte_vec eight = ethernet(ipv4(tcp_syn()), 0x0800, std::vector<uint16_t>(8, 5));
  EXPECT_EQ(decode(1, view(eight), p), decode_status::tcp);
  EXPECT_EQ(p.vlan_count, 8);
}

TEST(Decode, LinuxCookedV1AndV2) {
  byte_vec ip = ipv4(tcp_syn());
  byte_vec sll = {0, 0, 0x03, 0x04, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  sll.insert(sll.end(), ip.begin(), ip.end());
  byte_vec sll2 = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  packet_view p;
  ASSERT_EQ(decode(113, view(sll), p), decode_status::tcp);
  expect_syn(p);
  ASSERT_EQ(decode(276, view(sll2), p), decode_status::tcp);
  expect_syn(p);
}

TEST(Decode, RawIpLinkTypes) {
  byte_vec v4 = ipv4(tcp_syn());
  byte_vec v6 = ipv6(tcp_syn(), 6);
  packet_view p;
  for (uint16_t lt : {uint16_t{101}, uint16_t{12}, uint16_t{14}}) {
    ASSERT_EQ(decode(lt, view(v4), p), decode_status::tcp) << lt;
    ASSERT_EQ(decode(lt, view(v6), p), decode_status::tcp) << lt;
    EXPECT_EQ(p.src.version, 6);
  }
  ASSERT_EQ(decode(228, view(v4), p), decode_status::tcp);
  ASSERT_EQ(decode(229, view(v6), p), decode_status::tcp);
  expect_syn(p);
}

TEST(Decode, BsdNullInEitherByteOrderAndLoop) {
  byte_vec ip = ipv6(tcp_syn(), 6);
  byte_vec le = {30, 0, 0, 0};  // AF_INET6 on macOS, little-endian host
  le.insert(le.end(), ip.begin(), ip.end());
  byte_vec be = {0, 0, 0, 28};  // AF_INET6 on FreeBSD, big-endian host
  be.insert(be.end(), ip.begin(), ip.end());
  packet_view p;
  ASSERT_EQ(decode(0, view(le), p), decode_status::tcp);
  ASSERT_EQ(decode(0, view(be), p), decode_status::tcp);
  ASSERT_EQ(decode(108, view(be), p), decode_status::tcp);
  expect_syn(p);
}

TEST(Decode, Ipv6ExtensionHeaders) {
  // hop-by-hop (8 bytes) -> destination options (16 bytes) -> atomic fragment -> TCP
  byte_vec chain = {60, 0, 1, 4, 0, 0, 0, 0};
  append(chain, {44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  append(chain, {6, 0, 0x00, 0x00, 0, 0, 0, 1});
  byte_vec t = tcp_syn(3);
  chain.insert(chain.end(), t.begin(), t.end());
  byte_vec f = ethernet(ipv6(chain, 0), 0x86dd);
  packet_view p;
  ASSERT_EQ(decode(1, view(f), p), decode_status::tcp);
  expect_syn(p);
  EXPECT_EQ(p.payload_len, 3u);
  EXPECT_EQ(p.src.bytes[15], 1);
}

TEST(Decode, Fragments) {
  packet_view p;
  byte_vec first = ethernet(ipv4(tcp_syn(), 6, 0x2000), 0x0800);  // MF
  byte_vec later = ethernet(ipv4(tcp_syn(), 6, 0x0010), 0x0800);  // offset 128
  EXPECT_EQ(decode(1, view(first), p), decode_status::fragment);
  EXPECT_EQ(decode(1, view(later), p), decode_status::fragment);
  byte_vec frag6 = {6, 0, 0x00, 0x01, 0, 0, 0, 9};  // M set
  byte_vec t = tcp_syn();
  frag6.insert(frag6.end(), t.begin(), t.end());
  EXPECT_EQ(decode(229, view(ipv6(frag6, 44)), p), decode_status::fragment);
}

TEST(Decode, NotIpAndNotTcp) {
  packet_view p;
  EXPECT_EQ(decode(1, view(ethernet(byte_vec(28, 0), 0x0806)), p), decode_status::not_ip);  // ARP
  EXPECT_EQ(decode(1, view(ethernet(ipv4(byte_vec(8, 0), 17), 0x0800)), p), decode_status::not_tcp);  // UDP
  EXPECT_EQ(decode(229, view(ipv6(byte_vec(8, 0), 58)), p), decode_status::not_tcp);  // ICMPv6
  EXPECT_EQ(decode(147, view(ipv4(tcp_syn())), p), decode_status::unsupported_link);
}

TEST(Decode, TruncatedHeaders) {
  packet_view p;
  byte_vec f = ethernet(ipv4(tcp_syn()), 0x0800);
  for (size_t cut : {size_t{10}, size_t{20}, size_t{14 + 19}, size_t{14 + 20 + 19}}) {
    byte_vec short_frame(f.begin(), f.begin() + static_cast<long>(cut));
    EXPECT_EQ(decode(1, view(short_frame), p), decode_status::truncated) << cut;
  }
}

TEST(Decode, OptionsCutBySnaplenAreParsedAsFarAsTheyGo) {
  // As in zeek's truncated-header.pcap: a SYN snapped inside its timestamps option.
  byte_vec f = ethernet(ipv4(tcp_syn()), 0x0800);
  f.resize(14 + 20 + 20 + 6);  // MSS and SACK-permitted whole, timestamps cut
  packet_view p;
  ASSERT_EQ(decode(1, view(f), p), decode_status::tcp);
  EXPECT_EQ(p.flags, tcp_flag::syn);
  EXPECT_TRUE(p.options.truncated);
  EXPECT_FALSE(p.options.malformed);
  EXPECT_TRUE(p.options.has_mss);
  EXPECT_TRUE(p.options.sack_permitted);
  EXPECT_FALSE(p.options.has_timestamps);
}

TEST(Decode, PayloadLengthComesFromIpNotFromCaplen) {
  byte_vec f = ethernet(ipv4(tcp_syn(100)), 0x0800);
  f.resize(14 + 20 + 40 + 10);  // a 10-byte snap of a 100-byte payload
  packet_view p;
  ASSERT_EQ(decode(1, view(f), p), decode_status::tcp);
  EXPECT_EQ(p.payload_len, 100u);
}

TEST(Decode, Ipv4HeaderLengthBelowFive) {
  byte_vec ip = ipv4(tcp_syn());
  ip[0] = 0x44;
  packet_view p;
  EXPECT_EQ(decode(228, view(ip), p), decode_status::malformed);
}

TEST(Decode, Ipv4TotalLengthBelowHeader) {
  byte_vec ip = ipv4(tcp_syn());
  ip[2] = 0;
  ip[3] = 12;
  packet_view p;
  EXPECT_EQ(decode(228, view(ip), p), decode_status::malformed);
}

TEST(Decode, TcpDataOffsetBelowFive) {
  byte_vec t = tcp_syn();
  t[12] = 0x40;
  packet_view p;
  EXPECT_EQ(decode(228, view(ipv4(t)), p), decode_status::malformed);
}

TEST(Decode, TcpDataOffsetBeyondIpLength) {
  byte_vec t = tcp_syn();
  t[12] = 0xf0;  // 60-byte header in a 40-byte segment
  packet_view p;
  EXPECT_EQ(decode(228, view(ipv4(t)), p), decode_status::malformed);
}

TEST(Decode, AccEcnFlagsIncludingAe) {
  byte_vec t = tcp_syn();
  t[12] = 0xa1;  // AE
  t[13] = 0xc2;  // CWR, ECE, SYN
  packet_view p;
  ASSERT_EQ(decode(228, view(ipv4(t)), p), decode_status::tcp);
  EXPECT_EQ(p.flags, tcp_flag::ae | tcp_flag::cwr | tcp_flag::ece | tcp_flag::syn);
}

tcp_options options(byte_vec area) {
  tcp_options o;
  parse_tcp_options(view(area), o);
  return o;
}

TEST(TcpOptions, FastOpenCookieRequestAndCookie) {
  auto request = options({34, 2});
  EXPECT_TRUE(request.has_fastopen);
  EXPECT_EQ(request.fastopen_cookie_len, 0);
  auto cookie = options({34, 10, 1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(cookie.has_fastopen);
  EXPECT_EQ(cookie.fastopen_cookie_len, 8);
  auto experimental = options({254, 12, 0xf9, 0x89, 1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(experimental.has_fastopen);
  EXPECT_EQ(experimental.fastopen_cookie_len, 8);
  auto other_experiment = options({254, 6, 0x12, 0x34, 0, 0});
  EXPECT_FALSE(other_experiment.has_fastopen);
  EXPECT_FALSE(other_experiment.malformed);
}

TEST(TcpOptions, MptcpIsNoted) { EXPECT_TRUE(options({30, 4, 0, 0}).mptcp); }

TEST(TcpOptions, WrongLengthForKnownKindIsSkipped) {
  // Timestamps with length 8 (should be 10), then a valid MSS: the MSS is still read.
  auto o = options({8, 8, 0, 0, 0, 1, 0, 0, 2, 4, 0x05, 0xb4});
  EXPECT_TRUE(o.malformed);
  EXPECT_FALSE(o.has_timestamps);
  EXPECT_TRUE(o.has_mss);
}

TEST(TcpOptions, LengthBelowTwoStops) {
  auto o = options({2, 0, 2, 4, 0x05, 0xb4});
  EXPECT_TRUE(o.malformed);
  EXPECT_FALSE(o.has_mss);
}

TEST(TcpOptions, LengthPastTheAreaStops) {
  auto o = options({1, 1, 8, 20, 0, 0});
  EXPECT_TRUE(o.malformed);
  EXPECT_FALSE(o.has_timestamps);
}

TEST(TcpOptions, KindWithoutRoomForLength) {
  auto o = options({1, 1, 1, 2});
  EXPECT_TRUE(o.malformed);
}

TEST(TcpOptions, EndOfOptionListStops) {
  auto o = options({0, 2, 4, 0x05, 0xb4});
  EXPECT_FALSE(o.malformed);
  EXPECT_FALSE(o.has_mss);
}

}  // namespace
}  // namespace synscope::wire
