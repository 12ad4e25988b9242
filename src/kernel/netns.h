#pragma once
// Entering a named network namespace (one made by `ip netns add NAME`, bound under
// /run/netns), so sock_diag and /proc/net read that namespace.
//
//   if (auto r = kernel::enter_netns("lab0"); !r) return fail(r.error());
#include <string>

#include "core/error.h"

namespace synscope::kernel {

/// Moves the calling thread (call it before starting any other) into network namespace `name`.
/// Errors: no such namespace (exit 2), not permitted (77), other failures (3).
core::result<void> enter_netns(const std::string& name);

}  // namespace synscope::kernel
