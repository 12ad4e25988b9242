#include "render/table.h"

#include <algorithm>
#include <stdexcept>

namespace synscope::render {
namespace {

// Display width: UTF-8 continuation bytes take no column.
size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

table::table(std::vector<column> columns) : columns_(std::move(columns)) {}

void table::add_row(std::vector<std::string> cells) {
  if (cells.size() > columns_.size()) {
    throw std::invalid_argument("table::add_row: more cells than columns");
  }
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string table::render() const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = display_width(columns_[c].header);
    for (const auto& row : rows_) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t pad = widths[c] - display_width(cells[c]);
      if (c > 0) {
        line += "  ";
      }
      if (columns_[c].alignment == align::right) {
        line.append(pad, ' ');
        line += cells[c];
      } else {
        line += cells[c];
        line.append(pad, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  std::vector<std::string> header;
  header.reserve(columns_.size());
  for (const auto& col : columns_) {
    header.push_back(col.header);
  }
  emit(header);
  for (const auto& row : rows_) {
    emit(row);
  }
  return out;
}

}  // namespace synscope::render
