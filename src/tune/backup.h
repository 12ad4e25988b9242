#pragma once
// Backups of the kernel's network settings, the firewall and the persisted sysctl.d file, and
// restoring them: the undo of `tune apply`, and the seed's backup script made safe.
//
//   auto store = tune::backup_store::open("/var/backups/synscope", true);   // checked, locked
//   auto b = store->write(tree, options);        // synscope-backup-<UTC time>/, mode 0700
//   auto r = tune::restore(b->path, tree, {});   // verified on its descriptors, then written back
//
// What protects a backup is who may write it: the folder is root's (0700, its files 0600), and
// restore refuses a folder or file that is not root's or that others may write, checked on the
// opened descriptors (O_NOFOLLOW, fstat), as OpenSSH's StrictModes does. MANIFEST.sha256 finds
// a file changed or lost by accident (a disk, an editor, a half-copied folder); anyone who may
// write the folder could recompute it, so it is not what keeps an attacker out. Restore writes
// net.* keys only, and refuses a backup that names any other.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "kernel/sysctl.h"
#include "tune/sysctl.h"

namespace synscope::tune {

/// What stood at the persisted sysctl.d path before a change, exactly enough to put it back.
struct persisted_file {
  enum class kind { not_recorded, absent, file, symlink };
  std::string path;
  kind state = kind::not_recorded;
  std::string bytes;  ///< the file's contents, or the link's target
  mode_t mode = 0644;
};

/// What is at `path` now (lstat; a link is not followed). A folder or a device there is an
/// error naming it.
core::result<persisted_file> look_at_persisted(const std::string& path);

/// Puts `was` back: the file with its bytes and mode (written beside it, renamed over it), the
/// link with its target, or nothing (the file removed) when it was absent.
core::result<void> put_back(const persisted_file& was);

struct backup_options {
  std::vector<std::string> include;  ///< more files to keep (e.g. /etc/sysctl.conf)
  int keep_days = -1;                ///< remove backups older than this (never the newest); -1: keep all
  bool firewall = true;              ///< iptables-save, ip6tables-save, nft list ruleset where present
  std::string persist_path;          ///< the sysctl.d file apply writes, recorded as it is ("": none)
  bool initial_netns = true;         ///< taken in the host's own network namespace (kernel::in_initial_netns)
};

struct backup_result {
  std::string path;                  ///< the new backup's folder
  size_t keys = 0;
  std::vector<std::string> files;    ///< in the manifest
  std::vector<std::string> removed;  ///< old backups removed by keep_days
};

/// The folder backups go to, opened once, checked (owned by root or by us, writable by nobody
/// else; created 0700 when missing) and locked (flock) for as long as this object lives, so two
/// runs of synscope never interleave their backups and changes.
class backup_store {
 public:
  /// Waits up to `wait_s` seconds for another synscope holding the lock.
  static core::result<backup_store> open(const std::string& dir, int wait_s = 30);
  /// Writes a timestamped backup folder: built under a unique .partial name (mkdtemp-style),
  /// fsynced, then renamed. Any file that cannot be written, any net.* key that cannot be read,
  /// and firewall rules that could not be loaded again fail it, loudly.
  core::result<backup_result> write(const kernel::sysctl_tree& tree, const backup_options& options);
  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  backup_store(std::string dir, core::unique_fd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  std::string dir_;
  core::unique_fd fd_;
};

/// backup_store::open(dir) and write(): a backup on its own.
core::result<backup_result> backup(const kernel::sysctl_tree& tree, const std::string& dir, const backup_options& options);

struct restore_options {
  bool firewall = false;       ///< restore the saved firewall rules too
  bool initial_netns = true;   ///< where restore runs (kernel::in_initial_netns)
};

struct change {
  std::string key;
  std::string was;
  std::string now;
};

struct restore_result {
  std::vector<change> changed;
  std::vector<std::string> skipped;  ///< keys this kernel or namespace does not have (an interface gone)
  std::vector<change> differs;       ///< keys that still differ when read back at the end: was = the backup's, now = the kernel's
  std::string persisted;             ///< what was done with the persisted file, or why nothing
  std::string firewall;              ///< how the firewall was restored ("" : not asked)
};

/// Opens the backup on its descriptors and refuses (exit 4) a folder or file that is not owned
/// by root (or us) or that others may write, a manifest that does not match, a file not in it,
/// or a key outside net.*. Then writes every value that differs in dependency order
/// (restore_before), puts back the persisted file as it was, the firewall when asked, and reads
/// every key back. Nothing is written into the backup folder.
core::result<restore_result> restore(const std::string& backup_path, const kernel::sysctl_tree& tree, const restore_options& options);

}  // namespace synscope::tune
