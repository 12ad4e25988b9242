#pragma once
// Entering a named network namespace (one made by `ip netns add NAME`, bound under
// /run/netns), so sock_diag and /proc/net read that namespace.
//
//   if (auto r = kernel::enter_netns("lab0"); !r) return fail(r.error());
#include <cstdint>
#include <string>

#include "core/error.h"

namespace synscope::kernel {

/// Moves the calling thread (call it before starting any other) into network namespace `name`.
/// Errors: no such namespace (exit 2), not permitted (77), other failures (3).
core::result<void> enter_netns(const std::string& name);

/// True when the calling thread is in the initial network namespace (the host's own), where
/// /etc and /var are the host's boot configuration. Known from the namespace's inode (fixed at
/// 0xEFFFFFF9 for the initial one, include/linux/proc_ns.h) or, on kernels that number it like
/// any other, from a setting only the initial namespace has (net.core.netdev_max_backlog is
/// registered for init_net alone). False when neither can be read: then nothing is assumed to
/// be the host's.
bool in_initial_netns();

/// The inode number of the calling thread's network namespace (what `ls -l /proc/self/ns/net`
/// shows, and what BPF programs read as net->ns.inum); 0 when it cannot be read.
uint32_t current_netns_inode();

}  // namespace synscope::kernel
