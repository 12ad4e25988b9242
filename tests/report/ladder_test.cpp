#include "report/ladder.h"

#include <gtest/gtest.h>

namespace synscope::report {
namespace {

using namespace wire::tcp_flag;

TEST(TcpdumpFlags, AsTcpdumpWritesThem) {
  EXPECT_EQ(tcpdump_flags(syn), "S");
  EXPECT_EQ(tcpdump_flags(syn | ack), "S.");
  EXPECT_EQ(tcpdump_flags(ack), ".");
  EXPECT_EQ(tcpdump_flags(psh | ack), "P.");
  EXPECT_EQ(tcpdump_flags(fin | ack), "F.");
  EXPECT_EQ(tcpdump_flags(rst), "R");
  EXPECT_EQ(tcpdump_flags(syn | ece | cwr), "SEW");
  EXPECT_EQ(tcpdump_flags(0), "none");
}

TEST(Ladder, HandshakeRowsWithRelativeNumbersAndStates) {
  tcp::ladder l;
  tcp::connection& c = l.record;
  c.client = {wire::ip_address{4, {127, 0, 0, 1}}, 40000};
  c.server = {wire::ip_address{4, {127, 0, 0, 1}}, 80};
  c.client_isn = 1000;
  c.server_isn = 5000;
  c.have_client_isn = c.have_server_isn = true;
  c.initial_rtt_ns = 45'000;
  c.server_rtt_ns = 30'000;
  c.client_rtt_ns = 15'000;
  using S = tcp::tcp_state;
  l.packets = {{0, true, syn, 1000, 0, 0, 65535, {}, S::syn_sent, S::syn_received},
               {30'000, false, syn | ack, 5000, 1001, 0, 65535, {}, S::established, S::syn_received},
               {45'000, true, ack, 1001, 5001, 0, 512, {}, S::established, S::established}};
  std::string text = render_ladder(l);
  EXPECT_NE(text.find("connection 0: 127.0.0.1:40000 -> 127.0.0.1:80"), std::string::npos) << text;
  EXPECT_NE(text.find("initial rtt 0.045 ms (server 0.030 ms, client 0.015 ms)"), std::string::npos) << text;
  EXPECT_NE(text.find("|--- [S] seq=0 ---"), std::string::npos) << text;
  EXPECT_NE(text.find("[S.] seq=0 ack=1 ---|"), std::string::npos) << text;
  EXPECT_NE(text.find("|<-"), std::string::npos) << text;
  EXPECT_NE(text.find("(seq 5000 ack 1001)"), std::string::npos) << text;
  EXPECT_NE(text.find("       0.030  |<-"), std::string::npos) << text;
  EXPECT_NE(text.find("SYN-RECEIVED"), std::string::npos);
  EXPECT_NE(text.find("ESTABLISHED"), std::string::npos);
  for (size_t pos = 0; (pos = text.find(" \n", pos)) != std::string::npos; ++pos) {
    ADD_FAILURE() << "trailing space at " << pos;
  }
}

}  // namespace
}  // namespace synscope::report
