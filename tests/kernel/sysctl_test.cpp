// Sysctl access under a root: key and path spelling as sysctl(8) has it, numbers read with
// one-line errors, writes that truncate a plain copy, and the net.* walk of a backup.
#include "kernel/sysctl.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace synscope::kernel {
namespace {

// A --proc-root copy in a temporary folder, removed at the end.
class fake_proc {
 public:
  fake_proc() {
    char tmpl[] = "/tmp/synscope-sysctl-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~fake_proc() { std::filesystem::remove_all(root_); }
  void set(const std::string& relative, const std::string& text) const {
    std::filesystem::path p = root_ + "/sys/" + relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(Sysctl, KeysWithADotInAComponentUseASlashAsSysctlDoes) {
  EXPECT_EQ(sysctl_key_from_path("net/ipv4/conf/eth0.100/forwarding"), "net.ipv4.conf.eth0/100.forwarding");
  sysctl_tree t("/proc");
  EXPECT_EQ(t.path("net.ipv4.conf.eth0/100.forwarding"), "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
  EXPECT_EQ(t.path(sysctl_key_from_path("net/ipv6/conf/vlan.7.3/mtu")), "/proc/sys/net/ipv6/conf/vlan.7.3/mtu");
}

TEST(Sysctl, WordsSplitOnAnyWhitespace) {
  auto w = sysctl_words(" 1024\t65535\n");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], "1024");
  EXPECT_EQ(w[1], "65535");
  EXPECT_TRUE(sysctl_words(" \n").empty());
}

TEST(Sysctl, NumbersAreReadOrRefusedNamingTheKey) {
  fake_proc p;
  p.set("net/core/somaxconn", "4096\n");
  p.set("net/ipv4/ip_local_port_range", "32768\t60999\n");
  p.set("net/ipv4/tcp_congestion_control", "cubic\n");
  sysctl_tree t(p.root());
  EXPECT_EQ(*t.read("net.ipv4.ip_local_port_range"), "32768 60999");
  EXPECT_EQ(*t.read_int("net.core.somaxconn"), 4096);
  auto range = t.read_ints("net.ipv4.ip_local_port_range");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (std::vector<int64_t>{32768, 60999}));
  auto two = t.read_int("net.ipv4.ip_local_port_range");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("net.ipv4.ip_local_port_range"), std::string::npos);
  auto word = t.read_int("net.ipv4.tcp_congestion_control");
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.error().code, core::exit_code::bad_data);
  EXPECT_NE(word.error().message.find("net.ipv4.tcp_congestion_control = cubic: not a number"), std::string::npos);
  auto missing = t.read_int("net.core.nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("net.core.nope"), std::string::npos);
  EXPECT_FALSE(t.exists("net.core.nope"));
  EXPECT_TRUE(t.exists("net.core.somaxconn"));
}

TEST(Sysctl, AWriteToACopyLeavesNoTailOfTheLongerValue) {
  fake_proc p;
  p.set("net/core/somaxconn", "65535\n");
  sysctl_tree t(p.root());
  ASSERT_TRUE(t.write("net.core.somaxconn", "128").ok());
  EXPECT_EQ(*t.read("net.core.somaxconn"), "128");
  auto missing = t.write("net.core.nope", "1");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot set net.core.nope"), std::string::npos);
}

TEST(Sysctl, EveryNetKeyIsWalkedAndKeyedAsSysctlNamesIt) {
  fake_proc p;
  p.set("net/core/somaxconn", "4096\n");
  p.set("net/ipv4/conf/eth0.100/forwarding", "1\n");
  p.set("kernel/core_pattern", "core\n");
  auto all = sysctl_tree(p.root()).all_net();
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at("net.core.somaxconn"), "4096");
  EXPECT_EQ(all->at("net.ipv4.conf.eth0/100.forwarding"), "1");
}

}  // namespace
}  // namespace synscope::kernel
