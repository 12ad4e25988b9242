#pragma once
// Audit, plan, apply (with a backup first and a rollback on any failure), back up and restore
// the kernel settings of connection establishment.
//
//   tune::sysctl_tree tree("/proc");
//   auto p = tune::load_profile("synflood");
//   auto rows = tune::audit(*p, tree);            // current vs recommended, per key
//   auto r = tune::apply(*p, tree, options);      // backup, write, persist, read back
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "tune/profile.h"
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

std::vector<audit_row> audit(const profile& p, const sysctl_tree& tree);
/// The sysctl.d file apply would write: every valid, non-obsolete setting with its reason.
std::string sysctl_d_text(const profile& p);

struct backup_options {
  std::string dir = "/var/backups/synscope";
  std::vector<std::string> include;  ///< more files to keep (e.g. /etc/sysctl.conf)
  int keep_days = -1;                ///< remove backups older than this (never the newest); -1: keep all
  bool firewall = true;              ///< iptables-save, ip6tables-save, nft list ruleset where present
};
struct backup_result {
  std::string path;                  ///< the new backup's folder
  size_t keys = 0;
  std::vector<std::string> files;    ///< in the manifest
  std::vector<std::string> removed;  ///< old backups removed by keep_days
};
/// Writes a timestamped backup folder (built under a temporary name, then renamed) with a
/// MANIFEST of sha256 sums. Fails loudly: any file that cannot be written is an error.
core::result<backup_result> backup(const sysctl_tree& tree, const backup_options& options);

struct restore_result {
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> changed;  ///< key, (was, now)
  std::vector<std::string> skipped;  ///< keys this kernel/namespace does not have or will not take
  bool firewall = false;
};
/// Verifies the manifest (a changed, missing or extra file refuses the restore: exit 4), then
/// writes every net.* value that differs and reads them back. With `firewall`, restores the
/// saved iptables/nft rules too.
core::result<restore_result> restore(const std::string& backup_path, const sysctl_tree& tree, bool firewall);

struct apply_options {
  std::string persist_path = "/etc/sysctl.d/99-synscope.conf";  ///< "" : live only
  backup_options backup;
};
struct apply_result {
  std::string backup_path;
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> changed;
  std::string persisted;  ///< the file written, if any
};
/// Validates everything first; backs up; writes the changed keys live; persists the profile
/// atomically (temporary file, fsync, rename); reads every key back. Any failure after the
/// first write puts back every value (and the previous persisted file) and returns the error.
core::result<apply_result> apply(const profile& p, const sysctl_tree& tree, const apply_options& options);


}  // namespace synscope::tune
