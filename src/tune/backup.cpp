#include "tune/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/sha256.h"
#include "tune/firewall.h"

namespace synscope::tune {
namespace fs = std::filesystem;
namespace {

constexpr const char* backup_prefix = "synscope-backup-";
constexpr const char* manifest_name = "MANIFEST.sha256";
constexpr const char* settings_name = "sysctl-net.conf";
constexpr const char* persisted_name = "persisted-file";
constexpr mode_t file_mode = 0600;

std::string utc_stamp() { return core::format_time(core::realtime_ns(), "%Y%m%dT%H%M%SZ", core::time_zone::utc); }

// Six random letters and digits, as mkdtemp makes them (mkdtemp itself takes a path, not a
// folder's descriptor).
std::string random_suffix() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[6];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    auto t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ static_cast<uint64_t>(getpid());
    for (auto& b : bytes) {
      b = static_cast<unsigned char>(t);
      t >>= 8;
    }
  }
  std::string out;
  for (unsigned char b : bytes) out += alphabet[b % (sizeof alphabet - 1)];
  return out;
}

std::vector<std::string> folder_entries(int dirfd) {
  std::vector<std::string> out;
  DIR* d = fdopendir(dup(dirfd));
  if (d == nullptr) return out;
  rewinddir(d);  // the duplicate shares its offset with dirfd: an earlier listing left it at the end
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool flock_within(int fd, int wait_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// META: "key value" lines.
std::map<std::string, std::string> parse_meta(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t sp = line.find(' ');
    if (sp == std::string::npos) {
      out[line] = "";
    } else {
      out[line.substr(0, sp)] = line.substr(sp + 1);
    }
  }
  return out;
}

// A key a backup may name: net.*, each component non-empty and, as a path component, not "." or
// "..", with no byte that has no place in a sysctl name.
bool restorable_key(const std::string& key) {
  if (key.rfind("net.", 0) != 0) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('.', start);
    if (end == std::string::npos) end = key.size();
    std::string_view part(key.data() + start, end - start);
    if (part.empty() || part == "/" || part == "//") return false;
    for (char c : part) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
    }
    start = end + 1;
  }
  return true;
}

const char* kind_name(persisted_file::kind k) {
  switch (k) {
    case persisted_file::kind::not_recorded: return "none";
    case persisted_file::kind::absent: return "absent";
    case persisted_file::kind::file: return "file";
    case persisted_file::kind::symlink: return "symlink";
  }
  return "none";
}

}  // namespace

core::result<persisted_file> look_at_persisted(const std::string& path) {
  persisted_file p;
  p.path = path;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return core::system_error(path, "lstat", errno);
    p.state = persisted_file::kind::absent;
    return p;
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(PATH_MAX, '\0');
    ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return core::system_error(path, "readlink", errno);
    target.resize(static_cast<size_t>(n));
    p.state = persisted_file::kind::symlink;
    p.bytes = std::move(target);
    return p;
  }
  if (!S_ISREG(st.st_mode)) {
    return core::error{core::exit_code::usage, fmt::format("{}: not a regular file (a folder or a device)", path)};
  }
  std::string dir = fs::path(path).parent_path().string();
  core::unique_fd dfd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return core::system_error(dir, "open", errno);
  struct stat opened {};
  auto text = core::read_file_at(dfd.get(), fs::path(path).filename().string(), path, &opened);
  if (!text) return text.error();
  p.state = persisted_file::kind::file;
  p.bytes = std::move(*text);
  p.mode = opened.st_mode & 07777;
  return p;
}

core::result<void> put_back(const persisted_file& was) {
  switch (was.state) {
    case persisted_file::kind::not_recorded:
      return {};
    case persisted_file::kind::absent: {
      struct stat st {};
      if (lstat(was.path.c_str(), &st) != 0) return {};  // absent now too
      if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        return core::error{core::exit_code::environment,
                           fmt::format("{}: not removed: it is no longer a file (a folder or a device)", was.path)};
      }
      if (unlink(was.path.c_str()) != 0) return core::system_error(was.path, "unlink", errno);
      return {};
    }
    case persisted_file::kind::file:
      return core::write_file_atomically(was.path, was.bytes, was.mode);
    case persisted_file::kind::symlink: {
      std::string tmp = was.path + ".tmp-" + random_suffix();
      if (symlink(was.bytes.c_str(), tmp.c_str()) != 0) return core::system_error(was.path, "symlink", errno);
      if (rename(tmp.c_str(), was.path.c_str()) != 0) {
        int err = errno;
        unlink(tmp.c_str());
        return core::system_error(was.path, "rename", err);
      }
      return {};
    }
  }
  return {};
}

