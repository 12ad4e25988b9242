// The exporter's request-head parser, case by case.
#include "exporter/request.h"

#include <gtest/gtest.h>

namespace synscope::exporter {
namespace {

TEST(Request, APrometheusScrape) {
  std::string in =
      "GET /metrics HTTP/1.1\r\nHost: a:9851\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
      "Accept-Encoding: gzip\r\n\r\n";
  auto r = parse_request(in, 8192);
  ASSERT_EQ(r.kind, request::whole);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(r.method, request::get);
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.openmetrics);
  EXPECT_TRUE(r.gzip);
  EXPECT_FALSE(r.has_body);
}

TEST(Request, VersionsConnectionQueryAndBodies) {
  auto ten = parse_request("HEAD /metrics?debug=1 HTTP/1.0\r\n\r\n", 8192);
  ASSERT_EQ(ten.kind, request::whole);
  EXPECT_EQ(ten.method, request::head);
  EXPECT_EQ(ten.path, "/metrics");
  EXPECT_FALSE(ten.keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 8192).keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nconnection: close\r\n\r\n", 8192).keep_alive);
  auto post = parse_request("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 8192);
  ASSERT_EQ(post.kind, request::whole);
  EXPECT_EQ(post.method, request::other);
  EXPECT_TRUE(post.has_body);
  EXPECT_EQ(post.consumed, std::string("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n").size());
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 8192).has_body);
  EXPECT_TRUE(parse_request("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 8192).has_body);
}

TEST(Request, IncompleteTooLargeAndBad) {
  EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n", 8192).kind, request::need_more);
  EXPECT_EQ(parse_request(std::string(8192, 'a'), 8192).kind, request::too_large);
  EXPECT_EQ(parse_request(std::string(8191, 'a'), 8192).kind, request::need_more);
  std::string long_head = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'p') + "\r\n\r\n";
  EXPECT_EQ(parse_request(long_head, 8192).kind, request::too_large) << "a whole head over the limit is still too large";
  EXPECT_EQ(parse_request("NONSENSE\r\n\r\n", 8192).kind, request::bad);
  EXPECT_EQ(parse_request("GET / HTTP/2.0\r\n\r\n", 8192).kind, request::bad);
  EXPECT_EQ(parse_request("GET  HTTP/1.1\r\n\r\n", 8192).kind, request::bad);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nno colon here\r\n\r\n", 8192).kind, request::bad);
  std::string tls("\x16\x03\x01\x02\x00 binary\r\n\r\n", 16);  // a TLS hello to the plain port
  EXPECT_EQ(parse_request(tls, 8192).kind, request::bad);
}

}  // namespace
}  // namespace synscope::exporter
