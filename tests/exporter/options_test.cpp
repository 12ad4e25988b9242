// exporter::check_options: what the exporter refuses before it listens.
#include <gtest/gtest.h>

#include "exporter/collectors.h"

namespace synscope::exporter {
namespace {

TEST(CheckOptions, TheDefaultsRunAndEachBadOptionIsNamed) {
  collector_options o;
  EXPECT_TRUE(check_options(o));
  o.listeners = {"443", "127.0.0.1:8080", "[::]:22"};
  EXPECT_TRUE(check_options(o));

  collector_options bad_regex;
  bad_regex.netstat_fields = "^(Tcp";
  auto r = check_options(bad_regex);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::exit_code::usage);
  EXPECT_EQ(r.error().message.rfind("--netstat-fields '^(Tcp': not a regular expression", 0), 0u) << r.error().message;

  collector_options bad_listener;
  bad_listener.listeners = {"443", "not a listener"};
  auto l = check_options(bad_listener);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message.rfind("--listener 'not a listener': a port or ADDR:PORT", 0), 0u) << l.error().message;

  collector_options short_interval;
  short_interval.probe_timeout_ns = 2'000'000'000;
  short_interval.probe_interval_ns = 1'000'000'000;
  auto p = check_options(short_interval);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "--probe-interval: shorter than --probe-timeout");
}

}  // namespace
}  // namespace synscope::exporter
