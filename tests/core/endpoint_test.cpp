#include "core/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

endpoint_spec parse_ok(std::string_view text, std::optional<uint16_t> default_port = {}) {
  auto r = parse_endpoint(text, {.default_port = default_port});
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : endpoint_spec{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_endpoint(text, {});
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, exit_code::usage);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "one line";
  return r.error().message;
}

TEST(ParseEndpoint, HostAndPort) {
  auto s = parse_ok("example.org:443");
  EXPECT_EQ(s.host, "example.org");
  EXPECT_EQ(s.port, 443);
}

TEST(ParseEndpoint, Ipv4Literal) {
  auto s = parse_ok("127.0.0.1:8080");
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 8080);
}

TEST(ParseEndpoint, BracketedIpv6) {
  auto s = parse_ok("[::1]:80");
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 80);
  auto z = parse_ok("[fe80::1%lo]:22");
  EXPECT_EQ(z.host, "fe80::1%lo");
}

TEST(ParseEndpoint, BareIpv6TakesDefaultPort) {
  auto s = parse_ok("2001:db8::5", 9000);
  EXPECT_EQ(s.host, "2001:db8::5");
  EXPECT_EQ(s.port, 9000);
}

TEST(ParseEndpoint, ServiceName) { EXPECT_EQ(parse_ok("localhost:ssh").port, 22); }

TEST(ParseEndpoint, DefaultPortOnlyWhenNoneWritten) {
  EXPECT_EQ(parse_ok("db1", 5432).port, 5432);
  EXPECT_EQ(parse_ok("db1:6432", 5432).port, 6432);
}

TEST(ParseEndpoint, Errors) {
  EXPECT_NE(parse_error("").find("empty target"), std::string::npos);
  EXPECT_NE(parse_error("host").find("no port"), std::string::npos);
  EXPECT_NE(parse_error("host:0").find("port 0"), std::string::npos);
  EXPECT_NE(parse_error("host:65536").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("host:99999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("host:").find("empty port"), std::string::npos);
  EXPECT_NE(parse_error(":80").find("empty host"), std::string::npos);
  EXPECT_NE(parse_error("[::1").find("missing ']'"), std::string::npos);
  EXPECT_NE(parse_error("[::zz]:80").find("not a valid IPv6"), std::string::npos);
  EXPECT_NE(parse_error("[127.0.0.1]:80").find("not a valid IPv6"), std::string::npos);
  EXPECT_NE(parse_error("[::1]x80").find("expected ':port'"), std::string::npos);
  EXPECT_NE(parse_error("::1:zz:80").find("not a valid IPv6"), std::string::npos);
  EXPECT_NE(parse_error("bad host:80").find("not a valid host"), std::string::npos);
  EXPECT_NE(parse_error("host:nosuchservice").find("unknown service"), std::string::npos);
}

TEST(ParseEndpoint, PortZeroAllowedForLocalAddresses) {
  auto r = parse_endpoint("127.0.0.1:0", {.allow_port_zero = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->port, 0);
}

TEST(Resolve, NumericIpv4AndIpv6) {
  auto v4 = resolve({"127.0.0.1", 80}, address_family::any);
  ASSERT_TRUE(v4.ok());
  ASSERT_EQ(v4->size(), 1u);
  EXPECT_EQ(v4->front().to_string(), "127.0.0.1:80");
  EXPECT_TRUE(v4->front().is_loopback());
  auto v6 = resolve({"::1", 443}, address_family::any);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->front().to_string(), "[::1]:443");
  EXPECT_EQ(v6->front().family(), AF_INET6);
  EXPECT_EQ(v6->front().port(), 443);
}

TEST(Resolve, FamilyFilterSaysWhatIsMissing) {
  auto r = resolve({"::1", 80}, address_family::ipv4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, exit_code::usage);
  EXPECT_NE(r.error().message.find("no IPv4 address"), std::string::npos) << r.error().message;
}

TEST(Resolve, UnknownHostIsUsageError) {
  auto r = resolve({"no-such-host.invalid", 80}, address_family::any);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, exit_code::usage);
  EXPECT_NE(r.error().message.find("no-such-host.invalid"), std::string::npos);
}

TEST(LocalAddress, NumericOnly) {
  auto a = parse_local_address("127.0.0.2", "--bind");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->to_string(), "127.0.0.2:0");
  auto b = parse_local_address("[::1]:4000", "--bind");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port(), 4000);
  auto c = parse_local_address("localhost", "--bind");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("--bind"), std::string::npos);
}

