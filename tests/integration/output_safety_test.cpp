// Output that cannot be written and input that changes under the reader: every command checks
// its writes (a full disk, a closed standard output) and says so with exit 3; output paths are
// checked before the work; a capture that shrinks while it is read, or that has a corrupt record
// in the middle, gives the results up to there, one line naming file and offset, and exit 4.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

namespace fs = std::filesystem;

// `synscope ARGS` with its standard output redirected by the shell: "> /dev/full" or ">&-".
command_result with_stdout(const std::string& redirect, const std::vector<std::string>& args, const netns* ns = nullptr) {
  std::string cmd = "exec \"$0\"";
  for (size_t i = 0; i < args.size(); ++i) cmd += " \"$" + std::to_string(i + 1) + "\"";
  cmd += " " + redirect;
  std::vector<std::string> argv = {"sh", "-c", cmd, synscope_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return ns != nullptr ? ns->run(argv) : run_command(argv);
}

class OutputSafety : public netns_test {
 protected:
  temp_dir dir_;
};

TEST_F(OutputSafety, LostOutputIsAnErrorForEveryCommand) {
  // A capture large enough that --json rows are written from the tracking thread mid-run.
  std::string capture = dir_.path("many.pcap");
  write_synthetic_capture(capture, 20'000);
  struct run {
    std::vector<std::string> args;
    bool in_ns;
  };
  std::vector<run> runs = {
      {{"analyze", capture}, false},
      {{"analyze", capture, "--json"}, false},
      {{"analyze", capture, "--csv"}, false},
      {{"sockets"}, true},
      {{"sockets", "-s", "--json"}, true},
      {{"counters"}, true},
      {{"bench", "127.0.0.1:9", "-n", "20", "-c", "2", "--timeout", "200ms"}, true},
      {{"tune", "backup", "--dir", dir_.path("backups"), "--json"}, true},
  };
  for (const auto& r : runs) {
    for (const char* redirect : {"> /dev/full", ">&-"}) {
      std::string shown;
      for (const auto& a : r.args) shown += a + " ";
      SCOPED_TRACE(shown + redirect);
      auto res = with_stdout(redirect, r.args, r.in_ns ? &*ns_ : nullptr);
      EXPECT_EQ(res.exit_code, 3) << res.err;
      EXPECT_NE(res.err.find("synscope: cannot write standard output: "), std::string::npos) << res.err;
      EXPECT_NE(res.err.find(std::string(redirect) == ">&-" ? "(EBADF)" : "(ENOSPC)"), std::string::npos) << res.err;
      EXPECT_EQ(res.err.find("terminate called"), std::string::npos) << res.err;
    }
  }
}

TEST_F(OutputSafety, OutputPathsAreCheckedBeforeTheWork) {
  std::string capture = dir_.path("c.pcap");
  write_synthetic_capture(capture, 100);
  for (const auto& [args, what] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"analyze", capture, "--report", dir_.path("no/such/folder/r.html")}, "--report"},
           {{"analyze", capture, "--report", dir_.path("")}, "--report"},
           {{"bench", "127.0.0.1:9", "-n", "5", "--report", dir_.path("nope/r.html")}, "--report"},
       }) {
    std::vector<std::string> argv = {synscope_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = ns_->run(argv);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "") << "the work ran before the path was checked";
    EXPECT_EQ(r.err.rfind("synscope: " + what + " ", 0), 0u) << r.err;
  }
}

// True when some process has `path` open (the analyzer, held at its first read of it).
bool someone_opened(const std::string& path) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return false;
  bool found = false;
  while (!found) {
    dirent* e = readdir(d);
    if (e == nullptr) break;
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string fds = std::string("/proc/") + e->d_name + "/fd";
    DIR* fd_dir = opendir(fds.c_str());
    if (fd_dir == nullptr) continue;
    while (dirent* f = readdir(fd_dir)) {
      char target[4096];
      ssize_t n = readlink((fds + "/" + f->d_name).c_str(), target, sizeof target);
      if (n > 0 && std::string(target, static_cast<size_t>(n)) == path) {
        found = true;
        break;
      }
    }
    closedir(fd_dir);
  }
  closedir(d);
  return found;
}

