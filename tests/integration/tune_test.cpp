// synscope tune in namespaces the tests create: backup -> apply each profile -> restore gives
// back every net.* value; a failure halfway through apply leaves every value as it was; a
// tampered backup is refused; bad profiles change nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

namespace fs = std::filesystem;

class Tune : public netns_test {
 protected:
  command_result tune(std::vector<std::string> args) {
    args.insert(args.begin(), {synscope_binary(), "tune"});
    return run_command(args);
  }
  temp_dir dir_;
};

TEST_F(Tune, BackupApplyEachProfileRestoreGivesBackEveryValue) {
  auto before = net_sysctls(*ns_);
  ASSERT_GT(before.size(), 100u);
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("backups"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string backup = nlohmann::json::parse(b.out)["path"];
  for (const char* profile : {"baseline", "synflood", "high-rate-client", "low-latency"}) {
    SCOPED_TRACE(profile);
    auto a = tune({"apply", "--netns", ns_->name(), "--profile", profile, "--persist-path", dir_.path("99-synscope.conf"),
                   "--dir", dir_.path("backups"), "--json"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    // Now the namespace matches the profile: audit says so (exit 0).
    auto audit = tune({"audit", "--netns", ns_->name(), "--profile", profile});
    EXPECT_EQ(audit.exit_code, 0) << audit.out;
    EXPECT_NE(read_text(dir_.path("99-synscope.conf")).find("--profile " + std::string(profile)), std::string::npos);
  }
  auto changed = net_sysctls(*ns_);
  EXPECT_NE(changed["net.ipv4.tcp_synack_retries"], before["net.ipv4.tcp_synack_retries"]);
  auto r = tune({"restore", "--netns", ns_->name(), backup, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = net_sysctls(*ns_);
  EXPECT_EQ(after.size(), before.size());
  for (const auto& [k, v] : before) {
    EXPECT_EQ(after[k], v) << k;
  }
  // The host's own settings were never touched: this ran in the namespace.
}

TEST_F(Tune, AFailureHalfwayThroughApplyLeavesEveryValueAsItWas) {
  // A /proc-like tree: three plain files and, for the third key the synflood profile writes, a
  // link to a read-only /proc/sys file, so that write fails after an earlier one succeeded.
  std::string root = dir_.path("proc");
  fs::create_directories(root + "/sys/net/ipv4");
  fs::create_directories(root + "/sys/net/core");
  std::ofstream(root + "/sys/net/ipv4/tcp_syncookies") << "0\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_max_syn_backlog") << "2048\n";
  std::ofstream(root + "/sys/net/core/somaxconn") << "128\n";
  fs::create_symlink("/proc/sys/kernel/osrelease", root + "/sys/net/ipv4/tcp_synack_retries");
  auto a = tune({"apply", "--proc-root", root, "--profile", "synflood", "--persist-path", dir_.path("persist.conf"),
                 "--dir", dir_.path("backups")});
  EXPECT_NE(a.exit_code, 0);
  EXPECT_NE(a.err.find("cannot set net.ipv4.tcp_synack_retries"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("every value put back"), std::string::npos) << a.err;
  EXPECT_EQ(read_text(root + "/sys/net/ipv4/tcp_syncookies"), "0\n");
  EXPECT_EQ(read_text(root + "/sys/net/ipv4/tcp_max_syn_backlog"), "2048\n");
  EXPECT_EQ(read_text(root + "/sys/net/core/somaxconn"), "128\n");
  EXPECT_FALSE(fs::exists(dir_.path("persist.conf"))) << "nothing persisted";
}

TEST_F(Tune, ATamperedBackupIsRefusedAndChangesNothing) {
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("backups"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string backup = nlohmann::json::parse(b.out)["path"];
  // Someone edits the saved settings.
  std::ofstream(backup + "/sysctl-net.conf", std::ios::app) << "net.ipv4.tcp_syncookies = 0\n";
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_synack_retries=3"}).exit_code, 0);
  auto r = tune({"restore", "--netns", ns_->name(), backup});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("sysctl-net.conf does not match its checksum"), std::string::npos) << r.err;
  EXPECT_EQ(net_sysctls(*ns_)["net.ipv4.tcp_synack_retries"], "3");
  // A file slipped in is refused too.
  auto b2 = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("backups2"), "--json"});
  std::string backup2 = nlohmann::json::parse(b2.out)["path"];
  std::ofstream(backup2 + "/extra.conf") << "x\n";
  auto r2 = tune({"restore", "--netns", ns_->name(), backup2});
  EXPECT_EQ(r2.exit_code, 4);
  EXPECT_NE(r2.err.find("extra.conf is not in the manifest"), std::string::npos) << r2.err;
  // A folder that is not there is a mistyped argument (2), not a tampered backup (4); a folder
  // that is there without a manifest is not a backup.
  auto r3 = tune({"restore", "--netns", ns_->name(), dir_.path("no-such-backup")});
  EXPECT_EQ(r3.exit_code, 2);
  EXPECT_EQ(r3.err, "synscope: " + dir_.path("no-such-backup") + ": no such backup folder\n");
  auto r4 = tune({"restore", "--netns", ns_->name(), dir_.path("backups")});
  EXPECT_EQ(r4.exit_code, 4);
  EXPECT_NE(r4.err.find("no MANIFEST.sha256 (not a synscope backup?)"), std::string::npos) << r4.err;
}

TEST_F(Tune, BadProfilesChangeNothingAndSayWhy) {
  auto before = net_sysctls(*ns_);
  std::string typo = dir_.path("typo.conf");
  std::ofstream(typo) << "# mine\nnet.ipv4.tcp_synack_retries = 2\nnet.ipv4.tcp_syncookie = 1\n";
  auto a = tune({"apply", "--netns", ns_->name(), "--profile", typo, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("net.ipv4.tcp_syncookie: not a setting synscope changes (did you mean net.ipv4.tcp_syncookies?)"),
            std::string::npos)
      << a.err;
  std::string range = dir_.path("range.conf");
  std::ofstream(range) << "net.ipv4.tcp_syn_retries = 500\n";
  auto b = tune({"apply", "--netns", ns_->name(), "--profile", range, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("net.ipv4.tcp_syn_retries = 500: out of range 1..127"), std::string::npos) << b.err;
  std::string old = dir_.path("old.conf");
  std::ofstream(old) << "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_fin_timeout = 20\n";
  auto audit = tune({"audit", "--netns", ns_->name(), "--profile", old, "--json"});
  auto rows = parse_json_lines(audit.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["status"], "obsolete");
  EXPECT_NE(rows[0]["reason"].get<std::string>().find("removed in Linux 4.12"), std::string::npos);
  auto c = tune({"apply", "--netns", ns_->name(), "--profile", old, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(c.exit_code, 0) << c.err;  // the obsolete key is skipped, the other applied
  auto now = net_sysctls(*ns_);
  EXPECT_EQ(now["net.ipv4.tcp_fin_timeout"], "20");
  EXPECT_EQ(now.count("net.ipv4.tcp_tw_recycle"), 0u);
  EXPECT_EQ(now["net.ipv4.tcp_synack_retries"], before["net.ipv4.tcp_synack_retries"]);
  // Not root: refused before anything happens.
  if (have_tool("setpriv")) {
    auto n = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", synscope_binary(), "tune",
                          "apply", "--profile", "baseline"});
    EXPECT_EQ(n.exit_code, 77) << n.err;
  }
}

TEST_F(Tune, FirewallLimitsASynBurstAndGoesWithoutATrace) {
  for (const char* format : {"nft", "iptables"}) {
    SCOPED_TRACE(format);
    bool nft = std::string(format) == "nft";
    if (!have_tool(nft ? "nft" : "iptables-save")) continue;
    if (!nft) {  // the filter tables exist before, as on any real host
      ns_->run({"iptables", "-P", "INPUT", "ACCEPT"});
      ns_->run({"ip6tables", "-P", "INPUT", "ACCEPT"});
    }
    auto dump = [&] {
      if (nft) return ns_->run({"nft", "list", "ruleset"}).out;
      return normalized_ruleset(ns_->run({"iptables-save"}).out) + normalized_ruleset(ns_->run({"ip6tables-save"}).out);
    };
    std::string before = dump();
    background_process server(ns_->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:8080", "--mode", "ack"}),
                              dir_.path(std::string("serve-") + format + ".log"));
    ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
    auto applied = tune({"firewall", "--netns", ns_->name(), "--format", format, "--syn-rate", "10/s", "--burst", "20",
                         "--port", "8080", "--apply"});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    // A bounded burst: 200 connects, 100 at a time, giving up on each after 500 ms.
    auto burst = ns_->run({synscope_binary(), "bench", "127.0.0.1:8080", "-n", "200", "-c", "100", "--timeout", "500ms",
                           "--json"});
    auto r = parse_json_lines(burst.out);
    ASSERT_EQ(r.size(), 1u) << burst.err;
    EXPECT_GT(r[0]["failed"].get<uint64_t>(), 50u) << "SYNs over the limit were dropped";
    EXPECT_GE(r[0]["succeeded"].get<uint64_t>(), 20u) << "the burst got through";
    if (nft) {
      auto table = ns_->run({"nft", "list", "table", "inet", "synscope"}).out;
      size_t at = table.find("counter packets ");
      ASSERT_NE(at, std::string::npos) << table;
      EXPECT_GT(std::stoull(table.substr(at + 16)), 50u) << table;
    } else {
      auto chain = ns_->run({"iptables", "-L", "SYNSCOPE-SYN-LIMIT", "-v", "-n", "-x"}).out;
      std::istringstream in(chain);
      std::string line;
      uint64_t dropped = 0;
      while (std::getline(in, line)) {
        std::istringstream w(line);
        uint64_t pkts = 0;
        std::string bytes, target;
        if (w >> pkts >> bytes >> target && target == "DROP") dropped = pkts;
      }
      EXPECT_GT(dropped, 50u) << chain;
    }
    auto removed = tune({"firewall", "--netns", ns_->name(), "--format", format, "--port", "8080", "--remove"});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_EQ(dump(), before) << "the rules left a trace";
    EXPECT_EQ(server.interrupt(), 0);
  }
}

TEST_F(Tune, BackupRetentionNeverRemovesTheNewest) {
  std::string dir = dir_.path("kept");
  std::vector<std::string> made;
  for (int i = 0; i < 3; ++i) {
    auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir, "--json"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    made.push_back(nlohmann::json::parse(b.out)["path"]);
  }
  for (const auto& m : made) ASSERT_EQ(run_command({"touch", "-d", "40 days ago", m}).exit_code, 0);
  // Every backup is older than 30 days now; the newest (made below) and only it survives, and
  // with nothing newer, a lone old backup is never removed.
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir, "--keep-days", "30", "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto j = nlohmann::json::parse(b.out);
  EXPECT_EQ(j["removed"].size(), 3u) << b.out;
  EXPECT_TRUE(fs::exists(j["path"].get<std::string>()));
  ASSERT_EQ(run_command({"touch", "-d", "40 days ago", j["path"].get<std::string>()}).exit_code, 0);
  // keep-days 0 with one (old) backup in the folder and the new one: the new one stays.
  auto again = tune({"backup", "--netns", ns_->name(), "--dir", dir, "--keep-days", "0", "--json"});
  auto k = nlohmann::json::parse(again.out);
  EXPECT_EQ(k["removed"].size(), 1u);
  EXPECT_TRUE(fs::exists(k["path"].get<std::string>()));
}

TEST_F(Tune, AReadOnlyProcSysIsAClearErrorAndChangesNothing) {
  if (!have_tool("unshare")) GTEST_SKIP() << "no unshare";
  auto before = net_sysctls(*ns_);
  // A private mount namespace where /proc/sys is read-only (the host's mounts are untouched).
  auto r = run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                        "mount -o bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec " +
                            synscope_binary() + " tune apply --netns " + ns_->name() +
                            " --profile synflood --persist-path '' --dir " + dir_.path("ro")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("every value put back"), std::string::npos) << r.err;
  EXPECT_EQ(net_sysctls(*ns_), before);
}

TEST_F(Tune, RestoreFirewallBringsBackTheSavedRuleset) {
  if (!have_tool("nft")) GTEST_SKIP() << "no nft";
  auto applied = tune({"firewall", "--netns", ns_->name(), "--format", "nft", "--port", "9000", "--apply"});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  std::string with_rules = ns_->run({"nft", "list", "ruleset"}).out;
  ASSERT_NE(with_rules.find("table inet synscope"), std::string::npos);
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("fw"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string backup = nlohmann::json::parse(b.out)["path"];
  ASSERT_EQ(tune({"firewall", "--netns", ns_->name(), "--format", "nft", "--port", "9000", "--remove"}).exit_code, 0);
  EXPECT_EQ(ns_->run({"nft", "list", "ruleset"}).out.find("synscope"), std::string::npos);
  auto r = tune({"restore", "--netns", ns_->name(), backup, "--firewall"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("firewall rules restored"), std::string::npos);
  EXPECT_EQ(ns_->run({"nft", "list", "ruleset"}).out, with_rules);
}

}  // namespace
}  // namespace synscope::testing
