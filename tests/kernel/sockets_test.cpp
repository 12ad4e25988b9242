// sock_diag reply parsing on crafted messages, state names and groups as ss has them, and a
// real dump of this process's own listener.
#include "kernel/snapshot.h"
#include "kernel/sockets.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace synscope::kernel {
namespace {

// One SOCK_DIAG_BY_FAMILY message, optionally followed by a NLMSG_DONE.
std::vector<char> message(uint8_t state, uint16_t sport, uint32_t rqueue, bool done, uint16_t extra_attr_len = 0) {
  std::vector<char> buf(1024, 0);
  auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());  // NOLINT
  auto* m = reinterpret_cast<inet_diag_msg*>(buf.data() + NLMSG_HDRLEN);  // NOLINT
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_msg));
  m->idiag_family = AF_INET;
  m->idiag_state = state;
  m->id.idiag_sport = htons(sport);
  m->id.idiag_src[0] = htonl(0x7f000001);
  m->idiag_rqueue = rqueue;
  m->idiag_wqueue = 128;
  if (extra_attr_len > 0) {
    auto* a = reinterpret_cast<nlattr*>(buf.data() + NLMSG_ALIGN(nlh->nlmsg_len));  // NOLINT
    a->nla_type = 99;
    a->nla_len = extra_attr_len;
    nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + 8;
  }
  size_t used = NLMSG_ALIGN(nlh->nlmsg_len);
  if (done) {
    auto* d = reinterpret_cast<nlmsghdr*>(buf.data() + used);  // NOLINT
    d->nlmsg_type = NLMSG_DONE;
    d->nlmsg_len = NLMSG_LENGTH(4);
    used += NLMSG_ALIGN(d->nlmsg_len);
  }
  buf.resize(used);
  return buf;
}

TEST(Sockets, ParsesAListenerMessageAndDone) {
  auto buf = message(10, 8080, 7, true);
  std::vector<tcp_socket> got;
  auto r = walk_replies(buf.data(), buf.size(), [&](const tcp_socket& s) { got.push_back(s); });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].state, tcp_state::listen);
  EXPECT_EQ(to_string(got[0].local), "127.0.0.1:8080");
  EXPECT_EQ(got[0].rqueue, 7u);
  EXPECT_EQ(got[0].wqueue, 128u);
}

TEST(Sockets, RejectsMalformedReplies) {
  tcp_socket s;
  auto bad_state = message(13, 1, 0, false);
  EXPECT_FALSE(parse_diag_message(bad_state.data(), bad_state.size(), s));
  auto short_msg = message(1, 1, 0, false);
  EXPECT_FALSE(parse_diag_message(short_msg.data(), 20, s));
  auto bad_attr = message(1, 1, 0, false, 200);  // an attribute longer than its message
  EXPECT_FALSE(parse_diag_message(bad_attr.data(), bad_attr.size(), s));
  auto r = walk_replies(bad_attr.data(), bad_attr.size(), [](const tcp_socket&) {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::exit_code::bad_data);
  // An error from the kernel is a system error naming it.
  std::vector<char> err(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
  auto* nlh = reinterpret_cast<nlmsghdr*>(err.data());  // NOLINT
  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_len = static_cast<uint32_t>(err.size());
  reinterpret_cast<nlmsgerr*>(err.data() + NLMSG_HDRLEN)->error = -EPERM;  // NOLINT
  auto e = walk_replies(err.data(), err.size(), [](const tcp_socket&) {});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("EPERM"), std::string::npos) << e.error().message;
}

TEST(Sockets, StateNamesAndGroupsAsSs) {
  EXPECT_EQ(*parse_states("time-wait"), state_bit(tcp_state::time_wait));
  EXPECT_EQ(*parse_states("listening"), state_bit(tcp_state::listen));
  EXPECT_EQ(*parse_states("bucket"), state_bit(tcp_state::syn_recv) | state_bit(tcp_state::time_wait));
  uint32_t connected = *parse_states("connected");
  EXPECT_EQ(connected & state_bit(tcp_state::listen), 0u);
  EXPECT_EQ(connected & state_bit(tcp_state::close), 0u);
  EXPECT_NE(connected & state_bit(tcp_state::syn_sent), 0u);
  EXPECT_EQ(*parse_states("synchronized") & state_bit(tcp_state::syn_sent), 0u);
  EXPECT_EQ(*parse_states("big") & state_bit(tcp_state::time_wait), 0u);
  EXPECT_EQ(*parse_states("all"), all_states);
  EXPECT_FALSE(parse_states("timewait").has_value());
}

TEST(Sockets, DumpFindsOurOwnListener) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
  ASSERT_EQ(listen(fd, 42), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
  socket_query q;
  q.states = state_bit(tcp_state::listen);
  bool found = false;
  auto r = dump_tcp(q, [&](const tcp_socket& s) {
    EXPECT_EQ(s.state, tcp_state::listen);
    if (s.local.port == ntohs(a.sin_port)) {
      found = true;
      EXPECT_EQ(s.wqueue, 42u);
      EXPECT_NE(s.inode, 0u);
    }
  });
  close(fd);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace synscope::kernel

namespace synscope::kernel {
namespace {

tcp_socket sock(tcp_state st, uint8_t family, std::array<uint8_t, 16> addr, uint16_t port, uint32_t rq = 0, uint32_t wq = 0) {
  tcp_socket s;
  s.state = st;
  s.local.address.version = family == AF_INET ? 4 : 6;
  s.local.address.bytes = addr;
  s.local.port = port;
  s.rqueue = rq;
  s.wqueue = wq;
  return s;
}

TEST(Snapshot, HalfOpenGoesToTheListenerOnItsPortAndAddress) {
  std::array<uint8_t, 16> any{};
  std::array<uint8_t, 16> lo{127, 0, 0, 1};
  std::array<uint8_t, 16> other{127, 0, 0, 2};
  std::vector<tcp_socket> listeners{sock(tcp_state::listen, AF_INET, lo, 80, 1, 10),
                                    sock(tcp_state::listen, AF_INET6, any, 443, 9, 10)};
  std::vector<tcp_socket> half{sock(tcp_state::syn_recv, AF_INET, lo, 80), sock(tcp_state::syn_recv, AF_INET, other, 80),
                               sock(tcp_state::syn_recv, AF_INET, lo, 443), sock(tcp_state::syn_recv, AF_INET6, any, 443)};
  auto loads = listener_loads(listeners, half);
  ASSERT_EQ(loads.size(), 2u);
  EXPECT_EQ(loads[0].local.port, 443);  // 90% full comes first
  EXPECT_EQ(loads[0].half_open, 2u);    // a wildcard IPv6 listener takes IPv4 too
  EXPECT_EQ(loads[1].half_open, 1u);    // 127.0.0.2:80 is not 127.0.0.1:80's
  EXPECT_DOUBLE_EQ(loads[1].fill(), 0.1);
}

}  // namespace
}  // namespace synscope::kernel
