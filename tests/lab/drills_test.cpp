// The drills' checks happen in lab, before any namespace is made, and their reports are typed:
// what only one drill measures lives in that drill's scenario.
#include "lab/drills.h"

#include <gtest/gtest.h>

namespace synscope::lab {
namespace {

const std::atomic<bool> not_stopped{false};

template <typename R>
void expect_usage(const core::result<R>& r, const char* says) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::exit_code::usage);
  EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
}

TEST(Drills, BadOptionsAreRefusedBeforeAnyNamespaceIsMade) {
  synflood_options flood;
  flood.duration_ns = 0;
  expect_usage(run_synflood(flood, not_stopped, {}), "--duration up to 10m");
  flood = {};
  flood.flood_rate = 2e6;
  expect_usage(run_synflood(flood, not_stopped, {}), "--flood-rate up to 1000000/s");
  timewait_options tw;
  tw.rate = 0;
  expect_usage(run_timewait(tw, not_stopped, {}), "--rate up to 100000/s");
  tw = {};
  tw.ports = 4;
  expect_usage(run_timewait(tw, not_stopped, {}), "--ports: 8 to 28000");
  backlog_options bl;
  bl.connections = 0;
  expect_usage(run_backlog(bl, not_stopped, {}), "-n 1 to 100000");
  fastopen_options tfo;
  tfo.rtt_ms = 3;
  expect_usage(run_fastopen(tfo, not_stopped, {}), "an even number of milliseconds");
  tfo = {};
  tfo.requests = 0;
  expect_usage(run_fastopen(tfo, not_stopped, {}), "-n 1 to 10000");
  tfo.scenarios = {"sometimes"};
  expect_usage(run_fastopen(tfo, not_stopped, {}), "'sometimes' is not a fastopen scenario (without, with)");
}

TEST(Drills, ScenarioKeysInTheOrderTheyRun) {
  EXPECT_EQ(synflood_scenarios(), (std::vector<std::string>{"off", "on", "large-backlog", "synack-1", "firewall"}));
  EXPECT_EQ(timewait_scenarios(), (std::vector<std::string>{"baseline", "reuse", "sources", "pooled"}));
  EXPECT_EQ(backlog_scenarios(), (std::vector<std::string>{"small", "large", "capped"}));
  EXPECT_EQ(fastopen_scenarios(), (std::vector<std::string>{"without", "with"}));
}

TEST(Drills, EachReportIsItsDrillAndTfoSavingNeedsBothScenarios) {
  drill_report r = synflood_report{};
  EXPECT_STREQ(std::visit([](const auto& x) { return std::decay_t<decltype(x)>::drill; }, r), "synflood");
  fastopen_report tfo;
  tfo.rtt_ms = 50;
  fastopen_scenario without;
  without.key = "without";
  for (int i = 0; i < 9; ++i) without.load.request.record(100'000'000);
  tfo.scenarios.push_back(without);
  EXPECT_FALSE(tfo.saved_ms().has_value());  // only one of the two ran
  fastopen_scenario with;
  with.key = "with";
  for (int i = 0; i < 9; ++i) with.load.request.record(50'000'000);
  tfo.scenarios.push_back(with);
  ASSERT_TRUE(tfo.saved_ms().has_value());
  EXPECT_NEAR(*tfo.saved_ms(), 50.0, 1.0);
}

}  // namespace
}  // namespace synscope::lab
