// The text format as Prometheus' Go client writes it: numbers, escaping, HELP/TYPE, OpenMetrics.
#include "exporter/exposition.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace synscope::exporter {
namespace {

TEST(Exposition, NumbersAsGoWritesThem) {
  // strconv.FormatFloat(v, 'g', -1, 64), as client_golang uses it.
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1264), "1264");
  EXPECT_EQ(format_value(999999), "999999");
  EXPECT_EQ(format_value(1e6), "1e+06");
  EXPECT_EQ(format_value(11595753), "1.1595753e+07");
  EXPECT_EQ(format_value(0.5), "0.5");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(0.00001), "1e-05");
  EXPECT_EQ(format_value(-1), "-1");
  EXPECT_EQ(format_value(1.8446744073709552e19), "1.8446744073709552e+19");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Exposition, FamiliesSamplesAndEscaping) {
  exposition out(format::prometheus);
  out.family("synscope_x", "Help with a \\ and\na newline.", metric_type::gauge);
  out.sample("synscope_x", {{"listener", "[::1]:80"}, {"odd", "a\"b\\c\nd"}}, 3);
  out.family("node_netstat_Tcp_ActiveOpens", "Statistic TcpActiveOpens.", metric_type::untyped);
  out.sample("node_netstat_Tcp_ActiveOpens", {}, 137);
  EXPECT_EQ(out.finish(),
            "# HELP synscope_x Help with a \\\\ and\\na newline.\n"
            "# TYPE synscope_x gauge\n"
            "synscope_x{listener=\"[::1]:80\",odd=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP node_netstat_Tcp_ActiveOpens Statistic TcpActiveOpens.\n"
            "# TYPE node_netstat_Tcp_ActiveOpens untyped\n"
            "node_netstat_Tcp_ActiveOpens 137\n");
}

TEST(Exposition, OpenMetricsNamesCountersWithoutTotalAndEnds) {
  exposition out(format::openmetrics);
  out.family("synscope_events_total", "Events.", metric_type::counter);
  out.sample("synscope_events_total", {}, 2);
  out.family("node_netstat_Tcp_InSegs", "Statistic TcpInSegs.", metric_type::untyped);
  EXPECT_EQ(out.finish(),
            "# HELP synscope_events Events.\n# TYPE synscope_events counter\nsynscope_events_total 2\n"
            "# HELP node_netstat_Tcp_InSegs Statistic TcpInSegs.\n# TYPE node_netstat_Tcp_InSegs unknown\n# EOF\n");
}

}  // namespace
}  // namespace synscope::exporter
