// The lab's SYN builder makes packets a decoder and a checksum agree with, and the flood refuses
// any target outside the lab's own link before it opens a socket.
#include <gtest/gtest.h>

#include <array>

#include "lab/flood.h"
#include "lab/testbed.h"
#include "wire/packet.h"

namespace synscope::lab {
namespace {

uint32_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2 == 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

TEST(Flood, BuildsASynTheDecoderReadsWithAValidChecksum) {
  std::array<uint8_t, 64> buf{};
  uint32_t src = spoofed_network | 0x1234;
  size_t len = build_syn(buf, src, 40000, server_ip, 8080, 0xdeadbeef);
  ASSERT_EQ(len, 44u);
  wire::packet_view p;
  ASSERT_EQ(wire::decode(101, wire::bytes(reinterpret_cast<const std::byte*>(buf.data()), len), p),  // NOLINT
            wire::decode_status::tcp);
  EXPECT_EQ(p.flags, wire::tcp_flag::syn);
  EXPECT_EQ(p.sport, 40000);
  EXPECT_EQ(p.dport, 8080);
  EXPECT_EQ(p.seq, 0xdeadbeefu);
  EXPECT_TRUE(p.options.has_mss);
  EXPECT_EQ(p.options.mss, 1460);
  EXPECT_EQ(p.src.bytes[0], 10);
  EXPECT_EQ(p.src.bytes[1], 204);
  EXPECT_EQ(p.dst.bytes[1], 203);
  // The TCP checksum: pseudo-header plus segment sums to 0xffff.
  std::array<uint8_t, 12> pseudo{};
  std::copy(buf.begin() + 12, buf.begin() + 20, pseudo.begin());  // source and destination
  pseudo[9] = 6;
  pseudo[11] = 24;
  EXPECT_EQ(ones_sum(buf.data() + 20, 24, ones_sum(pseudo.data(), pseudo.size())), 0xffffu);
  EXPECT_EQ(build_syn(std::span<uint8_t>(buf.data(), 43), src, 1, server_ip, 1, 0), 0u);  // too small
}

TEST(Flood, RefusesTargetsOutsideTheLab) {
  std::atomic<bool> stop{false};
  for (uint32_t target : {0x7f000001u, 0x0a000001u, 0x0acb0100u, 0xc0a80001u, 0x08080808u}) {
    flood_options o;
    o.target = target;
    o.port = 80;
    o.rate = 10;
    o.duration_ns = 1'000'000;
    auto r = syn_flood(o, stop);
    ASSERT_FALSE(r) << std::hex << target;
    EXPECT_EQ(r.error().code, core::exit_code::usage);
  }
  EXPECT_TRUE(in_lab(server_ip));
  EXPECT_TRUE(in_lab(client_ip));
  EXPECT_FALSE(in_lab(spoofed_network | 1));
}

TEST(Flood, RefusesAnUnboundedFlood) {
  std::atomic<bool> stop{false};
  flood_options o;
  o.target = server_ip;
  o.port = 80;
  o.duration_ns = 0;
  auto r = syn_flood(o, stop);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::exit_code::usage);
}

}  // namespace
}  // namespace synscope::lab
