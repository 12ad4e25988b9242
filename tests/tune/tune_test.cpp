// Profiles, validation and the nearest-key suggestion, without touching any kernel setting.
#include <algorithm>

#include <gtest/gtest.h>

#include "tune/backup.h"

#include "tune/firewall.h"
#include "tune/profile.h"
#include "tune/sysctl.h"
#include "tune/tune.h"

namespace synscope::tune {
namespace {

TEST(Profile, CommentsAboveOrBesideAKeyAreItsReason) {
  auto p = parse_profile("# title\n\n# why one\n# and more\nnet/ipv4/tcp_syncookies=1\n"
                         "net.core.somaxconn = 4096 # inline reason\nnet.ipv4.ip_local_port_range =  1024\t65535\n",
                         "t.conf");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->settings.size(), 3u);
  EXPECT_EQ(p->settings[0].key, "net.ipv4.tcp_syncookies");
  EXPECT_EQ(p->settings[0].reason, "why one and more");
  EXPECT_EQ(p->settings[1].reason, "inline reason");
  EXPECT_EQ(p->settings[2].value, "1024 65535");
  EXPECT_EQ(p->settings[2].line, 7);
  EXPECT_EQ(parse_profile("just words\n", "x.conf").error().message, "x.conf: line 1: expected 'key = value'");
}

TEST(Profile, BuiltInsParseAndValidate) {
  for (const auto& name : builtin_profile_names()) {
    SCOPED_TRACE(name);
    auto p = load_profile(name);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_FALSE(p->settings.empty());
    for (const auto& s : p->settings) {
      EXPECT_FALSE(s.reason.empty()) << s.key;
      EXPECT_TRUE(validate(s.key, s.value).ok()) << s.key;
    }
  }
  EXPECT_EQ(load_profile("synflod").error().code, core::exit_code::usage);
}

TEST(Validate, RangesTypesAndObsoleteKeys) {
  EXPECT_EQ(*validate("net.ipv4.ip_local_port_range", " 1024   65535 "), "1024 65535");
  EXPECT_EQ(validate("net.ipv4.ip_local_port_range", "60000 1024").error().message,
            "net.ipv4.ip_local_port_range = 60000 1024: the first port must not be above the second");
  EXPECT_EQ(validate("net.ipv4.tcp_syncookies", "3").error().message, "net.ipv4.tcp_syncookies = 3: out of range 0..2");
  EXPECT_EQ(validate("net.core.somaxconn", "lots").error().message, "net.core.somaxconn = lots: not an integer");
  EXPECT_NE(validate("net.ipv4.tcp_tw_recycle", "0").error().message.find("obsolete"), std::string::npos);
}

TEST(Validate, OnlyTheAllowListIsEverWritten) {
  // Keys off the list are refused by name, whatever their value: a profile or a backup cannot
  // be used to set kernel.core_pattern or kernel.modprobe as root.
  EXPECT_EQ(validate("kernel.core_pattern", "|/tmp/x %p").error().message,
            "kernel.core_pattern: not a setting synscope changes (the allow-list is in docs/tune.md)");
  EXPECT_EQ(validate("kernel.core_pattern", "x").error().code, core::exit_code::usage);
  EXPECT_FALSE(validate("net.ipv4.some_future_key", "7").ok());
  EXPECT_FALSE(validate("net.ipv4.conf.all.forwarding", "1").ok());
  // A typo gets the nearest allowed key; something far from every key gets none.
  EXPECT_NE(validate("net.ipv4.tcp_syncookie", "1").error().message.find("(did you mean net.ipv4.tcp_syncookies?)"),
            std::string::npos);
  EXPECT_EQ(validate("vm.swappiness", "1").error().message.find("did you mean"), std::string::npos);
  for (const auto& k : tunable_keys()) {
    EXPECT_EQ(std::string(k.key).rfind("net.", 0), 0u) << k.key;
  }
}

TEST(Validate, HostWideKeysAreRefusedInsideANamespace) {
  EXPECT_TRUE(check_scope("net.core.netdev_max_backlog", true).ok());
  auto e = check_scope("net.core.netdev_max_backlog", false);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("one value for the whole host"), std::string::npos);
  EXPECT_FALSE(check_scope("net.ipv4.tcp_max_orphans", false).ok());
  EXPECT_TRUE(check_scope("net.ipv4.tcp_syncookies", false).ok());
  EXPECT_TRUE(check_scope("net.core.somaxconn", false).ok());
}

