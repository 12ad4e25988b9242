// A lab drill's report as the terminal, --json and --report show it, from reports made by hand.
#include "render/lab.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

lab::synflood_report synflood() {
  lab::synflood_report r;
  r.parameters = {{"--flood-rate", "2000"}, {"--duration", "5s"}};
  for (const char* key : {"off", "on"}) {
    lab::synflood_scenario s;
    s.key = key;
    s.name = std::string("SYN cookies ") + key;
    s.settings = {{"net.ipv4.tcp_syncookies (server)", key == std::string("on") ? "1" : "0"}};
    s.load.started = 100;
    s.load.succeeded = key == std::string("on") ? 100 : 40;
    s.load.failed = s.load.started - s.load.succeeded;
    for (uint64_t i = 0; i < s.load.succeeded; ++i) s.load.handshake.record(2'000'000);
    s.server_counters = {{"ListenDrops", key == std::string("on") ? 0 : 60}, {"SyncookiesSent", 7}};
    s.half_open_peak = 128;
    s.flood_sent = 10'000;
    r.scenarios.push_back(s);
  }
  return r;
}

TEST(LabText, TableAndHowToRepeatIt) {
  std::string text = lab_text(synflood());
  EXPECT_EQ(text.rfind("synscope lab synflood: 2 scenarios, each in namespaces of its own\n", 0), 0u) << text;
  EXPECT_NE(text.find("SYN cookies off"), std::string::npos) << text;
  EXPECT_NE(text.find("40/100"), std::string::npos) << text;
  EXPECT_NE(text.find("repeat: synscope lab synflood --flood-rate 2000 --duration 5s --scenarios off,on\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("interrupted"), std::string::npos);
  auto cut = synflood();
  cut.interrupted = true;
  EXPECT_NE(lab_text(cut).find("interrupted: the scenarios above are those that finished"), std::string::npos);
}

TEST(LabJson, EveryScenarioWithWhatOnlyItsDrillMeasures) {
  auto j = nlohmann::json::parse(lab_json(synflood()));
  EXPECT_EQ(j["type"], "lab");
  EXPECT_EQ(j["drill"], "synflood");
  EXPECT_EQ(j["parameters"]["flood-rate"], "2000");
  ASSERT_EQ(j["scenarios"].size(), 2u);
  EXPECT_EQ(j["scenarios"][0]["key"], "off");
  EXPECT_EQ(j["scenarios"][0]["succeeded"], 40);
  EXPECT_EQ(j["scenarios"][0]["half_open_peak"], 128);
  EXPECT_EQ(j["scenarios"][0]["server_counters"]["ListenDrops"], 60);
  EXPECT_DOUBLE_EQ(j["scenarios"][1]["handshake_us"]["p50"].get<double>(), 2000.0);
  EXPECT_FALSE(j.contains("saved_ms"));

  lab::fastopen_report f;
  f.rtt_ms = 50;
  auto tj = nlohmann::json::parse(lab_json(f));
  EXPECT_EQ(tj["drill"], "fastopen");
  EXPECT_EQ(tj["rtt_ms"], 50);
  EXPECT_TRUE(tj["saved_ms"].is_null());  // neither scenario ran
}

TEST(LabHtml, ASelfContainedPageWithTheTableAndTheCdf) {
  std::string html = lab_html(synflood());
  EXPECT_NE(html.find("<h1>synscope lab synflood</h1>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<pre>"), std::string::npos);
  EXPECT_NE(html.find("net.ipv4.tcp_syncookies (server) = 1"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
}

}  // namespace
}  // namespace synscope::render
