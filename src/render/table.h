#pragma once
// An aligned text table, the way ss and nstat print: a header row, columns two spaces apart,
// numbers right-aligned, no trailing spaces.
//
//   render::table t({{"target"}, {"p50_ms", render::table::align::right}});
//   t.add_row({"127.0.0.1:80", "0.052"});
//   std::string text = t.render();
#include <string>
#include <vector>

namespace synscope::render {

class table {
 public:
  enum class align { left, right };
  struct column {
    std::string header;
    align alignment = align::left;
  };

  explicit table(std::vector<column> columns);

  /// Adds a row; missing cells are empty, extra cells are an error (std::invalid_argument).
  void add_row(std::vector<std::string> cells);
  [[nodiscard]] size_t rows() const { return rows_.size(); }
  /// The header and every row, each line ending in '\n'.
  [[nodiscard]] std::string render() const;

 private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace synscope::render
