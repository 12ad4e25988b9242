#include "render/table.h"

#include <gtest/gtest.h>

namespace synscope::render {
namespace {

TEST(Table, AlignsColumnsAndTrimsTrailingSpace) {
  table t({{"name"}, {"count", table::align::right}, {"note"}});
  t.add_row({"a", "1", ""});
  t.add_row({"longer", "1234", "x"});
  EXPECT_EQ(t.render(),
            "name    count  note\n"
            "a           1\n"
            "longer   1234  x\n");
}

TEST(Table, MissingCellsAreEmptyExtraCellsRefused) {
  table t({{"a"}, {"b"}});
  t.add_row({"1"});
  EXPECT_EQ(t.rows(), 1u);
  EXPECT_THROW(t.add_row({"1", "2", "3"}), std::invalid_argument);
}

TEST(Table, CountsUtf8ByDisplayColumns) {
  table t({{"k"}, {"v", table::align::right}});
  t.add_row({"µs", "1"});
  t.add_row({"ab", "22"});
  EXPECT_EQ(t.render(), "k    v\nµs   1\nab  22\n");
}

}  // namespace
}  // namespace synscope::render
