#include "active/tcp_info.h"

#include <linux/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace synscope::active {
namespace {

TEST(OptionNames, EveryBitNamed) {
  EXPECT_TRUE(option_names(0).empty());
  auto all = option_names(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE | TCPI_OPT_ECN |
                          TCPI_OPT_ECN_SEEN | TCPI_OPT_SYN_DATA);
  EXPECT_EQ(all, (std::vector<std::string>{"sack", "timestamps", "wscale", "ecn", "ecn_seen", "syn_data"}));
}

TEST(FastopenFailName, KernelEnum) {
  EXPECT_EQ(fastopen_fail_name(TFO_STATUS_UNSPEC), "");
  EXPECT_EQ(fastopen_fail_name(TFO_COOKIE_UNAVAILABLE), "cookie_unavailable");
  EXPECT_EQ(fastopen_fail_name(TFO_DATA_NOT_ACKED), "data_not_acked");
  EXPECT_EQ(fastopen_fail_name(TFO_SYN_RETRANSMITTED), "syn_retransmitted");
}

TEST(ReadTcpInfo, FreshSocketIsClosedState) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  auto v = read_tcp_info(fd);
  close(fd);
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.state, 7);  // TCP_CLOSE in include/net/tcp_states.h
  EXPECT_EQ(v.total_retrans, 0u);
}

TEST(ReadTcpInfo, NotATcpSocketIsInvalid) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(read_tcp_info(fd).valid);
  close(fd);
  EXPECT_FALSE(read_tcp_info(-1).valid);
}

}  // namespace
}  // namespace synscope::active
