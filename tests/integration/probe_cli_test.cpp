// `synscope probe` as a user runs it: the real binary, real sockets on loopback.
#include <signal.h>

#include <thread>

#include <gtest/gtest.h>

#include "active/loopback_listener.h"
#include "core/error.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

std::vector<std::string> probe(std::vector<std::string> args) {
  args.insert(args.begin(), {synscope_binary(), "probe"});
  return args;
}

void expect_ordered_percentiles(const nlohmann::json& h) {
  ASSERT_GT(h.at("count").get<uint64_t>(), 0u);
  double min = h.at("min"), p50 = h.at("p50"), p90 = h.at("p90"), p99 = h.at("p99"), max = h.at("max");
  EXPECT_GT(min, 0.0);
  EXPECT_LE(min, p50);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, max);
}

TEST(ProbeCli, NoTargetProbesItsOwnListener) {
  auto r = run_command(probe({"-c", "5", "-i", "0", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = parse_json_lines(r.out);
  auto attempts = of_type(lines, "attempt");
  auto summaries = of_type(lines, "summary");
  ASSERT_EQ(attempts.size(), 5u);
  ASSERT_EQ(summaries.size(), 1u);
  for (size_t i = 0; i < attempts.size(); ++i) {
    const auto& a = attempts[i];
    EXPECT_EQ(a.at("outcome"), "connected");
    EXPECT_EQ(a.at("seq"), i + 1);
    EXPECT_GT(a.at("elapsed_us").get<double>(), 0.0);
    EXPECT_TRUE(a.at("target").get<std::string>().starts_with("127.0.0.1:"));
    EXPECT_TRUE(a.at("kernel_rtt_us").is_number());
    EXPECT_TRUE(a.at("options").is_array());
    EXPECT_TRUE(a.at("error").is_null());
  }
  const auto& s = summaries[0];
  EXPECT_EQ(s.at("sent"), 5);
  EXPECT_EQ(s.at("connected"), 5);
  EXPECT_EQ(s.at("loss_pct"), 0.0);
  expect_ordered_percentiles(s.at("handshake_us"));
  EXPECT_EQ(s.at("no_syn_retransmit_us").at("count"), 5);
  EXPECT_EQ(s.at("syn_retransmitted_us").at("count"), 0);
}

TEST(ProbeCli, HumanOutputLooksLikePing) {
  auto r = run_command(probe({"-c", "3", "-i", "0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("own listener"), std::string::npos);
  EXPECT_NE(r.out.find("seq=3 connected time="), std::string::npos);
  EXPECT_NE(r.out.find("3 sent, 3 connected, 0 refused, 0 timed out, 0 errors, 0.0% loss"), std::string::npos);
  EXPECT_NE(r.out.find("p99_ms"), std::string::npos);
  EXPECT_NE(r.out.find("no SYN retransmit"), std::string::npos);
}

TEST(ProbeCli, QuietPrintsOnlyTheSummary) {
  auto r = run_command(probe({"-c", "3", "-i", "0", "-q"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("seq="), std::string::npos);
  EXPECT_NE(r.out.find("3 sent"), std::string::npos);
}

TEST(ProbeCli, ListenerOpenedByTheTest) {
  auto listener = active::loopback_listener::start({});
  ASSERT_TRUE(listener.ok());
  auto r = run_command(probe({listener->address().to_string(), "-c", "4", "-i", "0", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = of_type(parse_json_lines(r.out), "summary");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].at("connected"), 4);
  expect_ordered_percentiles(s[0].at("handshake_us"));
  // The listener really took the four connections (it sweeps its queue every 2 ms).
  for (int i = 0; i < 500 && listener->accepted() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(listener->accepted(), 4u);
}

TEST(ProbeCli, Ipv6Loopback) {
  auto listener = active::loopback_listener::start({.family = core::address_family::ipv6});
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 loopback: " << listener.error().message;
  auto target = listener->address().to_string();
  ASSERT_TRUE(target.starts_with("[::1]:"));
  auto r = run_command(probe({target, "-c", "3", "-i", "0", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = of_type(parse_json_lines(r.out), "summary");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].at("target"), target);
  EXPECT_EQ(s[0].at("connected"), 3);
  // A name that resolves to ::1 only with -6, and the own listener on ::1.
  auto own = run_command(probe({"-6", "-c", "2", "-i", "0", "--json"}));
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_TRUE(of_type(parse_json_lines(own.out), "summary").at(0).at("target").get<std::string>().starts_with("[::1]:"));
}

TEST(ProbeCli, ClosedPortIsRefusedAndExitsOne) {
  // Find a port nobody listens on: the own listener's port after it is gone would race, so
  // use a port the kernel just handed out and released.
  uint16_t port = 0;
  {
    auto l = active::loopback_listener::start({});
    ASSERT_TRUE(l.ok());
    port = l->address().port();
  }
  auto r = run_command(probe({"127.0.0.1:" + std::to_string(port), "-c", "2", "-i", "0", "--json"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto lines = parse_json_lines(r.out);
  auto attempts = of_type(lines, "attempt");
  ASSERT_EQ(attempts.size(), 2u);
  for (const auto& a : attempts) {
    EXPECT_EQ(a.at("outcome"), "refused");
    EXPECT_EQ(a.at("error"), "ECONNREFUSED");
  }
  auto s = of_type(lines, "summary").at(0);
  EXPECT_EQ(s.at("refused"), 2);
  EXPECT_EQ(s.at("loss_pct"), 100.0);
}

TEST(ProbeCli, SeveralAddressesOfOneName) {
  auto v4 = active::loopback_listener::start({});
  ASSERT_TRUE(v4.ok());
  // "localhost" resolves to 127.0.0.1 (and often ::1); --all-addresses probes each.
  auto r = run_command(probe({"localhost:" + std::to_string(v4->address().port()), "--all-addresses", "-4",
                              "-c", "2", "-i", "0", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = of_type(parse_json_lines(r.out), "summary");
  ASSERT_GE(s.size(), 1u);
  EXPECT_EQ(s[0].at("target"), v4->address().to_string());
}

struct bad_input {
  std::vector<std::string> args;
  std::string expected;  // part of the one-line message
};

// How GoogleTest (and so CTest's test list) shows a case: its arguments.
void PrintTo(const bad_input& b, std::ostream* os) {
  for (const auto& a : b.args) *os << core::printable(a) << ' ';
}

// Test names from the arguments: "no_such_host_invalid_80_c_1".
std::string bad_input_name(const ::testing::TestParamInfo<bad_input>& info) {
  std::string name;
  for (const auto& a : info.param.args) {
    for (char c : a) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    name += '_';
  }
  name += std::to_string(info.index);
  return name;
}

class ProbeBadInput : public ::testing::TestWithParam<bad_input> {};

TEST_P(ProbeBadInput, OneLineErrorExitTwo) {
  auto r = run_command(probe(GetParam().args), 30'000);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  ASSERT_FALSE(r.err.empty());
  EXPECT_TRUE(r.err.starts_with("synscope: ")) << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  // One line of error (CLI11 parse errors add one "Run --help" hint line), never a trace.
  EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProbeBadInput,
    ::testing::Values(bad_input{{"no-such-host.invalid:80", "-c", "1"}, "no-such-host.invalid"},
                      bad_input{{"127.0.0.1:99999"}, "out of range"},
                      bad_input{{"127.0.0.1:0"}, "port 0"},
                      bad_input{{"[::zz]:80"}, "not a valid IPv6 address"},
                      bad_input{{"[::1"}, "missing ']'"},
                      bad_input{{"127.0.0.1"}, "no port"},
                      bad_input{{"127.0.0.1", "-p", "0"}, "port 0"},
                      bad_input{{"-i", "fast"}, "-i/--interval 'fast'"},
                      bad_input{{"-W", "0"}, "-W/--timeout"},
                      bad_input{{"--concurrency", "0"}, "--concurrency"},
                      bad_input{{"--tos", "300"}, "--tos"},
                      bad_input{{"--bind", "not-an-address"}, "--bind"},
                      bad_input{{"-c", "many"}, "count"},
                      bad_input{{"--no-such-flag"}, "no-such-flag"},
                      bad_input{{"-4", "-6"}, "excludes"}),
    bad_input_name);

TEST(ProbeCli, ConcurrencyAboveTheHardFileLimitIsOneClearError) {
  auto r = run_command({"sh", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", synscope_binary(), "probe", "-c", "2",
                        "--concurrency", "1000"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("--concurrency 1000 needs about 1064 open files"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(ProbeCli, CountZeroRunsUntilInterrupted) {
  temp_dir dir;
  background_process p({synscope_binary(), "probe", "-c", "0", "-i", "20ms"}, dir.path("out.txt"));
  ASSERT_TRUE(p.started());
  ASSERT_TRUE(p.wait_for_log("seq=3 connected", 20'000)) << p.log();
  int code = p.interrupt();
  EXPECT_EQ(code, 0) << p.log();
  EXPECT_NE(p.log().find("probe statistics"), std::string::npos) << p.log();
}

TEST(ProbeCli, HelpHasExamplesAndListsOnlyBuiltCommands) {
  auto top = run_command({synscope_binary(), "--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("probe"), std::string::npos);
  EXPECT_NE(top.out.find("Examples:"), std::string::npos);
  auto sub = run_command(probe({"--help"}));
  EXPECT_EQ(sub.exit_code, 0);
  EXPECT_NE(sub.out.find("--fastopen"), std::string::npos);
  EXPECT_NE(sub.out.find("Examples:"), std::string::npos);
  EXPECT_NE(sub.out.find("synscope probe db1:5432"), std::string::npos);
  auto none = run_command({synscope_binary()});
  EXPECT_EQ(none.exit_code, 2);
  auto version = run_command({synscope_binary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(version.out.starts_with("synscope ")) << version.out;
}

}  // namespace
}  // namespace synscope::testing
