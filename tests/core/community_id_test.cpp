// The Community ID against the spec's own baseline (corelight/community-id-spec,
// baseline/baseline_deflt.json and baseline_seed1.json): every TCP, UDP, SCTP and port-less
// flow of it, from both ends, with seed 0 and seed 1.
#include "core/community_id.h"

#include <arpa/inet.h>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

ip_endpoint at(const char* address, uint16_t port) {
  ip_endpoint e;
  if (inet_pton(AF_INET, address, e.address.bytes.data()) == 1) {
    e.address.version = 4;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, address, e.address.bytes.data()), 1) << address;
    e.address.version = 6;
  }
  e.port = port;
  return e;
}

struct vector {
  uint8_t proto;
  const char* saddr;
  const char* daddr;
  uint16_t sport;
  uint16_t dport;
  const char* seed0;
  const char* seed1;
};

constexpr vector baseline[] = {
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

TEST(CommunityId, TheSpecsBaselineFromBothEndsWithSeedsZeroAndOne) {
  for (const auto& v : baseline) {
    auto a = at(v.saddr, v.sport);
    auto b = at(v.daddr, v.dport);
    EXPECT_EQ(community_id(a, b, v.proto), v.seed0) << v.saddr << " " << v.daddr;
    EXPECT_EQ(community_id(b, a, v.proto), v.seed0) << v.daddr << " " << v.saddr;
    EXPECT_EQ(community_id(a, b, v.proto, 1), v.seed1) << v.saddr << " seed 1";
    EXPECT_EQ(community_id(b, a, v.proto, 1), v.seed1) << v.daddr << " seed 1";
  }
}

TEST(CommunityId, EqualAddressesAreOrderedByPort) {
  // Loopback: both ends on one address, so the port alone orders them.
  auto client = at("127.0.0.1", 40000);
  auto server = at("127.0.0.1", 8080);
  EXPECT_EQ(community_id(client, server, 6), community_id(server, client, 6));
  EXPECT_NE(community_id(client, server, 6), community_id(client, at("127.0.0.1", 8081), 6));
  EXPECT_EQ(community_id(client, server, 6).size(), community_id_size);
}

}  // namespace
}  // namespace synscope::core
