// The one handshake connector: loopback handshakes complete inside connect() and the
// zero-timeout poll, a closed port is refused, a source address is bound first. (A pending
// handshake that times out is ProbeNetns.DroppedSynsTimeOutWithinTheTimeout's: it needs a
// namespace that drops SYNs.)
#include "active/connector.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/unique_fd.h"

namespace synscope::active {
namespace {

// A socket bound to a loopback port; listening or not.
core::socket_address bound(core::unique_fd& fd, bool listening) {
  fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
  if (listening) {
    EXPECT_EQ(listen(fd.get(), 16), 0);
  }
  socklen_t len = sizeof a;
  EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);  // NOLINT
  return core::socket_address(reinterpret_cast<sockaddr*>(&a), len);           // NOLINT
}

TEST(Connector, ALoopbackHandshakeEndsInsideStart) {
  core::unique_fd listener;
  auto target = bound(listener, true);
  handshake h;
  ASSERT_TRUE(h.start(target, {}));
  EXPECT_TRUE(h.connected()) << h.error();
  EXPECT_GT(h.elapsed_ns(), 0);
  EXPECT_LT(h.elapsed_ns(), core::ns_per_s);
  EXPECT_EQ(h.tfo(), tfo_use::off);
  auto info = h.kernel_view();
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.state, 1);  // TCP_ESTABLISHED
  core::unique_fd fd = h.release();
  EXPECT_GE(fd.get(), 0);
  EXPECT_FALSE(h.kernel_view().valid);
}

TEST(Connector, AClosedPortIsRefused) {
  core::unique_fd closed;
  auto target = bound(closed, false);
  handshake h;
  ASSERT_TRUE(h.start(target, {}));
  EXPECT_FALSE(h.connected());
  EXPECT_EQ(h.error(), ECONNREFUSED);
}

TEST(Connector, ASourceAddressIsBoundFirst) {
  core::unique_fd listener;
  auto target = bound(listener, true);
  auto source = core::parse_local_address("127.0.0.7", "--source");
  ASSERT_TRUE(source.ok());
  connect_options o;
  o.source = &*source;
  handshake h;
  ASSERT_TRUE(h.start(target, o));
  ASSERT_TRUE(h.connected()) << h.error();
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ASSERT_EQ(getsockname(h.fd(), reinterpret_cast<sockaddr*>(&local), &len), 0);  // NOLINT
  EXPECT_EQ(ntohl(local.sin_addr.s_addr), 0x7f000007u);
}

}  // namespace
}  // namespace synscope::active
