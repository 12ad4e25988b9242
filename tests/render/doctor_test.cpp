// `synscope doctor`'s findings as text and JSON, from findings made by hand.
#include "render/doctor.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

std::vector<doctor::finding> findings() {
  return {{"backlog", "somaxconn", doctor::verdict::pass, "net.core.somaxconn 4096", {{"somaxconn", "4096"}}, ""},
          {"backlog", "syn backlog", doctor::verdict::warn, "tcp_max_syn_backlog 128", {},
           "sysctl -w net.ipv4.tcp_max_syn_backlog=4096"},
          {"time-wait", "buckets", doctor::verdict::info, "12 TIME-WAIT sockets", {}, ""}};
}

TEST(DoctorText, GroupsFixesAndCounts) {
  EXPECT_EQ(doctor_text(findings(), false),
            "backlog\n"
            "  PASS  net.core.somaxconn 4096\n"
            "  WARN  tcp_max_syn_backlog 128\n"
            "        fix: sysctl -w net.ipv4.tcp_max_syn_backlog=4096\n"
            "\n"
            "time-wait\n"
            "  INFO  12 TIME-WAIT sockets\n"
            "\n"
            "1 PASS, 1 INFO, 1 WARN, 0 FAIL\n");
  EXPECT_NE(doctor_text(findings(), true).find("\033[33mWARN\033[0m"), std::string::npos);
}

TEST(DoctorJson, ALineAFindingThenTheWorst) {
  std::istringstream in(doctor_json(findings()));
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["evidence"]["somaxconn"], "4096");
  EXPECT_EQ(lines[1]["verdict"], "WARN");
  EXPECT_EQ(lines[3]["type"], "summary");
  EXPECT_EQ(lines[3]["worst"], "WARN");
}

}  // namespace
}  // namespace synscope::render