core::result<backup_store> backup_store::open(const std::string& dir, int wait_s) {
  if (dir.empty()) return core::error{core::exit_code::usage, "--dir: empty"};
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return core::system_error(dir, "stat", errno);
    std::error_code ec;
    fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec) return core::system_error(parent.string(), "mkdir", ec.value());
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return core::system_error(dir, "mkdir", errno);
  }
  core::unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return core::system_error(dir, "open", errno);
  if (fstat(fd.get(), &st) != 0) return core::system_error(dir, "fstat", errno);
  if (auto safe = core::check_owned_safely(st, "backup folder " + dir); !safe) {
    // Someone else could rename or replace what is written there before a restore reads it.
    auto e = safe.error();
    e.code = core::exit_code::usage;
    e.message += ": backups go to a folder only root can change (the default /var/backups/synscope)";
    return e;
  }
  if (!flock_within(fd.get(), wait_s)) {
    return core::error{core::exit_code::environment,
                       fmt::format("{}: another synscope tune is using this backup folder (its lock was held for {} s)",
                                   dir, wait_s)};
  }
  return backup_store(dir, std::move(fd));
}

core::result<backup_result> backup_store::write(const kernel::sysctl_tree& tree, const backup_options& options) {
  // A backup that was interrupted (killed, power lost) left a .partial folder: never used, as
  // only a renamed folder is a backup. Cleared here, under the lock, so none is another run's.
  for (const auto& n : folder_entries(fd_.get())) {
    if (n.rfind(backup_prefix, 0) == 0 && n.find(".partial") != std::string::npos) (void)core::remove_tree_at(fd_.get(), n);
  }
  std::string stamp = utc_stamp();
  std::string name = backup_prefix + stamp;
  std::string work;
  for (int tries = 0; tries < 100; ++tries) {
    std::string candidate = name + ".partial-" + random_suffix();
    if (mkdirat(fd_.get(), candidate.c_str(), 0700) == 0) {
      work = candidate;
      break;
    }
    if (errno != EEXIST) return core::system_error(dir_ + "/" + candidate, "mkdir", errno);
  }
  if (work.empty()) return core::system_error(dir_ + "/" + name + ".partial-*", "mkdir", EEXIST);
  auto fail = [&](core::error e) {
    (void)core::remove_tree_at(fd_.get(), work);
    return e;
  };
  core::unique_fd wfd(openat(fd_.get(), work.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!wfd) return fail(core::system_error(dir_ + "/" + work, "open", errno));
  if (fchmod(wfd.get(), 0700) != 0) return fail(core::system_error(dir_ + "/" + work, "fchmod", errno));

  backup_result r;
  std::vector<std::pair<std::string, std::string>> files;  // name, contents: summed from memory
  auto keep = [&](const std::string& file, std::string text) -> core::result<void> {
    if (auto w = core::write_new_file_at(wfd.get(), file, text, file_mode, dir_ + "/" + work + "/" + file); !w) return w;
    files.emplace_back(file, std::move(text));
    return {};
  };

  auto net = tree.all_net();
  if (!net) return fail(net.error());
  std::string text = fmt::format("# every net.* setting of {} at {}\n", tree.root(), stamp);
  for (const auto& [k, v] : *net) text += k + " = " + v + "\n";
  if (auto w = keep(settings_name, std::move(text)); !w) return fail(w.error());
  r.keys = net->size();

  std::string meta = fmt::format("created {}\nproc_root {}\n", stamp, tree.root());
  struct utsname u {};
  uname(&u);
  meta += fmt::format("kernel {} {}\nnetns {}\n", u.sysname, u.release, options.initial_netns ? "initial" : "other");

  if (options.firewall) {
    auto fw = firewall_save();
    if (!fw) return fail(fw.error());
    for (const auto& [have, file, dump] : {std::tuple{fw->have_iptables, "iptables-save.txt", &fw->iptables},
                                           std::tuple{fw->have_ip6tables, "ip6tables-save.txt", &fw->ip6tables},
                                           std::tuple{fw->have_nft, "nft-ruleset.txt", &fw->nft}}) {
      if (!have) continue;
      if (auto w = keep(file, *dump); !w) return fail(w.error());
    }
    if (!fw->iptables_backend.empty()) meta += "iptables_backend " + fw->iptables_backend + "\n";
  }

  if (!options.persist_path.empty()) {
    if (options.persist_path.find('\n') != std::string::npos) {
      return fail(core::error{core::exit_code::usage, "--persist-path: a path with a line break"});
    }
    auto was = look_at_persisted(options.persist_path);
    if (!was) return fail(was.error());
    meta += fmt::format("persist_path {}\npersist {}\n", options.persist_path, kind_name(was->state));
    if (was->state == persisted_file::kind::file) meta += fmt::format("persist_mode {:04o}\n", was->mode);
    if (was->state == persisted_file::kind::file || was->state == persisted_file::kind::symlink) {
      if (auto w = keep(persisted_name, was->bytes); !w) return fail(w.error());
    }
  }

  for (const auto& inc : options.include) {
    std::string copy_name = "include" + inc;
    std::replace(copy_name.begin(), copy_name.end(), '/', '_');
    auto bytes = core::read_file(inc);
    if (!bytes) return fail(core::error{bytes.error().code, "backup --include: " + bytes.error().message});
    if (auto w = keep(copy_name, std::move(*bytes)); !w) return fail(w.error());
  }
  meta += "includes";
  for (const auto& inc : options.include) meta += " " + inc;
  meta += "\n";
  if (auto w = keep("META", meta); !w) return fail(w.error());

  std::string manifest;
  for (const auto& [file, bytes] : files) {
    core::sha256 h;
    h.update(bytes);
    manifest += h.hex() + "  " + file + "\n";
    r.files.push_back(file);
  }
  if (auto w = core::write_new_file_at(wfd.get(), manifest_name, manifest, file_mode, dir_ + "/" + work + "/" + manifest_name);
      !w) {
    return fail(w.error());
  }
  if (fsync(wfd.get()) != 0) return fail(core::system_error(dir_ + "/" + work, "fsync", errno));

  // The name, taken without replacing anything (two backups in one second get -2, -3, ...).
  std::string final_name = name;
  for (int n = 2;; ++n) {
    if (renameat2(fd_.get(), work.c_str(), fd_.get(), final_name.c_str(), RENAME_NOREPLACE) == 0) break;
    if (errno != EEXIST || n > 1000) return fail(core::system_error(dir_ + "/" + final_name, "rename", errno));
    final_name = fmt::format("{}-{}", name, n);
  }
  fsync(fd_.get());
  r.path = dir_ + "/" + final_name;

  if (options.keep_days >= 0) {
    // The backup just made is the newest, and is never removed; older ones past the cutoff go.
    auto cutoff = std::chrono::system_clock::now() - std::chrono::hours(24 * options.keep_days);
    auto cutoff_s = std::chrono::duration_cast<std::chrono::seconds>(cutoff.time_since_epoch()).count();
    for (const auto& n : folder_entries(fd_.get())) {
      if (n == final_name || n.rfind(backup_prefix, 0) != 0 || n.find(".partial") != std::string::npos) continue;
      struct stat st {};
      if (fstatat(fd_.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (st.st_mtim.tv_sec < cutoff_s && core::remove_tree_at(fd_.get(), n)) r.removed.push_back(dir_ + "/" + n);
    }
  }
  return r;
}

core::result<backup_result> backup(const kernel::sysctl_tree& tree, const std::string& dir, const backup_options& options) {
  auto store = backup_store::open(dir);
  if (!store) return store.error();
  return store->write(tree, options);
}

core::result<restore_result> restore(const std::string& backup_path, const kernel::sysctl_tree& tree, const restore_options& options) {
  auto refused = [&](const std::string& why) {
    return core::error{core::exit_code::bad_data, fmt::format("{}: refused: {}", backup_path, why)};
  };
  std::string trimmed = backup_path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  fs::path as_path(trimmed);
  std::string parent = as_path.parent_path().empty() ? "." : as_path.parent_path().string();
  std::string name = as_path.filename().string();
  core::unique_fd parent_fd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd || name.empty() || name == "." || name == "..") {
    return core::error{core::exit_code::usage, fmt::format("{}: no such backup folder", backup_path)};
  }
  // 1. The folder, opened once without following a link; everything below is read through it.
  core::unique_fd dir(openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    int err = errno;
    struct stat lst {};
    if ((err == ELOOP || err == ENOTDIR) && fstatat(parent_fd.get(), name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(lst.st_mode)) {
      return refused("a symbolic link, not the backup folder itself");
    }
    if (err == ENOENT || err == ENOTDIR) return core::error{core::exit_code::usage, fmt::format("{}: no such backup folder", backup_path)};
    return core::system_error(backup_path, "open", err);
  }
  struct stat st {};
  if (fstat(dir.get(), &st) != 0) return core::system_error(backup_path, "fstat", errno);
  if (auto safe = core::check_owned_safely(st, backup_path); !safe) return safe.error();
  // Serialised with backups and applies into the same folder.
  if (!flock_within(parent_fd.get(), 30)) {
    return core::error{core::exit_code::environment, fmt::format("{}: another synscope tune is using {}", backup_path, parent)};
  }

  // 2. Every file: root's, not writable by others, listed, and matching its checksum, all read
  // into memory once; what is checked is what is used.
  auto read_checked = [&](const std::string& file) -> core::result<std::string> {
    struct stat fst {};
    auto text = core::read_file_at(dir.get(), file, backup_path + "/" + file, &fst);
    if (!text) {
      if (text.error().message.find("(ENOENT)") != std::string::npos) return refused(file + " is missing");
      if (text.error().message.find("(ELOOP)") != std::string::npos) return refused(file + " is a symbolic link");
      if (text.error().message.find("(EINVAL)") != std::string::npos) return refused(file + " is not a regular file");
      return text.error();
    }
    if (auto safe = core::check_owned_safely(fst, backup_path + "/" + file); !safe) return safe.error();
    return text;
  };
  auto manifest = read_checked(manifest_name);
  if (!manifest) {
    if (manifest.error().message.find(std::string(manifest_name) + " is missing") != std::string::npos) {
      return refused(std::string("no ") + manifest_name + " (not a synscope backup?)");
    }
    return manifest.error();
  }
  std::map<std::string, std::string> files;
  std::istringstream lines(*manifest);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 67 || line[64] != ' ' || line[65] != ' ') return refused("a malformed manifest line");
    std::string sum = line.substr(0, 64);
    std::string file = line.substr(66);
    if (file.find('/') != std::string::npos || file == "." || file == ".." || file.empty() || file == manifest_name) {
      return refused("a manifest path outside the backup");
    }
    auto bytes = read_checked(file);
    if (!bytes) return bytes.error();
    core::sha256 h;
    h.update(*bytes);
    if (h.hex() != sum) return refused(file + " does not match its checksum (changed after the backup)");
    files[file] = std::move(*bytes);
  }
  for (const auto& n : folder_entries(dir.get())) {
    if (n != manifest_name && files.count(n) == 0) return refused(n + " is not in the manifest");
  }
  if (files.count(settings_name) == 0) return refused(std::string("no ") + settings_name + " in the manifest");
  auto meta = files.count("META") != 0 ? parse_meta(files["META"]) : std::map<std::string, std::string>{};

  // 3. The settings: net.* only, each key a plain sysctl name.
  std::vector<std::pair<std::string, std::string>> saved;
  {
    std::istringstream in(files[settings_name]);
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      size_t eq = line.find(" = ");
      if (eq == std::string::npos) return refused(std::string(settings_name) + ": a line that is not 'key = value'");
      std::string key = line.substr(0, eq);
      if (!restorable_key(key)) {
        return refused(fmt::format("{} names {}: restore writes net.* settings only", settings_name, core::printable(key)));
      }
      saved.emplace_back(key, line.substr(eq + 3));
    }
  }
  if (saved.empty()) return refused(std::string(settings_name) + " holds no settings");
  std::sort(saved.begin(), saved.end(), [](const auto& a, const auto& b) { return restore_before(a.first, b.first); });

  // 4. Written back in dependency order, each compared just before its write (an earlier one,
  // ip_forward or conf.all.*, may have changed it).
  restore_result r;
  std::vector<std::pair<std::string, std::string>> present;
  for (const auto& [key, value] : saved) {
    if (value.empty()) continue;  // unreadable when saved
    if (!tree.exists(key) || !check_scope(key, options.initial_netns)) {
      r.skipped.push_back(key);
      continue;
    }
    present.emplace_back(key, value);
    auto cur = tree.read(key);
    if (cur && *cur == value) continue;
    if (auto w = tree.write(key, value); !w) continue;  // refused here: the read-back names it
    r.changed.push_back({key, cur ? *cur : "", value});
  }

  // 5. The persisted file, as it was before the change this backup preceded.
  auto recorded = meta.find("persist");
  if (recorded == meta.end() || recorded->second == "none") {
    r.persisted = "this backup records no persisted file";
  } else if ((meta["netns"] == "initial") != options.initial_netns) {
    r.persisted = fmt::format("{} left as it is: the backup was taken in {} network namespace", meta["persist_path"],
                              meta["netns"] == "initial" ? "the host's" : "another");
  } else {
    persisted_file was;
    was.path = meta["persist_path"];
    if (was.path.empty() || was.path[0] != '/') return refused("META: a persist_path that is not absolute");
    if (recorded->second == "absent") {
      was.state = persisted_file::kind::absent;
    } else if (recorded->second == "file" || recorded->second == "symlink") {
      if (files.count(persisted_name) == 0) return refused(std::string("no ") + persisted_name + " for the persisted file");
      was.state = recorded->second == "file" ? persisted_file::kind::file : persisted_file::kind::symlink;
      was.bytes = files[persisted_name];
      was.mode = static_cast<mode_t>(std::strtoul(meta["persist_mode"].c_str(), nullptr, 8) & 0777);
      if (was.mode == 0) was.mode = 0644;
    } else {
      return refused("META: an unknown persist state");
    }
    auto now = look_at_persisted(was.path);
    bool same = now && now->state == was.state && now->bytes == was.bytes &&
                (was.state != persisted_file::kind::file || now->mode == was.mode);
    if (!same) {
      if (auto w = put_back(was); !w) return w.error();
    }
    r.persisted = fmt::format("{} {}", was.path,
                              same                                          ? "already as it was"
                              : was.state == persisted_file::kind::absent  ? "removed (it was not there before)"
                              : was.state == persisted_file::kind::symlink ? "put back (a link to " + was.bytes + ")"
                                                                           : "put back as it was");
  }

  // 6. The firewall.
  if (options.firewall) {
    firewall_dump d;
    d.have_iptables = files.count("iptables-save.txt") != 0;
    d.have_ip6tables = files.count("ip6tables-save.txt") != 0;
    d.have_nft = files.count("nft-ruleset.txt") != 0;
    if (!d.have_iptables && !d.have_ip6tables && !d.have_nft) return refused("--firewall: this backup holds no firewall rules");
    d.iptables = files["iptables-save.txt"];
    d.ip6tables = files["ip6tables-save.txt"];
    d.nft = files["nft-ruleset.txt"];
    d.iptables_backend = meta.count("iptables_backend") != 0 ? meta["iptables_backend"]
                         : d.iptables.find("(nf_tables)") != std::string::npos ? "nf_tables"
                         : d.have_iptables ? "legacy"
                                           : "";
    auto how = firewall_restore(d);
    if (!how) return how.error();
    r.firewall = *how;
  }

  // 7. Every key read back: a later write can undo an earlier one, and the kernel may refuse.
  for (const auto& [key, value] : present) {
    auto back = tree.read(key);
    if (!back || *back != value) r.differs.push_back({key, value, back ? *back : "(unreadable)"});
  }
  return r;
}

}  // namespace synscope::tune
