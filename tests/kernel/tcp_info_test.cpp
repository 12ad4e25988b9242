#include "kernel/tcp_info.h"

#include <linux/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace synscope::kernel {
namespace {

TEST(OptionNames, EveryBitNamed) {
  EXPECT_TRUE(option_names(0).empty());
  auto all = option_names(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE | TCPI_OPT_ECN |
                          TCPI_OPT_ECN_SEEN | TCPI_OPT_SYN_DATA);
  EXPECT_EQ(all, (std::vector<std::string>{"timestamps", "sack", "wscale", "ecn", "ecn_seen", "syn_data"}));
  EXPECT_EQ(option_names(TCPI_OPT_SYN_DATA | TCPI_OPT_SACK), (std::vector<std::string>{"sack", "syn_data"}));
}

TEST(DecodeTcpInfo, FieldsFromTheKernelsLayoutAndZeroPastWhatWasGiven) {
  struct tcp_info raw {};
  raw.tcpi_state = 1;
  raw.tcpi_options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE;
  raw.tcpi_snd_wscale = 7;
  raw.tcpi_rcv_wscale = 9;
  raw.tcpi_rtt = 1234;
  raw.tcpi_rttvar = 56;
  raw.tcpi_snd_mss = 1448;
  raw.tcpi_snd_cwnd = 10;
  raw.tcpi_total_retrans = 3;
  auto v = decode_tcp_info(&raw, sizeof raw);
  EXPECT_TRUE(v.valid);
  EXPECT_EQ(v.state, 1);
  EXPECT_EQ(v.snd_wscale, 7);
  EXPECT_EQ(v.rcv_wscale, 9);
  EXPECT_EQ(v.rtt_us, 1234u);
  EXPECT_EQ(v.rttvar_us, 56u);
  EXPECT_EQ(v.snd_mss, 1448u);
  EXPECT_EQ(v.snd_cwnd, 10u);
  EXPECT_EQ(v.total_retrans, 3u);
  // An old kernel's shorter answer (here: only the first eight bytes) leaves the rest zero.
  auto old = decode_tcp_info(&raw, 8);
  EXPECT_EQ(old.options, raw.tcpi_options);
  EXPECT_EQ(old.rtt_us, 0u);
  EXPECT_EQ(old.snd_mss, 0u);
  // A newer kernel's longer answer: the known prefix.
  std::vector<unsigned char> longer(sizeof raw + 64, 0xee);
  std::memcpy(longer.data(), &raw, sizeof raw);
  EXPECT_EQ(decode_tcp_info(longer.data(), longer.size()).rtt_us, 1234u);
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
}  // namespace synscope::kernel
