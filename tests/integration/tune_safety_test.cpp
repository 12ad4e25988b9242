// synscope tune as an attacker and a tired operator would try it: backups someone else could
// change, keys outside what synscope is about, the persisted file across apply and restore, a
// symlinked persist path, a namespace experiment, runs at once, interface names with a dot,
// writes that undo each other, and iptables-nft rules nft cannot load. Everything happens in
// namespaces the tests create, fake /proc trees and temporary folders: never on the host's /etc,
// /var or /proc/sys.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/sha256.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string sysctl_n(const netns& ns, const std::string& key) {
  std::string v = ns.run({"sysctl", "-n", key}).out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

// A fresh MANIFEST.sha256 for every file in `folder` but itself: what anyone who may write the
// folder can make.
void recompute_manifest(const std::string& folder) {
  std::string manifest;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (e.path().filename() != "MANIFEST.sha256") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    core::sha256 h;
    h.update(read_text(folder + "/" + n));
    manifest += h.hex() + "  " + n + "\n";
  }
  write(folder + "/MANIFEST.sha256", manifest);
}

class TuneSafety : public netns_test {
 protected:
  command_result tune(std::vector<std::string> args) {
    args.insert(args.begin(), {synscope_binary(), "tune"});
    return run_command(args);
  }
  // A /proc-like tree: the handshake keys as plain files, and kernel.core_pattern, the key an
  // attack on root aims at (here a file, so that nothing real can be written).
  std::string fake_proc() {
    std::string root = dir_.path("proc");
    write(root + "/sys/net/ipv4/tcp_syncookies", "1\n");
    write(root + "/sys/net/ipv4/tcp_synack_retries", "5\n");
    write(root + "/sys/net/core/somaxconn", "4096\n");
    write(root + "/sys/kernel/core_pattern", "core\n");
    write(root + "/sys/kernel/modprobe", "/sbin/modprobe\n");
    return root;
  }
  temp_dir dir_;
};

