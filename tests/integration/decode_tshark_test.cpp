// Every frame of every capture in ../shared/pcaps decoded by wire::decode and by tshark:
// which frames are TCP, and for those the ports, raw sequence and acknowledgement numbers,
// flags, payload length, and the handshake options (MSS, window scale, timestamps).
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/support.h"
#include "wire/capture_reader.h"
#include "wire/packet.h"

namespace synscope::testing {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t')) out.push_back(cell);
  out.resize(10);
  return out;
}

TEST(DecodeVsTshark, EveryFrameOfEverySharedCapture) {
  if (!have_tool("tshark")) GTEST_SKIP() << "tshark is not installed";
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  uint64_t compared = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    // occurrence=f: the outer header when IP is tunnelled in IP, as the decoder reads it.
    auto t = run_command({"tshark", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
                          "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.seq_raw", "-e", "tcp.ack_raw", "-e",
                          "tcp.flags", "-e", "tcp.len", "-e", "tcp.options.mss_val", "-e", "tcp.options.wscale.shift",
                          "-e", "tcp.options.timestamp.tsval", "-e", "frame.number"},
                         120'000);
    std::istringstream lines(t.out);
    auto reader = wire::capture_reader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    wire::frame f;
    std::string line;
    while (true) {
      auto more = reader->next(f);
      ASSERT_TRUE(more.ok()) << more.error().message;
      if (!*more) break;
      ASSERT_TRUE(std::getline(lines, line)) << "tshark has fewer frames";
      auto c = split_tabs(line);
      wire::packet_view p;
      auto status = wire::decode(f.linktype, f.data, p);
      bool tshark_tcp = !c[0].empty() && !c[5].empty();
      if (!tshark_tcp) {
        EXPECT_NE(status, wire::decode_status::tcp) << "frame " << f.number << ": tshark sees no complete TCP header";
        continue;
      }
      ASSERT_EQ(status, wire::decode_status::tcp)
          << "frame " << f.number << ": " << wire::decode_status_name(status) << "; tshark: " << line;
      ++compared;
      EXPECT_EQ(p.sport, std::stoul(c[0])) << "frame " << f.number;
      EXPECT_EQ(p.dport, std::stoul(c[1])) << "frame " << f.number;
      EXPECT_EQ(p.seq, std::stoul(c[2])) << "frame " << f.number;
      EXPECT_EQ(p.ack, std::stoul(c[3])) << "frame " << f.number;
      EXPECT_EQ(p.flags, std::stoul(c[4], nullptr, 16) & 0x1ff) << "frame " << f.number;
      EXPECT_EQ(p.payload_len, std::stoul(c[5])) << "frame " << f.number;
      EXPECT_EQ(p.options.has_mss, !c[6].empty()) << "frame " << f.number;
      if (!c[6].empty()) {
        EXPECT_EQ(p.options.mss, std::stoul(c[6])) << "frame " << f.number;
      }
      EXPECT_EQ(p.options.has_wscale, !c[7].empty()) << "frame " << f.number;
      if (!c[7].empty()) {
        EXPECT_EQ(p.options.wscale, std::stoul(c[7])) << "frame " << f.number;
      }
      EXPECT_EQ(p.options.has_timestamps, !c[8].empty()) << "frame " << f.number;
      if (!c[8].empty()) {
        EXPECT_EQ(p.options.tsval, std::stoul(c[8])) << "frame " << f.number;
      }
    }
    EXPECT_FALSE(std::getline(lines, line)) << "tshark has more frames";
  }
  EXPECT_GT(compared, 80'000u);  // the echo capture alone has 82582 TCP frames
}

}  // namespace
}  // namespace synscope::testing
