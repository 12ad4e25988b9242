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

// True when some process maps `path` (the analyzer has it open and mapped).
bool someone_maps(const std::string& path) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream maps(std::string("/proc/") + e->d_name + "/maps");
    std::string line;
    while (!found && std::getline(maps, line)) found = line.find(path) != std::string::npos;
    if (found) break;
  }
  closedir(d);
  return found;
}

TEST_F(OutputSafety, ACaptureThatShrinksWhileItIsReadGivesItsResultsAndALine) {
  if (!have_tool("strace")) GTEST_SKIP() << "strace is needed";
  // 100,000 connections, 400,000 packets of 56 bytes: 22.4 MB. analyze maps it, and strace holds
  // it for 3 s at its first madvise (just after the mmap); meanwhile the file is cut to 1 MB,
  // as a rotating capture would be.
  std::string capture = dir_.path("rotating.pcap");
  write_synthetic_capture(capture, 100'000);
  background_process p({"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=madvise", "-e",
                        "inject=madvise:delay_exit=3000000:when=1", synscope_binary(), "analyze", capture, "--json"},
                       dir_.path("analyze.log"));
  bool mapped = false;
  for (int i = 0; i < 2000 && !mapped; ++i) {
    mapped = someone_maps(capture);
    if (!mapped) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(mapped) << p.log();
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

}  // namespace
}  // namespace synscope::testing
