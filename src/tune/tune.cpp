#include "tune/tune.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/sha256.h"
#include "core/file.h"
#include "core/unique_fd.h"

namespace synscope::tune {
namespace fs = std::filesystem;
namespace {

constexpr const char* backup_prefix = "synscope-backup-";
constexpr const char* manifest_name = "MANIFEST.sha256";

// Runs argv with stdin from `in_path` and stdout to `out_path` (either may be empty: /dev/null
// and ours), stderr discarded; true when it exited 0.
bool run_program(const std::vector<std::string>& argv, const std::string& in_path, const std::string& out_path) {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int in = open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY | O_CLOEXEC);
    int out = out_path.empty() ? 1 : open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (in < 0 || out < 0 || devnull < 0) _exit(126);
    dup2(in, 0);
    if (out != 1) dup2(out, 1);
    dup2(devnull, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execvp's signature
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
bool run_to_file(const std::vector<std::string>& argv, const std::string& out_path) { return run_program(argv, "", out_path); }
bool run_from_file(const std::vector<std::string>& argv, const std::string& in_path) { return run_program(argv, in_path, ""); }

bool have_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    if (access((d + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

// A backup's file, or "" when it is missing (an older backup may lack the firewall file).
std::string read_or_empty(const std::string& path) {
  auto text = core::read_file(path);
  return text ? std::move(*text) : std::string();
}

// The backup's sysctl-net.conf: "key = value" lines (a value may be empty, or hold '#').
std::map<std::string, std::string> parse_saved_sysctls(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    out[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

}  // namespace

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

std::vector<audit_row> audit(const profile& p, const sysctl_tree& tree) {
  std::vector<audit_row> rows;
  for (const auto& s : p.settings) {
    audit_row r;
    r.key = s.key;
    r.reason = s.reason;
    const key_info* info = find_key(s.key);
    auto normal = validate(s.key, s.value);
    r.recommended = normal ? *normal : s.value;
    if (info != nullptr && info->obsolete != nullptr) {
      r.state = status::obsolete;
      r.reason = info->obsolete;
    } else if (!normal) {
      r.state = status::invalid;
      r.reason = normal.error().message;
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
    const key_info* info = find_key(s.key);
    if (info != nullptr && info->obsolete != nullptr) continue;
    auto v = validate(s.key, s.value);
    if (!v) continue;
    if (!s.reason.empty()) out += "# " + s.reason + "\n";
    out += s.key + " = " + *v + "\n";
  }
  return out;
}

core::result<backup_result> backup(const sysctl_tree& tree, const backup_options& options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return core::system_error(options.dir, "mkdir", ec.value());
  // A backup that was interrupted (killed, power lost) left a .partial folder: never used, as
  // only a renamed folder is a backup. Cleared here, so that they do not pile up.
  for (const auto& e : fs::directory_iterator(options.dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(backup_prefix, 0) == 0 && n.ends_with(".partial")) fs::remove_all(e.path(), ec);
  }
  ec.clear();
  backup_result r;
  std::string name = backup_prefix + utc_stamp();
  std::string final_path = options.dir + "/" + name;
  for (int n = 2; fs::exists(final_path); ++n) final_path = fmt::format("{}/{}-{}", options.dir, name, n);
  std::string work = final_path + ".partial";
  fs::remove_all(work, ec);
  fs::create_directory(work, ec);
  if (ec) return core::system_error(work, "mkdir", ec.value());
  auto fail = [&](core::error e) {
    fs::remove_all(work, ec);
    return e;
  };

  auto net = tree.all_net();
  if (!net) return fail(net.error());
  std::string text = fmt::format("# every net.* setting of {} at {}\n", tree.root(), utc_stamp());
  for (const auto& [k, v] : *net) text += k + " = " + v + "\n";
  if (auto w = core::write_file_atomically(work + "/sysctl-net.conf", text); !w) return fail(w.error());
  r.keys = net->size();
  r.files.push_back("sysctl-net.conf");

  if (options.firewall) {
    struct dump {
      const char* program;
      std::vector<std::string> argv;
      const char* file;
    };
    for (const auto& d : std::vector<dump>{{"iptables-save", {"iptables-save"}, "iptables-save.txt"},
                                           {"ip6tables-save", {"ip6tables-save"}, "ip6tables-save.txt"},
                                           {"nft", {"nft", "list", "ruleset"}, "nft-ruleset.txt"}}) {
      if (!have_program(d.program)) continue;
      if (!run_to_file(d.argv, work + "/" + d.file)) {
        return fail(core::error{core::exit_code::environment,
                                fmt::format("backup: '{}' failed: the firewall rules were not saved", d.argv[0])});
      }
      r.files.emplace_back(d.file);
    }
  }
  for (const auto& inc : options.include) {
    std::string copy_name = "include" + inc;
    std::replace(copy_name.begin(), copy_name.end(), '/', '_');
    fs::copy_file(inc, work + "/" + copy_name, fs::copy_options::overwrite_existing, ec);
    if (ec) return fail(core::system_error(fmt::format("backup --include {}", inc), "copy", ec.value()));
    r.files.push_back(copy_name);
  }
  struct utsname u {};
  uname(&u);
  std::string meta = fmt::format("created {}\nproc_root {}\nkernel {} {}\nincludes", utc_stamp(), tree.root(), u.sysname,
                                 u.release);
  for (const auto& inc : options.include) meta += " " + inc;
  meta += "\n";
  if (auto w = core::write_file_atomically(work + "/META", meta); !w) return fail(w.error());
  r.files.emplace_back("META");

  std::string manifest;
  for (const auto& f : r.files) {
    auto sum = core::sha256_file(work + "/" + f);
    if (!sum) return fail(sum.error());
    manifest += *sum + "  " + f + "\n";
  }
  if (auto w = core::write_file_atomically(work + "/" + manifest_name, manifest); !w) return fail(w.error());
  fs::rename(work, final_path, ec);
  if (ec) return fail(core::system_error(final_path, "rename", ec.value()));
  r.path = final_path;

  if (options.keep_days >= 0) {
    // The backup just made is the newest, and is never removed; older ones past the cutoff go.
    std::vector<fs::path> all;
    for (const auto& e : fs::directory_iterator(options.dir, ec)) {
      std::string n = e.path().filename().string();
      if (e.is_directory() && n.rfind(backup_prefix, 0) == 0 && n.find(".partial") == std::string::npos) all.push_back(e.path());
    }
    std::sort(all.begin(), all.end());
    auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24 * options.keep_days);
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i] == fs::path(final_path)) continue;
      if (fs::last_write_time(all[i], ec) < cutoff) {
        fs::remove_all(all[i], ec);
        if (!ec) r.removed.push_back(all[i].string());
      }
    }
  }
  return r;
}

core::result<restore_result> restore(const std::string& backup_path, const sysctl_tree& tree, bool firewall) {
  auto tampered = [&](const std::string& why) {
    return core::error{core::exit_code::bad_data, fmt::format("{}: refused: {}", backup_path, why)};
  };
  std::error_code is_dir_error;
  if (!fs::is_directory(backup_path, is_dir_error)) {
    return core::error{core::exit_code::usage, fmt::format("{}: no such backup folder", backup_path)};
  }
  std::string manifest_path = backup_path + "/" + manifest_name;
  if (!fs::exists(manifest_path)) return tampered("no " + std::string(manifest_name) + " (not a synscope backup?)");
  std::istringstream manifest(read_or_empty(manifest_path));
  std::set<std::string> listed;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.size() < 67 || line[64] != ' ' || line[65] != ' ') return tampered("a malformed manifest line");
    std::string sum = line.substr(0, 64);
    std::string file = line.substr(66);
    if (file.find('/') != std::string::npos || file == ".." || file.empty()) return tampered("a manifest path outside the backup");
    auto actual = core::sha256_file(backup_path + "/" + file);
    if (!actual) return tampered(file + " is missing");
    if (*actual != sum) return tampered(file + " does not match its checksum (changed after the backup)");
    listed.insert(file);
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(backup_path, ec)) {
    std::string n = e.path().filename().string();
    if (n != manifest_name && !listed.count(n)) return tampered(n + " is not in the manifest");
  }
  if (!listed.count("sysctl-net.conf")) return tampered("no sysctl-net.conf in the manifest");

  restore_result r;
  auto saved = parse_saved_sysctls(read_or_empty(backup_path + "/sysctl-net.conf"));
  if (saved.empty()) return tampered("sysctl-net.conf holds no settings");
  for (const auto& [key, value] : saved) {
    if (value.empty()) continue;  // unreadable when saved (stable_secret and the like)
    if (!tree.exists(key)) {
      r.skipped.push_back(key);
      continue;
    }
    auto cur = tree.read(key);
    if (cur && *cur == value) continue;
    if (auto w = tree.write(key, value); !w) {
      // Read-only in this namespace (or refused by this kernel): say so, do not stop.
      r.skipped.push_back(key);
      continue;
    }
    auto back = tree.read(key);
    if (!back || *back != value) {
      return core::error{core::exit_code::failed,
                         fmt::format("restore: {} reads back as '{}', not '{}'", key, back ? *back : "?", value)};
    }
    r.changed.push_back({key, {cur ? *cur : "", value}});
  }
  if (firewall) {
    if (listed.count("nft-ruleset.txt") && have_program("nft")) {
      std::string script = backup_path + "/.restore.nft";
      if (auto w = core::write_file_atomically(script, "flush ruleset\n" + read_or_empty(backup_path + "/nft-ruleset.txt")); !w) {
        return w.error();
      }
      bool ok = run_from_file({"nft", "-f", "-"}, script);
      unlink(script.c_str());
      if (!ok) return core::error{core::exit_code::failed, "restore: nft -f refused the saved ruleset"};
    } else {
      for (const auto& [file, program] :
           std::vector<std::pair<std::string, std::string>>{{"iptables-save.txt", "iptables-restore"},
                                                            {"ip6tables-save.txt", "ip6tables-restore"}}) {
        if (!listed.count(file) || !have_program(program)) continue;
        if (!run_from_file({program}, backup_path + "/" + file)) {
          return core::error{core::exit_code::failed, fmt::format("restore: {} refused {}", program, file)};
        }
      }
    }
    r.firewall = true;
  }
  return r;
}

core::result<apply_result> apply(const profile& p, const sysctl_tree& tree, const apply_options& options) {
  // 1. Everything is checked before anything changes.
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& s : p.settings) {
    const key_info* info = find_key(s.key);
    if (info != nullptr && info->obsolete != nullptr) continue;  // reported by audit, never written
    auto v = validate(s.key, s.value);
    if (!v) return v.error();
    if (!tree.exists(s.key)) {
      std::vector<std::string> known;
      if (auto all = tree.all_net()) {
        for (const auto& [k, _] : *all) known.push_back(k);
      }
      return core::error{core::exit_code::usage,
                         fmt::format("{}: no such setting here{}", s.key,
                                     known.empty() ? "" : " (did you mean " + nearest(s.key, known) + "?)")};
    }
    wanted.emplace_back(s.key, *v);
  }
  // 2. A backup before the first write.
  apply_result r;
  backup_options bo = options.backup;
  if (!options.persist_path.empty() && fs::exists(options.persist_path)) bo.include.push_back(options.persist_path);
  auto b = backup(tree, bo);
  if (!b) return b.error();
  r.backup_path = b->path;

  std::vector<std::pair<std::string, std::string>> written;  // key, old value
  std::string old_persisted;
  bool had_persisted = !options.persist_path.empty() && fs::exists(options.persist_path);
  if (had_persisted) old_persisted = read_or_empty(options.persist_path);
  bool persisted = false;
  auto rollback = [&](core::error e) -> core::error {
    std::string notes;
    for (auto it = written.rbegin(); it != written.rend(); ++it) {
      if (auto w = tree.write(it->first, it->second); !w) notes += "; could not put back " + it->first;
    }
    if (persisted) {
      if (had_persisted) {
        if (!core::write_file_atomically(options.persist_path, old_persisted)) notes += "; could not put back " + options.persist_path;
      } else {
        unlink(options.persist_path.c_str());
      }
    }
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
    r.changed.push_back({key, {*cur, value}});
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
