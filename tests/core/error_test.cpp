#include "core/error.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

TEST(Error, ErrnoNames) {
  EXPECT_EQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(errno_name(ETIMEDOUT), "ETIMEDOUT");
  EXPECT_EQ(errno_name(99999), "E99999");
}

TEST(Error, SystemErrorNamesWhatSyscallAndErrno) {
  error e = system_error("--bind 10.0.0.1:0", "bind", EADDRNOTAVAIL);
  EXPECT_EQ(e.code, exit_code::environment);
  EXPECT_EQ(e.exit(), 3);
  EXPECT_NE(e.message.find("--bind 10.0.0.1:0: bind: "), std::string::npos);
  EXPECT_NE(e.message.find("(EADDRNOTAVAIL)"), std::string::npos);
}

TEST(Result, ValueOrError) {
  result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  result<int> bad = error{exit_code::usage, "nope"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().exit(), 2);
  result<void> fine;
  EXPECT_TRUE(fine.ok());
  result<void> broken = error{exit_code::failed, "x"};
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().exit(), 1);
}

}  // namespace
}  // namespace synscope::core

namespace synscope::core {
namespace {

TEST(Printable, EscapesEverythingButPrintableAscii) {
  using namespace std::string_view_literals;
  EXPECT_EQ(printable("db1:5432"), "db1:5432");
  EXPECT_EQ(printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable("a\\b"), "a\\\\b");
  EXPECT_EQ(printable("\0\x7f\xc2\xb5"sv), "\\x00\\x7f\\xc2\\xb5");
  EXPECT_EQ(printable(std::string(300, 'x')).size(), 203u);
}

}  // namespace
}  // namespace synscope::core
