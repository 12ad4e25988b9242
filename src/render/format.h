#pragma once
// Numbers and times as synscope's tables print them.
//
//   render::ms(1'234'567)                  // "1.235"
//   render::format_duration(1'500'000'000)  // "1.5 s"
//   t.add_row(render::histogram_row("all", h, {stat::count, stat::min, stat::p50, stat::max}));
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"
#include "render/json.h"

namespace synscope::render {

/// A count with its noun, singular for one: counted(1, "attempt") is "1 attempt", counted(2,
/// "attempt") "2 attempts"; `plural` where adding an s is wrong.
std::string counted(uint64_t n, std::string_view noun, std::string_view plural = {});

/// A duration as people write it: "2 s", "100 ms", "1.5 s", "250 us", "0 s".
std::string format_duration(int64_t ns);

/// Nanoseconds as milliseconds with `decimals` places: ms(1'234'567) is "1.235".
std::string ms(int64_t ns, int decimals = 3);
std::string ms(double ns, int decimals = 3);

/// The figures of a latency histogram a table can show.
enum class stat { count, min, mean, p50, p90, p99, p999, max, stddev };

/// A table row: `label`, then each of `stats` of a nanosecond histogram in milliseconds (three
/// decimals; count as a number). An empty histogram shows "0" for count and "-" for the rest.
std::vector<std::string> histogram_row(std::string_view label, const core::histogram& h,
                                       std::initializer_list<stat> stats);

/// {"count", "min", "avg", "p50", "p90", "p99", "max", "stddev"} of a nanosecond histogram, in
/// microseconds; every field but count is null when the histogram is empty.
json_object histogram_json_us(const core::histogram& h);

}  // namespace synscope::render
