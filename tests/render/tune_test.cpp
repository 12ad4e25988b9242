// `synscope tune`'s audit, plan and results as text and JSON, from results made by hand.
#include "render/tune.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

std::vector<tune::audit_row> rows() {
  return {{"net.ipv4.tcp_syncookies", "0", "1", tune::status::differs, "cookies when the SYN queue overflows"},
          {"net.core.somaxconn", "4096", "4096", tune::status::ok, ""},
          {"net.ipv4.tcp_bogus\x1b[31m", "", "1", tune::status::invalid, "not a key"}};
}

TEST(AuditText, ARowAKeyWithControlBytesEscaped) {
  tune::profile p;
  p.name = "synflood";
  std::string text = audit_text(p, rows(), "/proc");
  EXPECT_EQ(text.rfind("profile synflood against /proc:\n", 0), 0u) << text;
  EXPECT_NE(text.find("net.ipv4.tcp_syncookies"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "an escape byte reached the terminal";
  EXPECT_NE(text.find("\\x1b[31m"), std::string::npos) << text;
}

TEST(AuditJson, ALineAKey) {
  std::istringstream in(audit_json(rows()));
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["key"], rows()[n].key);
    EXPECT_EQ(j["status"], tune::status_name(rows()[n].state));
    ++n;
  }
  EXPECT_EQ(n, 3u);
}

TEST(PlanText, WhatWouldChangeWhatNotAndWhereItGoes) {
  tune::profile p;
  p.name = "synflood";
  plan_target live{"synflood", "", "network namespace t1", false, "/run/synscope/backups"};
  std::string text = plan_text(p, rows(), live);
  EXPECT_NE(text.find("  net.ipv4.tcp_syncookies: 0 -> 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("not written (invalid: not a key)"), std::string::npos) << text;
  EXPECT_EQ(text.find("somaxconn"), std::string::npos) << text;  // already the profile's
  EXPECT_NE(text.find("live only (network namespace t1): nothing is persisted, so the change ends with the next "
                      "boot; --persist-path FILE persists it\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("backup first, into /run/synscope/backups\n"), std::string::npos);
  auto j = nlohmann::json::parse(plan_file_json(p, live));
  EXPECT_EQ(j["live_only"], true);
  EXPECT_EQ(j["text"], "");
}

TEST(ApplyBackupRestore, TextAndJson) {
  tune::apply_result a{"/tmp/b/20261202T060000Z-abc", {{"net.ipv4.tcp_syncookies", "0", "1"}}, ""};
  std::string text = apply_text(a, "--persist-path ''");
  EXPECT_NE(text.find("backup: /tmp/b/20261202T060000Z-abc\n  net.ipv4.tcp_syncookies: 0 -> 1\n"), std::string::npos);
  EXPECT_NE(text.find("live only (--persist-path ''): nothing persisted\n"), std::string::npos);
  EXPECT_NE(text.find("undo: synscope tune restore /tmp/b/20261202T060000Z-abc\n"), std::string::npos);
  auto aj = nlohmann::json::parse(apply_json(a));
  EXPECT_EQ(aj["changed"][0]["now"], "1");

  tune::restore_result r;
  r.changed = {{"net.core.somaxconn", "128", "4096"}};
  for (int i = 0; i < 10; ++i) r.skipped.push_back("net.ipv4.conf.veth" + std::to_string(i) + ".rp_filter");
  r.persisted = "left as it was";
  std::string rt = restore_text(r);
  EXPECT_NE(rt.find("restored 1 setting\n"), std::string::npos) << rt;
  EXPECT_NE(rt.find("not here (10 keys"), std::string::npos) << rt;
  EXPECT_NE(rt.find(", ...\n"), std::string::npos) << rt;  // eight named, the rest elided
  EXPECT_EQ(restore_differences(r), "");
  r.differs = {{"net.ipv4.tcp_fin_timeout", "60", "30"}};
  EXPECT_EQ(restore_differences(r),
            "synscope: restore: net.ipv4.tcp_fin_timeout is '30', not the backup's '60'\n"
            "synscope: restore: 1 setting still differs from the backup\n");
  EXPECT_EQ(nlohmann::json::parse(restore_json(r))["differs"].size(), 1u);
}

}  // namespace
}  // namespace synscope::render
