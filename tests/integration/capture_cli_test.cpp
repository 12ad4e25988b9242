// `synscope capture` live on the loopback of a namespace the test creates, with traffic made
// by `synscope probe`; and refused without CAP_NET_RAW.
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

TEST(CaptureCli, LiveHandshakesLinesAndSummary) {
  std::string why;
  auto ns = netns::create(why);
  if (!ns) GTEST_SKIP() << why;
  temp_dir dir;
  std::string out = dir.path("capture.out");
  std::string pcap = dir.path("kept.pcap");
  ASSERT_EQ(run_command({"chmod", "777", dir.path("")}).exit_code, 0);  // written after dropping to nobody
  background_process cap(ns->exec({synscope_binary(), "capture", "-i", "lo", "--duration", "3", "--json", "-w", pcap}),
                         out);
  ASSERT_TRUE(cap.wait_for_log("capturing on lo", 20'000)) << cap.log();
  auto r = ns->run({synscope_binary(), "probe", "-c", "6", "-i", "20ms", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto refused = ns->run({synscope_binary(), "probe", "127.0.0.1:1", "-c", "2", "-i", "20ms", "-q"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(cap.interrupt(10'000), 0) << cap.log();  // Ctrl-C: drain, summarise, exit 0

  std::string text = cap.log();
  std::string json_part = text.substr(text.find('\n') + 1);  // the first line is the stderr banner
  auto lines = parse_json_lines(json_part);
  auto intervals = of_type(lines, "interval");
  auto summary = of_type(lines, "summary");
  ASSERT_EQ(summary.size(), 1u) << text;
  uint64_t syns = 0;
  for (const auto& i : intervals) {
    syns += i.at("syn").get<uint64_t>();
    // Refused connections are not half-open: each got its answer (a RST). Before, the two
    // refused probes showed "half_open 2" while they lingered.
    EXPECT_EQ(i.at("half_open"), 0) << i;
  }
  EXPECT_EQ(syns, 8u);
  // Each line is one second of the packets' time, and counts what the summary's timeline counts
  // for that second.
  std::map<int64_t, uint64_t> line_syns;
  for (const auto& i : intervals) {
    int64_t t = i.at("time_unix_ns").get<int64_t>();
    EXPECT_EQ(t % 1'000'000'000, 0) << i;
    line_syns[t / 1'000'000'000] += i.at("syn").get<uint64_t>();
  }
  size_t seconds = 0;
  for (const auto& sec : summary[0].at("timeline")) {
    EXPECT_EQ(line_syns[sec.at("time_unix_ns").get<int64_t>() / 1'000'000'000], sec.at("syn").get<uint64_t>()) << sec << "\n" << text;
    ++seconds;
  }
  EXPECT_GT(seconds, 0u);
  EXPECT_EQ(summary[0].at("completed"), 6);
  EXPECT_EQ(summary[0].at("refused"), 2);
  EXPECT_EQ(summary[0].at("kernel_drops"), 0);
  // What -w kept is the same capture.
  auto again = run_command({synscope_binary(), "analyze", pcap, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto s = of_type(parse_json_lines(again.out), "summary").at(0);
  EXPECT_EQ(s.at("completed"), 6);
  EXPECT_EQ(s.at("refused"), 2);
}

// --netns enters the namespace itself (no ip netns exec), and -r reads a file as analyze does.
TEST(CaptureCli, NetnsCapturesThereAndReadTakesAFile) {
  std::string why;
  auto ns = netns::create(why);
  if (!ns) GTEST_SKIP() << why;
  temp_dir dir;
  std::string pcap = dir.path("kept.pcap");
  ASSERT_EQ(run_command({"chmod", "777", dir.path("")}).exit_code, 0);
  background_process cap({synscope_binary(), "capture", "--netns", ns->name(), "-i", "lo", "--duration", "3", "-q",
                          "-w", pcap},
                         dir.path("capture.out"));
  ASSERT_TRUE(cap.wait_for_log("capturing on lo", 20'000)) << cap.log();
  EXPECT_EQ(ns->run({synscope_binary(), "probe", "-c", "3", "-i", "20ms", "-q"}).exit_code, 0);
  EXPECT_EQ(cap.interrupt(10'000), 0) << cap.log();
  EXPECT_NE(cap.log().find("3 completed"), std::string::npos) << cap.log();
  auto read = run_command({synscope_binary(), "capture", "-r", pcap, "--json", "port", "not", "1"});
  auto analyzed = run_command({synscope_binary(), "analyze", pcap, "--json", "port", "not", "1"});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  auto a = of_type(parse_json_lines(read.out), "summary");
  auto b = of_type(parse_json_lines(analyzed.out), "summary");
  ASSERT_EQ(a.size(), 1u) << read.out;
  ASSERT_EQ(b.size(), 1u) << analyzed.out;
  EXPECT_EQ(a[0].at("completed"), 3);
  EXPECT_EQ(a[0].at("connections"), b[0].at("connections"));
  EXPECT_EQ(run_command({synscope_binary(), "capture", "-r", pcap, "-i", "lo"}).exit_code, 2) << "-r is not live";
  auto missing = run_command({synscope_binary(), "capture", "--netns", "synscope-no-such-ns", "--duration", "1"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

TEST(CaptureCli, WithoutCapNetRawExits77) {
  if (!have_tool("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is not installed";
  auto r = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", synscope_binary(), "capture", "-i", "lo", "--duration", "1"},
                       30'000);
  EXPECT_EQ(r.exit_code, 77) << r.out << r.err;
  EXPECT_NE(r.err.find("needs root or CAP_NET_RAW"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(CaptureCli, UnknownInterfaceAndBadFilter) {
  auto iface = run_command({synscope_binary(), "capture", "-i", "no-such-if0", "--duration", "1"});
  EXPECT_EQ(iface.exit_code, 2) << iface.err;
  EXPECT_NE(iface.err.find("no-such-if0"), std::string::npos) << iface.err;
  auto filter = run_command({synscope_binary(), "capture", "-i", "lo", "--duration", "1", "port", "banana"});
  EXPECT_EQ(filter.exit_code, 2) << filter.err;
  EXPECT_NE(filter.err.find("filter 'port banana'"), std::string::npos) << filter.err;
}

}  // namespace
}  // namespace synscope::testing