TEST(Sysctl, RestoreOrderPutsWhatResetsOthersFirst) {
  std::vector<std::string> keys = {"net.ipv4.conf.eth0.forwarding", "net.ipv4.tcp_syncookies",
                                   "net.ipv4.conf.default.forwarding", "net.ipv4.ip_forward",
                                   "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding",
                                   "net.ipv6.conf.lo.forwarding", "net.ipv4.neigh.default.gc_stale_time",
                                   "net.ipv4.neigh.eth0.gc_stale_time"};
  std::sort(keys.begin(), keys.end(), restore_before);
  std::vector<std::string> want = {"net.ipv4.ip_forward",
                                   "net.ipv4.tcp_syncookies",
                                   "net.ipv4.conf.all.forwarding",
                                   "net.ipv6.conf.all.forwarding",
                                   "net.ipv4.conf.default.forwarding",
                                   "net.ipv4.neigh.default.gc_stale_time",
                                   "net.ipv4.conf.eth0.forwarding",
                                   "net.ipv4.neigh.eth0.gc_stale_time",
                                   "net.ipv6.conf.lo.forwarding"};
  EXPECT_EQ(keys, want);
}

TEST(Tune, DefaultsNeverPointAtTheHostsFilesFromANamespace) {
  auto host = defaults_for(true, false);
  EXPECT_EQ(host.persist_path, "/etc/sysctl.d/99-synscope.conf");
  EXPECT_EQ(host.backup_dir, "/var/backups/synscope");
  auto ns = defaults_for(false, false);
  EXPECT_EQ(ns.persist_path, "");
  EXPECT_EQ(ns.backup_dir.rfind("/run/", 0), 0u);
  EXPECT_EQ(defaults_for(true, true).persist_path, "") << "a copied tree is not this host's boot configuration";
}

TEST(Firewall, TheTablesBesideIptablesNftsOwn) {
  const std::string ruleset =
      "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n"
      "\t\ttcp dport 22 xt match recent counter packets 0 bytes 0\n\t}\n}\n"
      "table inet mine {\n\tchain in {\n\t\tcomment \"a } brace\"\n\t\ttcp dport 9999 accept\n\t}\n}\n"
      "table ip6 nat {\n}\n"
      "table ip raw2 {\n}\n";
  std::vector<std::string> names;
  std::string beside = nft_tables_beside_iptables(ruleset, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"inet mine", "ip raw2"}));
  EXPECT_EQ(beside,
            "table inet mine {\n\tchain in {\n\t\tcomment \"a } brace\"\n\t\ttcp dport 9999 accept\n\t}\n}\n"
            "table ip raw2 {\n}\n");
}

TEST(Validate, NearestKey) {
  std::vector<std::string> keys{"net.ipv4.tcp_syncookies", "net.ipv4.tcp_synack_retries", "net.core.somaxconn"};
  EXPECT_EQ(nearest("net.ipv4.tcp_syncookie", keys), "net.ipv4.tcp_syncookies");
  EXPECT_EQ(nearest("net.core.somaxcon", keys), "net.core.somaxconn");
}

TEST(Tune, SizingForExpectedConnections) {
  auto p = size_for(*load_profile("low-latency"), 20000);
  int found = 0;
  for (const auto& s : p.settings) {
    if (s.key == "net.core.somaxconn" || s.key == "net.ipv4.tcp_max_syn_backlog") {
      EXPECT_EQ(s.value, "32768");
      EXPECT_NE(s.reason.find("20000"), std::string::npos);
      ++found;
    }
  }
  EXPECT_EQ(found, 2);
  std::string text = sysctl_d_text(p);
  EXPECT_NE(text.find("net.core.somaxconn = 32768\n"), std::string::npos) << text;
}

TEST(Firewall, RatesAndRules) {
  EXPECT_EQ(*parse_rate("10/s"), 10u);
  EXPECT_EQ(*parse_rate("600/m"), 10u);
  EXPECT_FALSE(parse_rate("30/m").ok());  // below one a second
  EXPECT_FALSE(parse_rate("fast").ok());
  std::string nft = firewall_rules({10, 20, 443}, firewall_format::nft);
  EXPECT_NE(nft.find("tcp dport 443 limit rate over 10/second burst 20 packets counter drop"), std::string::npos) << nft;
  EXPECT_NE(nft.find("drops legitimate SYNs too"), std::string::npos);
  std::string ipt = firewall_rules({5, 10, 0}, firewall_format::iptables);
  EXPECT_NE(ipt.find("iptables -A SYNSCOPE-SYN-LIMIT -m limit --limit 5/second --limit-burst 10 -j RETURN"),
            std::string::npos) << ipt;
  EXPECT_EQ(firewall_removal({5, 10, 0}, firewall_format::nft), "nft delete table inet synscope\n");
}

}  // namespace
}  // namespace synscope::tune
