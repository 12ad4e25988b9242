// Power-loss style interruption of `synscope tune apply` and `tune restore`: each is killed
// with SIGKILL at every step that changes something (each mkdir, write, fchmod, fsync, rename
// and unlink it makes, one run per step: strace injects the SIGKILL on that call), in a namespace of its
// own. After every kill: no file is half-written (the persisted sysctl.d file is absent or
// whole; every backup that is not marked .partial verifies), each setting holds its old or its
// new value, and the state can be recovered: a complete backup restores every original value,
// and apply run again finishes.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> keys = {"net.ipv4.tcp_syncookies", "net.ipv4.tcp_max_syn_backlog", "net.core.somaxconn",
                                       "net.ipv4.tcp_synack_retries"};

std::map<std::string, std::string> values(const netns& ns) {
  std::map<std::string, std::string> out;
  for (const auto& k : keys) {
    auto r = ns.run({"sysctl", "-n", k});
    std::string v = r.out;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
    out[k] = v;
  }
  return out;
}

class TuneKill : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tool("strace")) GTEST_SKIP() << "strace is needed";
  }
  command_result tune(std::vector<std::string> args) {
    args.insert(args.begin(), {synscope_binary(), "tune"});
    return run_command(args);
  }
  // `tune ARGS` with SIGKILL injected on the n-th call of `syscall`; true when it was killed.
  bool killed_at(const std::string& syscall, int n, std::vector<std::string> args) {
    std::vector<std::string> argv = {"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + syscall, "-e",
                                     fmt::format("inject={}:signal=KILL:when={}", syscall, n), synscope_binary(), "tune"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_command(argv);
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 128 + 9) << syscall << " " << n << ": " << r.err;
    return r.exit_code != 0;
  }
  // Every backup folder that is not .partial verifies (restore --dry-run is not a thing: a
  // restore into a scratch namespace is the check).
  void expect_backups_whole(const std::string& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (name.find(".partial") != std::string::npos || name.find(".tmp-") != std::string::npos) continue;
      std::string why;
      auto scratch = netns::create(why);
      ASSERT_TRUE(scratch) << why;
      auto r = tune({"restore", "--netns", scratch->name(), e.path().string()});
      EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    }
  }
  temp_dir dir_;
};

TEST_F(TuneKill, ApplyKilledAtEveryStepLeavesWholeFilesAndCanBeUndone) {
  int steps = 0;
  for (const char* syscall : {"mkdir", "mkdirat", "write", "fchmod", "fsync", "rename", "renameat2", "unlinkat"}) {
    for (int n = 1;; ++n) {
      SCOPED_TRACE(fmt::format("SIGKILL at {} #{}", syscall, n));
      std::string why;
      auto ns = netns::create(why);
      ASSERT_TRUE(ns) << why;
      std::string run = dir_.path(fmt::format("{}-{}", syscall, n));
      fs::create_directories(run);
      std::string persist = run + "/99-synscope.conf";
      std::string backups = run + "/backups";
      auto before = values(*ns);
      if (!killed_at(syscall, n, {"apply", "--netns", ns->name(), "--profile", "synflood", "--persist-path", persist, "--dir", backups})) {
        break;  // it ran to the end: every step of this kind has been interrupted once
      }
      ++steps;
      // Whole files only.
      if (fs::exists(persist)) {
        std::string text = read_text(persist);
        EXPECT_TRUE(text.ends_with("\n"));
        for (const auto& k : keys) EXPECT_NE(text.find(k + " = "), std::string::npos) << k << " missing from " << text;
      }
      expect_backups_whole(backups);
      // Old or new values, never anything else.
      auto mid = values(*ns);
      auto audit = tune({"plan", "--netns", ns->name(), "--profile", "synflood", "--json"});
      EXPECT_NE(audit.exit_code, 2) << audit.err;
      // Recoverable: apply again finishes, and the first complete backup (if the kill came
      // after it) gives back every original value.
      auto again = tune({"apply", "--netns", ns->name(), "--profile", "synflood", "--persist-path", persist, "--dir", backups});
      EXPECT_EQ(again.exit_code, 0) << again.err;
      std::vector<fs::path> complete;
      for (const auto& e : fs::directory_iterator(backups)) {
        EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << "an interrupted backup was left behind";
      }
      for (const auto& e : fs::directory_iterator(backups)) {
        std::string name = e.path().filename().string();
        if (name.find(".partial") == std::string::npos && name.find(".tmp-") == std::string::npos) complete.push_back(e.path());
      }
      std::sort(complete.begin(), complete.end());
      ASSERT_FALSE(complete.empty());
      auto restored = tune({"restore", "--netns", ns->name(), complete.front().string()});
      EXPECT_EQ(restored.exit_code, 0) << restored.err;
      EXPECT_EQ(values(*ns), before);
      for (const auto& [k, v] : mid) EXPECT_FALSE(v.empty()) << k;
    }
  }
  EXPECT_GE(steps, 10);
  fmt::print("tune apply: killed at {} steps, each left whole files and a recoverable state\n", steps);
}

TEST_F(TuneKill, RestoreKilledAtEveryStepCanBeRunAgain) {
  int steps = 0;
  // Restore writes settings and puts the persisted file back (here: removes it, as it was not
  // there before the apply).
  for (const char* syscall : {"write", "unlink"}) {
    for (int n = 1;; ++n) {
      SCOPED_TRACE(fmt::format("SIGKILL at {} #{}", syscall, n));
      std::string why;
      auto ns = netns::create(why);
      ASSERT_TRUE(ns) << why;
      std::string run = dir_.path(fmt::format("restore-{}-{}", syscall, n));
      std::string persist = dir_.path(fmt::format("restore-{}-{}.conf", syscall, n));
      auto before = values(*ns);
      auto a = tune({"apply", "--netns", ns->name(), "--profile", "synflood", "--persist-path", persist, "--dir", run,
                     "--json"});
      ASSERT_EQ(a.exit_code, 0) << a.err;
      std::string backup = nlohmann::json::parse(a.out)["backup"];
      auto applied = values(*ns);
      if (!killed_at(syscall, n, {"restore", "--netns", ns->name(), backup})) break;
      ++steps;
      auto mid = values(*ns);
      for (const auto& k : keys) EXPECT_TRUE(mid[k] == before[k] || mid[k] == applied[k]) << k << " = " << mid[k];
      auto again = tune({"restore", "--netns", ns->name(), backup});
      EXPECT_EQ(again.exit_code, 0) << again.err;
      EXPECT_EQ(values(*ns), before);
      EXPECT_FALSE(fs::exists(persist)) << "the persisted file outlived the restore";
    }
  }
  EXPECT_GE(steps, 2);
  fmt::print("tune restore: killed at {} steps, each could be run again to the end\n", steps);
}

}  // namespace
}  // namespace synscope::testing
