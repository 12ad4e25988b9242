#pragma once
// Parsing durations written by people: "1", "0.2" (seconds, as ping -i and -W take them),
// "500ms", "250us", "1.5s", "2m".
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace synscope::core {

/// Parses a non-negative duration into nanoseconds. `what` names the argument in the error
/// ("-i/--interval"). Accepted units: ns, us, ms, s, m; no unit means seconds.
result<int64_t> parse_duration(std::string_view text, std::string_view what);

}  // namespace synscope::core
