#include "cli/common.h"

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::cli {

int fail(const core::error& e) {
  fmt::print(stderr, "synscope: {}\n", e.message);
  return e.exit();
}

core::json_object histogram_json_us(const core::histogram& h) {
  core::json_object o;
  o.field("count", h.count());
  if (h.count() == 0) {
    for (const char* k : {"min", "avg", "p50", "p90", "p99", "max", "stddev"}) o.null_field(k);
    return o;
  }
  o.field("min", core::ns_to_us(h.min()))
      .field("avg", h.mean() / 1e3)
      .field("p50", core::ns_to_us(h.percentile(50)))
      .field("p90", core::ns_to_us(h.percentile(90)))
      .field("p99", core::ns_to_us(h.percentile(99)))
      .field("max", core::ns_to_us(h.max()))
      .field("stddev", h.stddev() / 1e3);
  return o;
}

}  // namespace synscope::cli
