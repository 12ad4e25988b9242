#include "tune/tune.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/file.h"

namespace synscope::tune {
namespace fs = std::filesystem;

const char* status_name(status s) {
  switch (s) {
    case status::ok: return "ok";
    case status::differs: return "differs";
    case status::missing: return "missing";
    case status::obsolete: return "obsolete";
    case status::invalid: return "invalid";
  }
  return "invalid";
}

profile size_for(profile p, uint64_t connections) {
  uint64_t size = 1024;
  while (size < connections && size < (uint64_t{1} << 30)) size <<= 1;
  for (const char* key : {"net.ipv4.tcp_max_syn_backlog", "net.core.somaxconn"}) {
    std::string why = fmt::format("sized for {} connections arriving at once: the next power of two, {}", connections, size);
    auto it = std::find_if(p.settings.begin(), p.settings.end(), [&](const setting& s) { return s.key == key; });
    if (it == p.settings.end()) {
      p.settings.push_back({key, std::to_string(size), why, 0});
    } else if (std::strtoull(it->value.c_str(), nullptr, 10) < size) {
      it->value = std::to_string(size);
      it->reason = why;
    }
  }
  return p;
}

std::vector<audit_row> audit(const profile& p, const kernel::sysctl_tree& tree, bool initial_netns) {
  std::vector<audit_row> rows;
  for (const auto& s : p.settings) {
    audit_row r;
    r.key = s.key;
    r.reason = s.reason;
    const key_info* info = find_key(s.key);
    auto normal = validate(s.key, s.value);
    auto in_scope = check_scope(s.key, initial_netns);
    r.recommended = normal ? *normal : s.value;
    if (info != nullptr && info->obsolete != nullptr) {
      r.state = status::obsolete;
      r.reason = info->obsolete;
    } else if (!normal) {
      r.state = status::invalid;
      r.reason = normal.error().message;
    } else if (!in_scope) {
      r.state = status::invalid;
      r.reason = in_scope.error().message;
    } else if (!tree.exists(s.key)) {
      r.state = status::missing;
      r.reason = "this kernel (or namespace) has no such setting";
    } else {
      auto cur = tree.read(s.key);
      r.current = cur ? *cur : "";
      r.state = cur && *cur == r.recommended ? status::ok : status::differs;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string sysctl_d_text(const profile& p) {
  std::string out = fmt::format("# Written by synscope tune apply --profile {}. Each key's reason is above it.\n", p.name);
  for (const auto& s : p.settings) {
    auto v = validate(s.key, s.value);
    if (!v) continue;  // obsolete or invalid: never written
    if (!s.reason.empty()) out += "# " + s.reason + "\n";
    out += s.key + " = " + *v + "\n";
  }
  return out;
}

default_paths defaults_for(bool initial_netns, bool fake_proc_root) {
  if (!initial_netns) return {"", "/run/synscope/backups"};
  if (fake_proc_root) return {"", "/var/backups/synscope"};  // a copy of a tree: the host's boot files are not its
  return {"/etc/sysctl.d/99-synscope.conf", "/var/backups/synscope"};
}

core::result<apply_result> apply(const profile& p, const kernel::sysctl_tree& tree, const apply_options& options) {
  // 1. Everything is checked before anything changes.
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& s : p.settings) {
    const key_info* info = find_key(s.key);
    if (info != nullptr && info->obsolete != nullptr) continue;  // reported by audit, never written
    auto v = validate(s.key, s.value);
    if (!v) return v.error();
    if (auto in_scope = check_scope(s.key, options.initial_netns); !in_scope) return in_scope.error();
    if (!tree.exists(s.key)) {
      return core::error{core::exit_code::usage,
                         fmt::format("{}: no such setting on this kernel (or in this namespace)", s.key)};
    }
    wanted.emplace_back(s.key, *v);
  }
  persisted_file before;
  if (!options.persist_path.empty()) {
    auto now = look_at_persisted(options.persist_path);
    if (!now) return now.error();
    if (now->state == persisted_file::kind::symlink) {
      // Debian's /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf: replacing the link would drop the
      // operator's sysctl.conf from the boot path, writing through it would overwrite that file.
      return core::error{core::exit_code::usage,
                         fmt::format("--persist-path {}: a symbolic link (to {}); synscope writes a file of its own "
                                     "and neither replaces a link nor writes through it: name another file",
                                     options.persist_path, now->bytes)};
    }
    std::string dir = fs::path(options.persist_path).parent_path().string();
    struct stat st {};
    if (stat(dir.empty() ? "." : dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return core::error{core::exit_code::usage, fmt::format("--persist-path {}: no folder {}", options.persist_path, dir)};
    }
    before = std::move(*now);
  }
  // 2. A backup before the first write, in a folder locked until the end: a second apply or
  // backup waits for this one.
  auto store = backup_store::open(options.backup_dir);
  if (!store) return store.error();
  apply_result r;
  backup_options bo = options.backup;
  bo.persist_path = options.persist_path;
  bo.initial_netns = options.initial_netns;
  auto b = store->write(tree, bo);
  if (!b) return b.error();
  r.backup_path = b->path;

  std::vector<std::pair<std::string, std::string>> written;  // key, old value
  bool persisted = false;
  auto rollback = [&](core::error e) -> core::error {
    std::string notes;
    for (auto it = written.rbegin(); it != written.rend(); ++it) {
      if (auto w = tree.write(it->first, it->second); !w) notes += "; could not put back " + it->first;
    }
    if (persisted && !put_back(before)) notes += "; could not put back " + options.persist_path;
    e.message += fmt::format(" (every value put back{}; backup: {})", notes, r.backup_path);
    return e;
  };
  // 3. Live.
  for (const auto& [key, value] : wanted) {
    auto cur = tree.read(key);
    if (!cur) return rollback(cur.error());
    if (*cur == value) continue;
    if (auto w = tree.write(key, value); !w) return rollback(w.error());
    written.emplace_back(key, *cur);
    r.changed.push_back({key, *cur, value});
  }
  // 4. Persisted, atomically.
  if (!options.persist_path.empty()) {
    if (auto w = core::write_file_atomically(options.persist_path, sysctl_d_text(p)); !w) return rollback(w.error());
    persisted = true;
    r.persisted = options.persist_path;
  }
  // 5. Read back.
  for (const auto& [key, value] : wanted) {
    auto back = tree.read(key);
    if (!back || *back != value) {
      return rollback(core::error{core::exit_code::failed,
                                  fmt::format("{} reads back as '{}', not '{}'", key, back ? *back : "?", value)});
    }
  }
  return r;
}

}  // namespace synscope::tune
