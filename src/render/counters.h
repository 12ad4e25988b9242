#pragma once
// `synscope counters` as nstat's users read it: a table of counters (in the handshake's groups,
// each under its heading, for the default view), or a JSON line each (docs/counters.md).
//
//   fmt::print("{}", render::counters_text(rows, "per_s", true));
#include <string>
#include <vector>

#include "kernel/counters.h"

namespace synscope::render {

/// `change_name` is the change column's name ("delta", "per_s") or "" for none; per_s is written
/// with one decimal, delta whole. `grouped`: headings for the handshake groups (the default
/// view; rows without a group are listed without).
std::string counters_text(const std::vector<kernel::counter_row>& rows, const char* change_name, bool grouped);
/// A {"name","value",change_name,"group","meaning","gauge"} line a counter.
std::string counters_json(const std::vector<kernel::counter_row>& rows, const char* change_name);

}  // namespace synscope::render