TEST(SocketAddress, Ipv4MappedLoopback) {
  auto r = resolve({"::ffff:127.0.0.1", 1}, address_family::ipv6);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->front().is_loopback());
  auto other = resolve({"192.0.2.1", 1}, address_family::any);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->front().is_loopback());
}

TEST(IpEndpoint, WrittenByHandAsInetNtopAndHostPortWriteIt) {
  // write_endpoint writes IPv4 bytes without inet_ntop: every byte value, every port width, and
  // IPv6 of every shape (compressed runs, mapped IPv4, the longest) against the library's text.
  std::vector<ip_endpoint> all;
  for (unsigned b = 0; b < 256; ++b) {
    auto v = static_cast<uint8_t>(b);
    for (uint16_t port : std::initializer_list<uint16_t>{0, 7, 80, 443, 8080, 65535}) {
      all.push_back({{4, {v, static_cast<uint8_t>(255 - b), 0, v}}, port});
      all.push_back({{6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, v, v}}, port});
    }
  }
  all.push_back({{6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}}, 1});
  all.push_back({{6, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, 22});
  all.push_back({{6, {}}, 0});
  ip_address longest{6, {}};
  for (size_t i = 0; i < 16; ++i) longest.bytes[i] = static_cast<uint8_t>(0xfe - (i % 2) * 0x10);
  all.push_back({longest, 65535});
  size_t widest = 0;
  for (const auto& e : all) {
    char text[max_endpoint_text];
    size_t n = write_endpoint(text, e);
    ASSERT_LE(n, max_endpoint_text);
    widest = std::max(widest, n);
    char address[INET6_ADDRSTRLEN] = {};
    inet_ntop(e.address.version == 6 ? AF_INET6 : AF_INET, e.address.bytes.data(), address, sizeof address);
    EXPECT_EQ(std::string_view(text, n), host_port(address, e.address.version == 6, e.port));
    EXPECT_EQ(to_string(e), std::string_view(text, n));
  }
  EXPECT_EQ(widest, std::string_view("[feee:feee:feee:feee:feee:feee:feee:feee]:65535").size());
}

}  // namespace
}  // namespace synscope::core

namespace synscope::core {
namespace {

TEST(ParseEndpoint, NulBytesAreRejected) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(parse_endpoint("[::1\0junk]:80"sv, {}).ok());
  EXPECT_FALSE(parse_endpoint("host\0x:80"sv, {}).ok());
}

TEST(IpEndpoint, OneWayToWriteItAndTheSocketAddressRoundTrip) {
  ip_endpoint v4{{4, {127, 0, 0, 1}}, 80};
  EXPECT_EQ(to_string(v4), "127.0.0.1:80");
  ip_endpoint v6{{6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, 443};
  EXPECT_EQ(to_string(v6), "[::1]:443");
  EXPECT_EQ(to_string(v6.address), "::1");
  for (const auto& e : {v4, v6}) {
    socket_address a = socket_address::of(e);
    EXPECT_EQ(a.to_string(), to_string(e));
    EXPECT_EQ(a.endpoint(), e);
    EXPECT_TRUE(a.is_loopback());
  }
  EXPECT_FALSE(v4.address.is_unspecified());
  EXPECT_TRUE((ip_address{4, {}}.is_unspecified()));
  EXPECT_TRUE((ip_address{6, {}}.is_unspecified()));
  EXPECT_TRUE((ip_address{4, {0, 0, 0, 0, 1}}.is_unspecified()));  // only the first four bytes are IPv4's
  EXPECT_FALSE((ip_address{6, {0, 0, 0, 0, 1}}.is_unspecified()));
}

}  // namespace
}  // namespace synscope::core
