#pragma once
// Small things every command's rendering shares.
#include "core/error.h"
#include "core/histogram.h"
#include "core/json.h"

namespace synscope::cli {

/// Prints "synscope: <message>" to stderr and returns the error's exit code.
int fail(const core::error& e);

/// {"count", "min", "avg", "p50", "p90", "p99", "max", "stddev"} of a nanosecond histogram, in
/// microseconds; every field but count is null when the histogram is empty.
core::json_object histogram_json_us(const core::histogram& h);

}  // namespace synscope::cli
