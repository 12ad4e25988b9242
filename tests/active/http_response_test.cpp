// Where an HTTP response ends, as RFC 9112 §6.3 delimits it.
#include "active/http_response.h"

#include <string>

#include <gtest/gtest.h>

namespace synscope::active {
namespace {

TEST(HttpResponse, ContentLengthBodyEndsAtItsLength) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  EXPECT_EQ(parse_http_response(r.substr(0, r.size() - 1), false, false).kind, http_reply::need_more);
  auto done = parse_http_response(r + "HTTP/1.1", false, false);
  EXPECT_EQ(done.kind, http_reply::complete);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.consumed, r.size());
}

TEST(HttpResponse, ChunkedBodyEndsAfterTheLastChunkAndTrailers) {
  std::string r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 999\r\n\r\n"
                  "5;name=x\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (size_t cut = r.find("\r\n\r\n") + 4; cut < r.size(); ++cut) {
    EXPECT_EQ(parse_http_response(r.substr(0, cut), false, false).kind, http_reply::need_more) << cut;
  }
  auto done = parse_http_response(r, false, false);
  EXPECT_EQ(done.kind, http_reply::complete);
  EXPECT_TRUE(done.chunked);
  EXPECT_EQ(done.consumed, r.size());
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, false).kind,
            http_reply::bad);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX", false, false).kind,
            http_reply::bad);
}

TEST(HttpResponse, NoBodyForHeadAnd204And304AndInterimAnswersAreSkipped) {
  EXPECT_EQ(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, false).kind, http_reply::complete);
  EXPECT_EQ(parse_http_response("HTTP/1.1 204 No Content\r\n\r\n", false, false).kind, http_reply::complete);
  EXPECT_EQ(parse_http_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, false).kind,
            http_reply::complete);
  auto after_continue = parse_http_response("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                                            false, false);
  EXPECT_EQ(after_continue.kind, http_reply::complete);
  EXPECT_EQ(after_continue.status, 404);
}

TEST(HttpResponse, ABodyWithoutLengthEndsAtTheClose) {
  std::string r = "HTTP/1.0 200 OK\r\n\r\nall of it";
  EXPECT_EQ(parse_http_response(r, false, false).kind, http_reply::need_more);
  auto done = parse_http_response(r, false, true);
  EXPECT_EQ(done.kind, http_reply::complete);
  EXPECT_EQ(done.consumed, r.size());
}

TEST(HttpResponse, WhatIsNotAResponseIsBad) {
  for (const char* r : {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                        "HTTP/1.1 2000 OK\r\n\r\n"}) {
    EXPECT_EQ(parse_http_response(r, false, false).kind, http_reply::bad) << r;
  }
  EXPECT_EQ(parse_http_response(std::string(max_reply_head + 1, 'x'), false, false).kind, http_reply::bad);
  EXPECT_EQ(parse_http_response("HTTP/1.1 200", false, false).kind, http_reply::need_more);
}

}  // namespace
}  // namespace synscope::active
