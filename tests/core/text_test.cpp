#include "core/text.h"

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

TEST(Unescape, CEscapes) {
  EXPECT_EQ(*unescape("GET / HTTP/1.0\\r\\n\\r\\n", "--data"), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(*unescape("a\\tb\\\\c\\x41\\x7e\\0z", "--data"), std::string("a\tb\\cA~\0z", 9));
  EXPECT_EQ(*unescape("plain", "--data"), "plain");
}

TEST(Unescape, BadEscapesAreUsageErrorsNamingWhere) {
  auto lone = unescape("abc\\", "--data");
  ASSERT_FALSE(lone.ok());
  EXPECT_EQ(lone.error().code, exit_code::usage);
  EXPECT_EQ(lone.error().message, "--data: a lone backslash at the end");
  EXPECT_EQ(unescape("\\xZ1", "--data").error().message, "--data: \\x needs two hex digits (at byte 0)");
  EXPECT_EQ(unescape("ab\\q", "--data").error().message,
            "--data: unknown escape '\\q' at byte 2 (known: \\r \\n \\t \\0 \\\\ \\xHH)");
}

}  // namespace
TEST(ClosestWord, NamesTheNearCandidateAndNothingFar) {
  std::vector<std::string> commands{"doctor", "probe", "analyze", "capture", "sockets", "counters", "top"};
  EXPECT_EQ(closest_word("probee", commands), "probe");
  EXPECT_EQ(closest_word("anlayze", commands), "analyze");  // two letters swapped: one step
  EXPECT_EQ(closest_word("socket", commands), "sockets");
  EXPECT_EQ(closest_word("counter", commands), "counters");
  EXPECT_EQ(closest_word("tpo", commands), "top");
  EXPECT_EQ(closest_word("frobnicate", commands), "");
  EXPECT_EQ(closest_word("x", commands), "");
  EXPECT_EQ(closest_word("--cuont", {"--count", "--json", "--interval"}), "--count");
  EXPECT_EQ(closest_word("", commands), "");
}

}  // namespace synscope::core
