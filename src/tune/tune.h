#pragma once
// Audit, plan, apply (with a backup first and a rollback on any failure), back up and restore
// the kernel settings of connection establishment.
//
//   kernel::sysctl_tree tree("/proc");
//   auto p = tune::load_profile("synflood");
//   auto rows = tune::audit(*p, tree);            // current vs recommended, per key
//   auto r = tune::apply(*p, tree, options);      // backup, write, persist, read back
//
// Backups and restore: tune/backup.h.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "tune/backup.h"
#include "tune/profile.h"
#include "kernel/sysctl.h"
#include "tune/sysctl.h"

namespace synscope::tune {

enum class status { ok, differs, missing, obsolete, invalid };
const char* status_name(status s);

struct audit_row {
  std::string key;
  std::string current;      ///< empty when missing
  std::string recommended;  ///< normalised
  status state = status::ok;
  std::string reason;       ///< the profile's comment, or why invalid/obsolete/missing
};

/// Sizes tcp_max_syn_backlog and somaxconn for `connections` handshakes at once (the next power
/// of two, at least the profile's value); returns the profile with them set and explained.
profile size_for(profile p, uint64_t connections);

/// Each of the profile's keys against this kernel; with `initial_netns` false, a host-wide key is
/// `invalid` (apply would refuse it).
std::vector<audit_row> audit(const profile& p, const kernel::sysctl_tree& tree, bool initial_netns = true);
/// The sysctl.d file apply would write: every valid, non-obsolete setting with its reason.
std::string sysctl_d_text(const profile& p);

/// Where apply writes unless told otherwise. In the host's own network namespace: the sysctl.d
/// file and the backup folder of a host. Outside it (--netns, `ip netns exec`, a container's
/// namespace), a namespace's settings die with it: nothing is persisted unless a path is given,
/// and backups go under /run (a tmpfs, gone at the next boot like the namespace), never into the
/// host's /etc or /var.
struct default_paths {
  std::string persist_path;  ///< "" : live only
  std::string backup_dir;
};
default_paths defaults_for(bool initial_netns, bool fake_proc_root);

struct apply_options {
  std::string persist_path = "/etc/sysctl.d/99-synscope.conf";  ///< "" : live only
  std::string backup_dir = "/var/backups/synscope";
  backup_options backup;
  bool initial_netns = true;  ///< kernel::in_initial_netns(): host-wide keys are refused outside it
};
struct apply_result {
  std::string backup_path;
  std::vector<change> changed;
  std::string persisted;  ///< the file written, if any
};
/// Validates everything first (the allow-list, each key's range and scope, the persist path: a
/// link is refused, as replacing it would drop whatever it pointed to from the boot path); locks
/// the backup folder and backs up (the persisted file's state included); writes the changed keys
/// live; persists the profile atomically (temporary file, fsync, rename); reads every key back.
/// Any failure after the first write puts back every value and the persisted file as it was,
/// and returns the error.
core::result<apply_result> apply(const profile& p, const kernel::sysctl_tree& tree, const apply_options& options);

}  // namespace synscope::tune
