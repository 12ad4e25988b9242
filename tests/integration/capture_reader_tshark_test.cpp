// Every frame of every capture in ../shared/pcaps, read by wire::capture_reader and by tshark:
// the same frames, timestamps to the nanosecond, captured and original lengths.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/support.h"
#include "wire/capture_reader.h"

namespace synscope::testing {
namespace {

struct tshark_frame {
  int64_t ts_ns = 0;
  uint32_t caplen = 0;
  uint32_t len = 0;
};

TEST(CaptureReaderVsTshark, EveryFrameOfEverySharedCapture) {
  if (!have_tool("tshark")) GTEST_SKIP() << "tshark is not installed";
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    auto t = run_command({"tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e",
                          "frame.cap_len", "-e", "frame.len"},
                         120'000);
    std::vector<tshark_frame> expected;
    std::istringstream in(t.out);
    std::string ts;
    tshark_frame f;
    std::vector<bool> tshark_garbled;  // tshark overflowed its own formatting of this time
    while (in >> ts >> f.caplen >> f.len) {
      tshark_garbled.push_back(ts.starts_with("-"));
      f.ts_ns = tshark_garbled.back() ? 0 : tshark_time_ns(ts);
      expected.push_back(f);
    }
    auto reader = wire::capture_reader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    wire::frame got;
    size_t n = 0;
    for (;;) {
      auto more = reader->next(got);
      ASSERT_TRUE(more.ok()) << more.error().message;
      if (!*more) break;
      ASSERT_LT(n, expected.size()) << "more frames than tshark";
      if (!tshark_garbled[n]) {
        EXPECT_EQ(got.ts_ns, expected[n].ts_ns) << "frame " << n + 1;
      }
      EXPECT_EQ(got.caplen, expected[n].caplen) << "frame " << n + 1;
      EXPECT_EQ(got.origlen, expected[n].len) << "frame " << n + 1;
      EXPECT_EQ(got.number, n + 1);
      ++n;
    }
    EXPECT_EQ(n, expected.size());
    if (std::find(tshark_garbled.begin(), tshark_garbled.end(), true) != tshark_garbled.end()) {
      // Only a corrupt timestamp (fraction >= 1 s) makes tshark print a negative time.
      EXPECT_GT(reader->stats().odd_timestamps, 0u);
    }
    // tshark says so on stderr when a file is cut short; the reader must say so too.
    bool tshark_truncated = t.err.find("cut short") != std::string::npos;
    EXPECT_EQ(reader->stats().truncated, tshark_truncated) << t.err;
  }
}

}  // namespace
}  // namespace synscope::testing
