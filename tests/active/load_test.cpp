#include "active/load.h"

#include <gtest/gtest.h>

namespace synscope::active {
namespace {

TEST(SourceRange, RangesListsAndSingleAddresses) {
  auto r = parse_source_range("127.0.0.2-127.0.0.4,10.0.0.1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].host_string(), "127.0.0.2");
  EXPECT_EQ((*r)[2].host_string(), "127.0.0.4");
  EXPECT_EQ((*r)[3].host_string(), "10.0.0.1");
  auto v6 = parse_source_range("::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->front().family(), AF_INET6);
}

TEST(SourceRange, BadRangesSayWhy) {
  EXPECT_EQ(parse_source_range("127.0.0.9-127.0.0.2").error().message,
            "--source '127.0.0.9-127.0.0.2': the range ends before it starts");
  EXPECT_EQ(parse_source_range("10.0.0.0-10.1.0.0").error().message,
            "--source '10.0.0.0-10.1.0.0': more than 65536 addresses");
  EXPECT_EQ(parse_source_range("host.example").error().code, core::exit_code::usage);
}

TEST(Load, ErrorNames) {
  EXPECT_EQ(load_error_name(error_timeout), "timeout");
  EXPECT_EQ(load_error_name(error_closed_early), "closed before reply");
  EXPECT_EQ(load_error_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
}

TEST(Load, RunsAreBounded) {
  std::atomic<bool> stop{false};
  load_options o;
  o.target = core::loopback_address(core::address_family::ipv4, 9);
  auto r = run_load(o, stop, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "bench: give -n COUNT or --duration (every run is bounded)");
}

}  // namespace
}  // namespace synscope::active
