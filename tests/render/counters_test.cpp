// `synscope counters`' table and JSON lines, from rows made by hand.
#include "render/counters.h"

#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

std::vector<kernel::counter_row> rows() {
  const auto& g = kernel::handshake_groups();
  return {{"TcpActiveOpens", 12, 2.5, "connect() calls", g.at(0).name, false},
          {"TcpExtNoSuchCounter", std::nullopt, std::nullopt, "", g.at(0).name, false},
          {"TcpExtListenOverflows", 3, 1.0, "accept queue full", g.at(1).name, false}};
}

TEST(CountersText, GroupHeadingsValuesAndChange) {
  std::string text = counters_text(rows(), "per_s", true);
  const auto& g = kernel::handshake_groups();
  EXPECT_EQ(text.rfind(fmt::format("{} ({})\n", g.at(0).title, g.at(0).name), 0), 0u) << text;
  EXPECT_NE(text.find(fmt::format("\n{} ({})\n", g.at(1).title, g.at(1).name)), std::string::npos) << text;
  EXPECT_NE(text.find("n/a"), std::string::npos) << text;  // a counter this kernel does not have
  EXPECT_NE(text.find("2.5"), std::string::npos) << text;
  std::string flat = counters_text(rows(), "delta", false);
  EXPECT_EQ(flat.find(g.at(0).title), std::string::npos) << flat;
  EXPECT_NE(flat.find(" 2 "), std::string::npos) << flat;  // a delta is whole: 2.5 is written 2
  EXPECT_EQ(counters_text(rows(), "", false).find("delta"), std::string::npos);
}

TEST(CountersJson, ALineACounterWithNullsForWhatIsNotThere) {
  std::istringstream in(counters_json(rows(), "delta"));
  std::string line;
  std::getline(in, line);
  auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["name"], "TcpActiveOpens");
  EXPECT_EQ(first["value"], 12);
  EXPECT_DOUBLE_EQ(first["delta"].get<double>(), 2.5);
  EXPECT_FALSE(first.contains("gauge"));
  std::getline(in, line);
  auto second = nlohmann::json::parse(line);
  EXPECT_TRUE(second["value"].is_null());
  EXPECT_TRUE(second["delta"].is_null());
  EXPECT_FALSE(second.contains("meaning"));
  std::string plain = counters_json(rows(), "");
  EXPECT_FALSE(nlohmann::json::parse(plain.substr(0, plain.find('\n'))).contains("delta"));
}

}  // namespace
}  // namespace synscope::render
