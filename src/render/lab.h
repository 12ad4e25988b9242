#pragma once
// A lab drill's report as the terminal, --json and --report show it (docs/lab.md). Each drill
// has its own table and fields: the overloads behind these take every alternative of
// lab::drill_report, so a drill added there without its rendering does not compile.
//
//   fmt::print("{}", render::lab_text(report));
#include <string>

#include "lab/drills.h"

namespace synscope::render {

/// The header line, the results table, the drill's own summary line, and how to repeat it.
std::string lab_text(const lab::drill_report& r);
/// One JSON object: parameters, every scenario's figures and counters, the repeat command.
std::string lab_json(const lab::drill_report& r);
/// A self-contained HTML page: the table, the latency CDFs, each scenario's settings.
std::string lab_html(const lab::drill_report& r);

}  // namespace synscope::render
