// The one listener maker: what it sets, and errors that name the address.
#include "active/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

namespace synscope::active {
namespace {

int option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

TEST(Listener, ListensWithTheOptionsAskedFor) {
  listen_options o;
  o.backlog = 7;
  o.reuseport = true;
  o.fastopen_qlen = 16;
  o.defer_accept_s = 1;
  auto fd = make_listener(core::loopback_address(core::address_family::ipv4), o, "test");
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  EXPECT_EQ(option(fd->get(), SOL_SOCKET, SO_ACCEPTCONN), 1);
  EXPECT_EQ(option(fd->get(), SOL_SOCKET, SO_REUSEADDR), 1);
  EXPECT_EQ(option(fd->get(), SOL_SOCKET, SO_REUSEPORT), 1);
  EXPECT_EQ(option(fd->get(), IPPROTO_TCP, TCP_FASTOPEN), 16);
  EXPECT_GT(option(fd->get(), IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
  auto bound = bound_address(fd->get(), "test");
  ASSERT_TRUE(bound.ok());
  EXPECT_NE(bound->port(), 0);  // port 0 asked: the kernel chose one
}

TEST(Listener, IPv6IsV6OnlyAndATakenPortIsNamed) {
  auto first = make_listener(core::loopback_address(core::address_family::ipv6), {}, "test");
  if (!first) GTEST_SKIP() << "no IPv6 loopback: " << first.error().message;
  EXPECT_EQ(option(first->get(), IPPROTO_IPV6, IPV6_V6ONLY), 1);
  auto taken = *bound_address(first->get(), "test");
  auto second = make_listener(taken, {}, "test");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen on " + taken.to_string()), std::string::npos)
      << second.error().message;
}

}  // namespace
}  // namespace synscope::active