TEST_F(TuneSafety, ABackupSomeoneElseCouldChangeIsNeverRestored) {
  std::string root = fake_proc();
  // The attack as reported: a world-writable directory, a backup folder an unprivileged user
  // made in it beforehand. Backing up into it is refused: that user could swap what root wrote.
  std::string shared = dir_.path("shared");
  fs::create_directories(shared);
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
  std::string theirs = shared + "/backups";
  fs::create_directories(theirs);
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0);
  auto b = tune({"backup", "--proc-root", root, "--dir", theirs, "--no-firewall"});
  EXPECT_EQ(b.exit_code, 2) << b.out << b.err;
  EXPECT_NE(b.err.find("owned by uid 65534, not root"), std::string::npos) << b.err;

  // A real backup of root's, and a forged copy that sets kernel.core_pattern with a manifest
  // recomputed to match: owned by the user, then by root but writable by others, then a file
  // writable by others, then root's own. Each is refused, and core_pattern never changes.
  auto good = tune({"backup", "--proc-root", root, "--dir", dir_.path("root-backups"), "--no-firewall", "--json"});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  std::string real = nlohmann::json::parse(good.out)["path"];
  struct stat st {};
  ASSERT_EQ(stat(real.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "a backup folder is root's alone";
  for (const auto& e : fs::directory_iterator(real)) {
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
  std::string forged = theirs + "/synscope-backup-forged";
  fs::copy(real, forged);
  std::ofstream(forged + "/sysctl-net.conf", std::ios::app) << "kernel.core_pattern = |/tmp/evil %p\n";
  recompute_manifest(forged);
  auto restore = [&](const std::string& folder) {
    return tune({"restore", "--proc-root", root, folder});
  };
  ASSERT_EQ(run_command({"chown", "-R", "65534:65534", forged}).exit_code, 0);
  auto r1 = restore(forged);
  EXPECT_EQ(r1.exit_code, 4) << r1.out << r1.err;
  EXPECT_NE(r1.err.find("refused: owned by uid 65534, not root"), std::string::npos) << r1.err;

  ASSERT_EQ(run_command({"chown", "-R", "0:0", forged}).exit_code, 0);
  ASSERT_EQ(chmod(forged.c_str(), 0777), 0);
  auto r2 = restore(forged);
  EXPECT_EQ(r2.exit_code, 4) << r2.err;
  EXPECT_NE(r2.err.find("refused: writable by group or others (mode 0777)"), std::string::npos) << r2.err;

  ASSERT_EQ(chmod(forged.c_str(), 0700), 0);
  ASSERT_EQ(chmod((forged + "/sysctl-net.conf").c_str(), 0666), 0);
  auto r3 = restore(forged);
  EXPECT_EQ(r3.exit_code, 4) << r3.err;
  EXPECT_NE(r3.err.find("sysctl-net.conf: refused: writable by group or others"), std::string::npos) << r3.err;

  ASSERT_EQ(chmod((forged + "/sysctl-net.conf").c_str(), 0600), 0);
  auto r4 = restore(forged);
  EXPECT_EQ(r4.exit_code, 4) << r4.err;
  EXPECT_NE(r4.err.find("names kernel.core_pattern: restore writes net.* settings only"), std::string::npos) << r4.err;

  // A link to a backup is not the backup: the folder is opened without following it.
  fs::create_symlink(real, dir_.path("link-to-backup"));
  auto r5 = restore(dir_.path("link-to-backup"));
  EXPECT_EQ(r5.exit_code, 4) << r5.err;
  EXPECT_NE(r5.err.find("a symbolic link"), std::string::npos) << r5.err;

  EXPECT_EQ(read_text(root + "/sys/kernel/core_pattern"), "core\n");
  auto ok = restore(real);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("verified: owned by root"), std::string::npos) << ok.out;
}

TEST_F(TuneSafety, ApplyChangesOnlyTheHandshakesKeysAndInANamespaceOnlyItsOwn) {
  std::string root = fake_proc();
  std::string evil = dir_.path("evil.conf");
  write(evil, "net.ipv4.tcp_syncookies = 2\nkernel.core_pattern = |/tmp/evil %p\n");
  auto a = tune({"apply", "--proc-root", root, "--profile", evil, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(a.exit_code, 2) << a.err;
  EXPECT_NE(a.err.find("kernel.core_pattern: not a setting synscope changes (the allow-list is in docs/tune.md)"),
            std::string::npos)
      << a.err;
  write(evil, "kernel.modprobe = /tmp/evil\n");
  auto m = tune({"apply", "--proc-root", root, "--profile", evil, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("kernel.modprobe: not a setting synscope changes"), std::string::npos) << m.err;
  EXPECT_EQ(read_text(root + "/sys/kernel/core_pattern"), "core\n");
  EXPECT_EQ(read_text(root + "/sys/kernel/modprobe"), "/sbin/modprobe\n");
  EXPECT_EQ(read_text(root + "/sys/net/ipv4/tcp_syncookies"), "1\n") << "nothing changes on a refused profile";
  auto audit = tune({"audit", "--proc-root", root, "--profile", evil, "--json"});
  auto rows = parse_json_lines(audit.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["status"], "invalid");

  // From inside a namespace, a key the host has once (not per namespace) is refused by name.
  std::string host_wide = dir_.path("host-wide.conf");
  write(host_wide, "net.ipv4.tcp_synack_retries = 3\nnet.core.netdev_max_backlog = 2000\n");
  std::string host_before = read_text("/proc/sys/net/core/netdev_max_backlog");
  auto n = tune({"apply", "--netns", ns_->name(), "--profile", host_wide, "--persist-path", "", "--dir", dir_.path("b")});
  EXPECT_EQ(n.exit_code, 2) << n.err;
  EXPECT_NE(n.err.find("net.core.netdev_max_backlog: one value for the whole host, not per network namespace"),
            std::string::npos)
      << n.err;
  EXPECT_EQ(read_text("/proc/sys/net/core/netdev_max_backlog"), host_before);
  EXPECT_NE(sysctl_n(*ns_, "net.ipv4.tcp_synack_retries"), "3");

  // What apply changes, its backup holds: the printed undo puts back every key.
  auto ok = tune({"apply", "--netns", ns_->name(), "--profile", "baseline", "--persist-path", "", "--dir",
                  dir_.path("b"), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto j = nlohmann::json::parse(ok.out);
  std::string saved = read_text(j["backup"].get<std::string>() + "/sysctl-net.conf");
  ASSERT_FALSE(j["changed"].empty());
  for (const auto& c : j["changed"]) {
    EXPECT_NE(saved.find("\n" + c["key"].get<std::string>() + " = " + c["was"].get<std::string>() + "\n"),
              std::string::npos)
        << c;
  }
}

TEST_F(TuneSafety, RestorePutsThePersistedFileBackSoTheUndoSurvivesAReboot) {
  // 1. No persisted file before: after the restore there is none, so a boot loads nothing.
  std::string persist = dir_.path("sysctl.d/99-synscope.conf");
  fs::create_directories(dir_.path("sysctl.d"));
  auto a = tune({"apply", "--netns", ns_->name(), "--profile", "synflood", "--persist-path", persist, "--dir",
                 dir_.path("b"), "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_TRUE(fs::exists(persist));
  std::string backup = nlohmann::json::parse(a.out)["backup"];
  auto r = tune({"restore", "--netns", ns_->name(), backup});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(persist)) << "the undone tuning would come back at the next boot";
  EXPECT_NE(r.out.find("removed (it was not there before)"), std::string::npos) << r.out;

  // 2. An operator's file before: put back byte for byte, with its mode. Loaded as a boot would
  // load it, in a fresh namespace, it changes nothing there.
  const std::string theirs = "# the operator's own\nnet.ipv4.tcp_fin_timeout = 60\n";
  write(persist, theirs);
  ASSERT_EQ(chmod(persist.c_str(), 0640), 0);
  auto a2 = tune({"apply", "--netns", ns_->name(), "--profile", "synflood", "--persist-path", persist, "--dir",
                  dir_.path("b"), "--json"});
  ASSERT_EQ(a2.exit_code, 0) << a2.err;
  EXPECT_NE(read_text(persist), theirs);
  auto r2 = tune({"restore", "--netns", ns_->name(), nlohmann::json::parse(a2.out)["backup"].get<std::string>()});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(read_text(persist), theirs);
  struct stat st {};
  ASSERT_EQ(stat(persist.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  std::string why;
  auto fresh = netns::create(why);
  ASSERT_TRUE(fresh) << why;
  auto before = net_sysctls(*fresh);
  auto load = fresh->run({"sysctl", "-p", persist});
  EXPECT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(net_sysctls(*fresh), before);
}

TEST_F(TuneSafety, ASymlinkedPersistPathIsRefusedAndALinkIsPutBackAsALink) {
  // Debian's /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, in a temporary folder.
  std::string conf = dir_.path("etc/sysctl.conf");
  write(conf, "# the operator's settings\nnet.ipv4.tcp_fin_timeout = 60\n");
  fs::create_directories(dir_.path("etc/sysctl.d"));
  std::string link = dir_.path("etc/sysctl.d/99-sysctl.conf");
  fs::create_symlink("../sysctl.conf", link);
  auto a = tune({"apply", "--netns", ns_->name(), "--profile", "synflood", "--persist-path", link, "--dir", dir_.path("b")});
  EXPECT_EQ(a.exit_code, 2) << a.err;
  EXPECT_NE(a.err.find("a symbolic link (to ../sysctl.conf)"), std::string::npos) << a.err;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_text(conf), "# the operator's settings\nnet.ipv4.tcp_fin_timeout = 60\n");
  EXPECT_NE(sysctl_n(*ns_, "net.ipv4.tcp_synack_retries"), "1") << "nothing was applied";

  // A backup records the link as a link; whatever replaced it later, restore brings the link back.
  auto b = tune({"backup", "--netns", ns_->name(), "--persist-path", link, "--dir", dir_.path("b"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  fs::remove(link);
  write(link, "net.ipv4.tcp_fin_timeout = 10\n");
  auto r = tune({"restore", "--netns", ns_->name(), nlohmann::json::parse(b.out)["path"].get<std::string>()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), "../sysctl.conf");
}

TEST_F(TuneSafety, ANamespaceExperimentWritesNoneOfTheHostsFiles) {
  for (const char* d : {"/etc/sysctl.d", "/var/backups", "/run"}) {
    if (!fs::is_directory(d)) GTEST_SKIP() << d << " is not a folder here";
  }
  // Inside the namespace and a private mount namespace of its own, /etc/sysctl.d, /var/backups
  // and /run are empty tmpfs mounts: whatever apply wrote by default is seen there, and the
  // host's folders are never touched.
  std::string script =
      "set -e; mount -t tmpfs tmpfs /etc/sysctl.d; mount -t tmpfs tmpfs /var/backups; mount -t tmpfs tmpfs /run; " +
      synscope_binary() + " tune plan --profile synflood; " + synscope_binary() +
      " tune apply --profile synflood; echo ===; ls -A /etc/sysctl.d /var/backups; echo ===; ls -A /run/synscope/backups";
  auto r = ns_->run({"unshare", "--mount", "--propagation", "private", "sh", "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("live only (not the host's own network namespace): nothing is persisted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("live only (not the host's own network namespace): nothing persisted"), std::string::npos) << r.out;
  size_t first = r.out.find("===\n");
  size_t second = r.out.find("===\n", first + 4);
  ASSERT_NE(second, std::string::npos) << r.out;
  std::string listed = r.out.substr(first + 4, second - first - 4);
  EXPECT_EQ(listed, "/etc/sysctl.d:\n\n/var/backups:\n") << "a default wrote the host's /etc or /var";
  EXPECT_NE(r.out.find("synscope-backup-", second), std::string::npos) << "the backup went under /run";
  EXPECT_EQ(sysctl_n(*ns_, "net.ipv4.tcp_synack_retries"), "1") << "applied live";
}

TEST_F(TuneSafety, BackupsAndAppliesAtOnceEachFinishWhole) {
  std::string dir = dir_.path("together");
  std::vector<command_result> results(12);
  std::vector<std::thread> runs;
  const char* profiles[] = {"baseline", "synflood", "high-rate-client", "low-latency"};
  for (size_t i = 0; i < results.size(); ++i) {
    runs.emplace_back([&, i] {
      if (i < 8) {
        results[i] = tune({"backup", "--netns", ns_->name(), "--dir", dir});
      } else {
        results[i] = tune({"apply", "--netns", ns_->name(), "--profile", profiles[i - 8], "--persist-path", "", "--dir", dir});
      }
    });
  }
  for (auto& t : runs) t.join();
  for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].exit_code, 0) << i << ": " << results[i].err;
  size_t backups = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".partial"), std::string::npos) << name;
    std::string why;
    auto scratch = netns::create(why);
    ASSERT_TRUE(scratch) << why;
    auto r = tune({"restore", "--netns", scratch->name(), e.path().string()});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    ++backups;
  }
  EXPECT_EQ(backups, 12u);
}

TEST_F(TuneSafety, InterfacesWithADotInTheirNameAreKeptAndAKeyThatCannotBeReadFailsTheBackup) {
  // Named as VLANs are on real hosts (parent, a dot, the VLAN id). This kernel has no 8021q
  // module, so a veth pair carries the names: the sysctl tree names them the same way.
  auto link = ns_->run({"ip", "link", "add", "eth0.100", "type", "veth", "peer", "name", "eth0.101"});
  ASSERT_EQ(link.exit_code, 0) << link.err;
  std::string key = "net.ipv4.conf.eth0/100.rp_filter";
  std::string was = sysctl_n(*ns_, key);
  ASSERT_FALSE(was.empty());
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("b"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string backup = nlohmann::json::parse(b.out)["path"];
  EXPECT_NE(read_text(backup + "/sysctl-net.conf").find("\n" + key + " = " + was + "\n"), std::string::npos);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", key + "=" + (was == "2" ? "0" : "2")}).exit_code, 0);
  auto r = tune({"restore", "--netns", ns_->name(), backup});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sysctl_n(*ns_, key), was);
  EXPECT_NE(r.out.find(key + ": "), std::string::npos) << r.out;

  // A key that cannot be read is named, and no backup is made.
  std::string root = fake_proc();
  fs::create_symlink("/proc/self/mem", root + "/sys/net/ipv4/tcp_unreadable");  // read(2) at 0: EIO
  auto bad = tune({"backup", "--proc-root", root, "--dir", dir_.path("bad"), "--no-firewall"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
  EXPECT_NE(bad.err.find("net.ipv4.tcp_unreadable: cannot be read, so it cannot be kept"), std::string::npos) << bad.err;
  EXPECT_TRUE(fs::is_empty(dir_.path("bad")));
}

TEST_F(TuneSafety, RestoreWritesForwardingInDependencyOrderAndNamesWhatStillDiffers) {
  // ip_forward=1 turns every interface's forwarding on; then d0's is turned off again. That is
  // the state backed up. Later ip_forward=0 turns all off. Written back by name, conf.d0 (0)
  // would come before ip_forward (1), which would turn d0 on again.
  ASSERT_EQ(ns_->run({"ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.conf.d0.forwarding=0"}).exit_code, 0);
  auto saved = net_sysctls(*ns_);
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("b"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.ip_forward=0"}).exit_code, 0);
  ASSERT_EQ(sysctl_n(*ns_, "net.ipv4.conf.lo.forwarding"), "0");
  auto r = tune({"restore", "--netns", ns_->name(), nlohmann::json::parse(b.out)["path"].get<std::string>()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sysctl_n(*ns_, "net.ipv4.ip_forward"), "1");
  EXPECT_EQ(sysctl_n(*ns_, "net.ipv4.conf.lo.forwarding"), "1");
  EXPECT_EQ(sysctl_n(*ns_, "net.ipv4.conf.d0.forwarding"), "0");
  EXPECT_EQ(net_sysctls(*ns_), saved);

  // A key the kernel will not take back is named, and the restore fails (exit 1).
  std::string root = fake_proc();
  auto fb = tune({"backup", "--proc-root", root, "--dir", dir_.path("fake"), "--no-firewall", "--json"});
  ASSERT_EQ(fb.exit_code, 0) << fb.err;
  fs::remove(root + "/sys/net/ipv4/tcp_synack_retries");
  fs::create_symlink("/proc/sys/kernel/osrelease", root + "/sys/net/ipv4/tcp_synack_retries");  // read-only
  auto fr = tune({"restore", "--proc-root", root, nlohmann::json::parse(fb.out)["path"].get<std::string>()});
  EXPECT_EQ(fr.exit_code, 1) << fr.out << fr.err;
  EXPECT_NE(fr.err.find("restore: net.ipv4.tcp_synack_retries is '"), std::string::npos) << fr.err;
  EXPECT_NE(fr.err.find("not the backup's '5'"), std::string::npos) << fr.err;
  EXPECT_NE(fr.err.find("1 setting still differs from the backup"), std::string::npos) << fr.err;
}

// name, size and modification time of every file in a folder: what "nothing was written" means.
std::string listing(const std::string& folder) {
  std::string out;
  for (const auto& e : fs::directory_iterator(folder)) {
    struct stat st {};
    stat(e.path().c_str(), &st);
    out += e.path().filename().string() + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_nsec) + "\n";
  }
  return out;
}

TEST_F(TuneSafety, RestoreFirewallOnIptablesNftWithXtablesMatchesAndFromReadOnlyMedia) {
  for (const char* t : {"nft", "iptables", "iptables-save", "ip6tables"}) {
    if (!have_tool(t)) GTEST_SKIP() << t << " is needed";
  }
  if (run_command({"iptables", "-V"}).out.find("nf_tables") == std::string::npos) GTEST_SKIP() << "iptables is not iptables-nft";
  // Debian 12's default iptables-nft with a match nft prints but cannot parse back (-m recent),
  // an ip6tables rule, and a native nft table beside them.
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-m", "recent", "--name", "ssh", "--set"},
           {"iptables", "-A", "INPUT", "-p", "tcp", "-m", "conntrack", "--ctstate", "NEW", "-m", "limit", "--limit",
            "5/s", "-j", "ACCEPT"},
           {"ip6tables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-m", "recent", "--name", "ssh6", "--set"},
           {"nft", "add", "table", "inet", "mine"},
           {"nft", "add", "chain", "inet", "mine", "in", "{ type filter hook input priority 10; }"},
           {"nft", "add", "rule", "inet", "mine", "in", "tcp", "dport", "9999", "counter", "accept"}}) {
    auto r = ns_->run(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[0] << ": " << r.err;
  }
  auto rules = [&] {
    return normalized_ruleset(ns_->run({"iptables-save"}).out) + normalized_ruleset(ns_->run({"ip6tables-save"}).out) +
           ns_->run({"nft", "list", "table", "inet", "mine"}).out;
  };
  std::string before = rules();
  ASSERT_NE(before.find("-m recent --set --name ssh"), std::string::npos) << before;
  auto b = tune({"backup", "--netns", ns_->name(), "--dir", dir_.path("fw"), "--json"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string backup = nlohmann::json::parse(b.out)["path"];
  std::string files_before = listing(backup);
  ASSERT_EQ(ns_->run({"nft", "flush", "ruleset"}).exit_code, 0);
  ASSERT_NE(rules(), before);

  auto r = tune({"restore", "--netns", ns_->name(), backup, "--firewall"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("firewall rules restored (iptables-restore, ip6tables-restore, nft -f (tables inet mine))"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(rules(), before);
  EXPECT_EQ(listing(backup), files_before) << "restore wrote into the backup folder";

  // From read-only media (a read-only bind mount in a private mount namespace) it works the same.
  ASSERT_EQ(ns_->run({"nft", "flush", "ruleset"}).exit_code, 0);
  if (!have_tool("unshare")) return;
  auto ro = run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                         "mount --bind " + backup + " " + backup + " && mount -o remount,bind,ro " + backup + " && " +
                             synscope_binary() + " tune restore --netns " + ns_->name() + " --firewall " + backup});
  EXPECT_EQ(ro.exit_code, 0) << ro.out << ro.err;
  EXPECT_EQ(rules(), before);
}

TEST_F(TuneSafety, AProfilesTextReachesTheTerminalEscaped) {
  // A profile is anyone's file: a comment that clears the screen and retitles the terminal.
  std::string hostile = dir_.path("hostile.conf");
  write(hostile, "# \x1b[2J\x1b]0;owned\x07 reason\nnet.ipv4.tcp_fin_timeout = 30\n");
  for (const char* sub : {"audit", "plan"}) {
    std::vector<std::string> args = {sub, "--netns", ns_->name(), "--profile", hostile};
    if (std::string(sub) == "plan") args.insert(args.end(), {"--persist-path", dir_.path("p.conf")});
    auto r = tune(args);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << sub << ": a raw escape reached the terminal";
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << sub;
    EXPECT_NE(r.out.find("\\x1b[2J"), std::string::npos) << sub << ": " << r.out;
  }
}

}  // namespace
}  // namespace synscope::testing