TEST_F(OutputSafety, ACaptureThatShrinksWhileItIsReadGivesItsResultsAndALine) {
  if (!have_tool("strace")) GTEST_SKIP() << "strace is needed";
  // 100,000 connections, 400,000 packets of 56 bytes: 22.4 MB. strace holds analyze for 3 s at
  // its first pread of the file (the look for a gzip magic, just after the open: -P keeps the
  // other preads, the dynamic loader's, out of it); meanwhile the file is cut to 1 MB, as a
  // rotating capture would be.
  std::string capture = dir_.path("rotating.pcap");
  write_synthetic_capture(capture, 100'000);
  background_process p({"strace", "-f", "-qq", "-o", "/dev/null", "-P", capture, "-e", "trace=pread64", "-e",
                        "inject=pread64:delay_exit=3000000:when=1", synscope_binary(), "analyze", capture, "--json"},
                       dir_.path("analyze.log"));
  bool opened = false;
  for (int i = 0; i < 2000 && !opened; ++i) {
    opened = someone_opened(capture);
    if (!opened) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(opened) << p.log();
  ASSERT_EQ(truncate(capture.c_str(), 1'000'000), 0);
  int code = p.wait(60'000);
  std::string log = p.log();
  EXPECT_EQ(code, 4) << log;  // not 135 (SIGBUS)
  EXPECT_NE(log.find("synscope: " + capture + ": the file shrank while it was read: the bytes from offset 1000000 on "
                                              "are gone"),
            std::string::npos)
      << log;
  // The results up to there: (1,000,000 - 24) / 56 whole packets, each counted once.
  std::istringstream lines(log);
  std::string line;
  std::string summary;
  while (std::getline(lines, line)) {
    if (line.find("\"type\":\"summary\"") != std::string::npos) summary = line;
  }
  ASSERT_FALSE(summary.empty()) << log;
  auto j = nlohmann::json::parse(summary);
  EXPECT_EQ(j["packets"], (1'000'000 - 24) / 56) << summary;
  EXPECT_NE(j["error"].get<std::string>().find("the file shrank"), std::string::npos);
}

TEST_F(OutputSafety, ACorruptRecordMidFileGivesTheResultsBeforeIt) {
  // A good capture, then a record whose length is beyond any snapshot length, then more.
  std::string good = dir_.path("good.pcap");
  write_synthetic_capture(good, 1000);
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  size_t at = 24 + 56 * 2000;  // after 2,000 whole packets
  uint32_t huge = 0x7fffffff;
  std::memcpy(bytes.data() + at + 8, &huge, 4);
  std::string bad = dir_.path("bad.pcap");
  std::ofstream(bad, std::ios::binary) << bytes;
  auto r = run_command({synscope_binary(), "analyze", bad, "--json"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(bad + ": byte offset " + std::to_string(at) + ", packet 2001: record length 2147483647 exceeds"),
            std::string::npos)
      << r.err;
  auto summary = of_type(parse_json_lines(r.out), "summary");
  ASSERT_EQ(summary.size(), 1u) << r.out;
  EXPECT_EQ(summary[0]["packets"], 2000);
}

// A pcap of Ethernet frames, each a TCP SYN behind `tags` 802.1Q tags.
std::string vlan_capture(const std::vector<int>& tags_per_frame) {
  auto u16 = [](std::string& s, uint16_t v) {
    s += static_cast<char>(v >> 8);
    s += static_cast<char>(v & 0xff);
  };
  auto le32 = [](std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  std::string file;
  le32(file, 0xa1b2c3d4);
  file += std::string("\x02\x00\x04\x00", 4);
  le32(file, 0);
  le32(file, 0);
  le32(file, 65535);
  le32(file, 1);  // LINKTYPE_ETHERNET
  uint32_t n = 0;
  for (int tags : tags_per_frame) {
    std::string f(12, '\x02');  // destination and source MAC
    for (int t = 0; t < tags; ++t) {
      u16(f, 0x8100);
      u16(f, static_cast<uint16_t>(100 + t));
    }
    u16(f, 0x0800);
    std::string ip = std::string("\x45\x00\x00\x28\x00\x01\x00\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02", 20);
    std::string tcp;
    u16(tcp, static_cast<uint16_t>(40000 + n));
    u16(tcp, 80);
    tcp += std::string("\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00", 16);
    f += ip + tcp;
    le32(file, 1700000000 + n);
    le32(file, 0);
    le32(file, static_cast<uint32_t>(f.size()));
    le32(file, static_cast<uint32_t>(f.size()));
    file += f;
    ++n;
  }
  return file;
}

TEST_F(OutputSafety, FramesWithMoreThanEightVlanTagsAreCountedAndNamed) {
  std::string path = dir_.path("qinq-deep.pcap");
  std::ofstream(path, std::ios::binary) << vlan_capture({1, 8, 9, 12});
  auto text = run_command({synscope_binary(), "analyze", path});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("4 packets (2 TCP)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("not decoded: 2 with more than 8 VLAN tags\n"), std::string::npos) << text.out;
  auto json = run_command({synscope_binary(), "analyze", path, "--json"});
  auto summary = of_type(parse_json_lines(json.out), "summary");
  ASSERT_EQ(summary.size(), 1u) << json.out;
  EXPECT_EQ(summary[0]["decoded"]["vlan_depth"], 2);
  EXPECT_EQ(summary[0]["decoded"]["tcp"], 2);
}

}  // namespace
}  // namespace synscope::testing
