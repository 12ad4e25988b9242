#pragma once
// `synscope top` as the terminal shows it: a full screen with a sparkline per figure, or a line
// (text or JSON) per interval when stdout is not a terminal (docs/top.md).
//
//   render::top_history h;
//   h.add(render::top_figures(&before, now));
//   fmt::print("{}", render::top_screen(heading, &before, now, h, {24, 80}));
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "kernel/snapshot.h"

namespace synscope::render {

/// Sockets in ten states, then nine counter rates per second.
inline constexpr size_t top_figure_count = 19;
using top_figures_t = std::array<double, top_figure_count>;

/// The figures of one interval; rates are 0 without a snapshot before.
top_figures_t top_figures(const kernel::snapshot* before, const kernel::snapshot& now);

/// The last 120 intervals' figures, for the sparklines.
class top_history {
 public:
  void add(const top_figures_t& values);
  /// The last `width` values of a figure as ▁..█, scaled to their largest.
  [[nodiscard]] std::string sparkline(size_t figure, size_t width) const;

 private:
  std::deque<top_figures_t> samples_;
};

/// What the heading says: the namespace, the interval as given, the wall clock.
struct top_heading {
  std::string netns;
  std::string interval;
  std::string clock;
  int64_t unix_ns = 0;  ///< the same moment, for JSON's time_unix_ns
};

struct screen_size {
  size_t rows = 24;
  size_t cols = 80;
};

/// One full screen: cursor home, a line each, cleared to the end; at most `size.rows` lines.
/// Below 26 + 3 rows (an 80x24 terminal) the sockets and the rates stand side by side, so that the
/// listeners keep the rest; listeners that do not fit are counted on the last line. `colour`:
/// non-zero overflows, drops and cookies in red, failures and retransmits in yellow, listeners
/// 80 % full in red and 50 % in yellow.
std::string top_screen(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now,
                       const top_history& h, screen_size size, bool colour = false);
/// One line of key=value figures (rates "-" without a snapshot before).
std::string top_line(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now);
/// One JSON object: states, rates per second, the five fullest listeners.
std::string top_json(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now);

}  // namespace synscope::render
