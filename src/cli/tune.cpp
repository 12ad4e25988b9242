// synscope tune: audit, plan, apply, back up and restore the handshake's kernel settings.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/json.h"
#include "core/table.h"
#include "kernel/netns.h"
#include "tune/firewall.h"
#include "tune/tune.h"

namespace synscope::cli {
namespace {

struct tune_args {
  std::string profile = "baseline";
  std::string netns;
  std::string proc_root = "/proc";
  uint64_t expected_connections = 0;
  std::string persist_path = "/etc/sysctl.d/99-synscope.conf";
  std::string dir = "/var/backups/synscope";
  std::vector<std::string> include;
  int keep_days = -1;
  std::string backup_path;
  bool firewall = false;
  bool json = false;
  std::string syn_rate = "10/s";
  uint32_t burst = 20;
  uint16_t port = 0;
  std::string format = "nft";
  bool fw_apply = false;
  bool fw_remove = false;
};

core::result<tune::profile> chosen_profile(const tune_args& args) {
  auto p = tune::load_profile(args.profile);
  if (!p) return p.error();
  if (args.expected_connections > 0) return tune::size_for(std::move(*p), args.expected_connections);
  return p;
}

int enter(const tune_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  return 0;
}

std::string change_list_json(const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& changed) {
  std::string out = "[";
  for (const auto& [k, v] : changed) {
    if (out.size() > 1) out += ",";
    out += core::json_object().field("key", k).field("was", v.first).field("now", v.second).str();
  }
  return out + "]";
}

int run_audit(const tune_args& args, bool plan) {
  if (int rc = enter(args); rc != 0) return rc;
  auto p = chosen_profile(args);
  if (!p) return fail(p.error());
  tune::sysctl_tree tree(args.proc_root);
  auto rows = tune::audit(*p, tree);
  bool differs = false;
  bool bad = false;
  for (const auto& r : rows) {
    differs = differs || r.state == tune::status::differs;
    bad = bad || r.state == tune::status::invalid || r.state == tune::status::missing;
  }
  if (args.json) {
    for (const auto& r : rows) {
      fmt::print("{}\n", core::json_object()
                             .field("key", r.key)
                             .field("current", r.current)
                             .field("recommended", r.recommended)
                             .field("status", tune::status_name(r.state))
                             .field("reason", r.reason)
                             .str());
    }
    if (plan) fmt::print("{}\n", core::json_object().field("type", "file").field("path", args.persist_path).field("text", tune::sysctl_d_text(*p)).str());
  } else if (!plan) {
    core::table t({{"key"}, {"current"}, {"recommended"}, {"status"}, {"reason"}});
    for (const auto& r : rows) t.add_row({r.key, r.current, r.recommended, tune::status_name(r.state), r.reason});
    fmt::print("profile {} against {}:\n{}", p->name, args.proc_root, t.render());
  } else {
    fmt::print("synscope tune apply --profile {} would change:\n", args.profile);
    size_t n = 0;
    for (const auto& r : rows) {
      if (r.state == tune::status::differs) {
        fmt::print("  {}: {} -> {}\n", r.key, r.current, r.recommended);
        ++n;
      } else if (r.state != tune::status::ok) {
        fmt::print("  {}: not written ({}: {})\n", r.key, tune::status_name(r.state), r.reason);
      }
    }
    if (n == 0) fmt::print("  nothing: every value is already the profile's\n");
    fmt::print("\nand write {}:\n{}", args.persist_path.empty() ? "(nothing: --persist-path '')" : args.persist_path,
               tune::sysctl_d_text(*p));
  }
  // audit: 0 all as recommended, 1 some differ, 2 invalid or missing keys.
  if (plan) return bad ? static_cast<int>(core::exit_code::usage) : 0;
  return bad ? static_cast<int>(core::exit_code::usage) : differs ? static_cast<int>(core::exit_code::failed) : 0;
}

int run_apply(const tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  auto p = chosen_profile(args);
  if (!p) return fail(p.error());
  if (geteuid() != 0 && args.proc_root == "/proc") {
    return fail(core::error{core::exit_code::no_permission, "tune apply: needs root (writes /proc/sys and /etc/sysctl.d)"});
  }
  tune::sysctl_tree tree(args.proc_root);
  tune::apply_options o;
  o.persist_path = args.persist_path;
  o.backup.dir = args.dir;
  o.backup.include = args.include;
  o.backup.keep_days = args.keep_days;
  auto r = tune::apply(*p, tree, o);
  if (!r) return fail(r.error());
  if (args.json) {
    fmt::print("{}\n", core::json_object()
                           .field("backup", r->backup_path)
                           .field("persisted", r->persisted)
                           .raw_field("changed", change_list_json(r->changed))
                           .str());
    return 0;
  }
  fmt::print("backup: {}\n", r->backup_path);
  for (const auto& [k, v] : r->changed) fmt::print("  {}: {} -> {}\n", k, v.first, v.second);
  if (r->changed.empty()) fmt::print("  nothing to change: every value is already the profile's\n");
  if (!r->persisted.empty()) fmt::print("persisted: {}\n", r->persisted);
  fmt::print("undo: synscope tune restore {}\n", r->backup_path);
  return 0;
}

int run_backup(const tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  tune::sysctl_tree tree(args.proc_root);
  tune::backup_options o;
  o.dir = args.dir;
  o.include = args.include;
  o.keep_days = args.keep_days;
  auto r = tune::backup(tree, o);
  if (!r) return fail(r.error());
  if (args.json) {
    fmt::print("{}\n", core::json_object()
                           .field("path", r->path)
                           .field("keys", static_cast<uint64_t>(r->keys))
                           .field("files", r->files)
                           .field("removed", r->removed)
                           .str());
    return 0;
  }
  fmt::print("backup: {} ({} net.* settings; {})\n", r->path, r->keys, fmt::join(r->files, ", "));
  for (const auto& old : r->removed) fmt::print("removed (older than {} days): {}\n", args.keep_days, old);
  return 0;
}

int run_restore(const tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  if (geteuid() != 0 && args.proc_root == "/proc") {
    return fail(core::error{core::exit_code::no_permission, "tune restore: needs root (writes /proc/sys)"});
  }
  tune::sysctl_tree tree(args.proc_root);
  auto r = tune::restore(args.backup_path, tree, args.firewall);
  if (!r) return fail(r.error());
  if (args.json) {
    fmt::print("{}\n", core::json_object()
                           .raw_field("changed", change_list_json(r->changed))
                           .field("skipped", r->skipped)
                           .field("firewall", r->firewall)
                           .str());
    return 0;
  }
  fmt::print("checksums verified; restored {} setting{}\n", r->changed.size(), r->changed.size() == 1 ? "" : "s");
  for (const auto& [k, v] : r->changed) fmt::print("  {}: {} -> {}\n", k, v.first, v.second);
  if (!r->skipped.empty()) {
    fmt::print("not restored ({} keys this kernel or namespace does not have or take): {}\n", r->skipped.size(),
               fmt::join(r->skipped.size() > 8 ? std::vector<std::string>(r->skipped.begin(), r->skipped.begin() + 8)
                                               : r->skipped,
                         ", "));
  }
  if (r->firewall) fmt::print("firewall rules restored\n");
  return 0;
}

int run_firewall(const tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  auto rate = tune::parse_rate(args.syn_rate);
  if (!rate) return fail(rate.error());
  tune::firewall_format f;
  if (args.format == "nft") f = tune::firewall_format::nft;
  else if (args.format == "iptables") f = tune::firewall_format::iptables;
  else return fail(core::error{core::exit_code::usage, fmt::format("--format '{}': iptables or nft", core::printable(args.format))});
  if (args.burst == 0) return fail(core::error{core::exit_code::usage, "--burst: at least 1"});
  tune::syn_limit l{*rate, args.burst, args.port};
  if (!args.fw_apply && !args.fw_remove) {
    fmt::print("{}\n# to remove:\n{}", tune::firewall_rules(l, f), tune::firewall_removal(l, f));
    return 0;
  }
  if (geteuid() != 0) return fail(core::error{core::exit_code::no_permission, "tune firewall: --apply and --remove need root"});
  auto r = args.fw_apply ? tune::firewall_apply(l, f) : tune::firewall_remove(l, f);
  if (!r) return fail(r.error());
  fmt::print("{} ({}): at most {}/s new SYNs{}, burst {}\n", args.fw_apply ? "applied" : "removed", args.format, l.per_second,
             l.port == 0 ? "" : fmt::format(" to port {}", l.port), l.burst);
  if (args.fw_apply && l.port == 0) {
    fmt::print(stderr, "synscope: warning: a global SYN limit drops legitimate clients too once a flood exceeds it\n");
  }
  return 0;
}

}  // namespace

command_runner add_tune_command(CLI::App& app) {
  auto args = std::make_shared<tune_args>();
  CLI::App* cmd = app.add_subcommand("tune", "Audit, plan, apply, back up and restore the kernel settings of the handshake");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--netns", args->netns, "Work on this network namespace's settings (ip netns add NAME)");
    sub->add_option("--proc-root", args->proc_root, "Read and write ROOT/sys/... instead of /proc/sys")->capture_default_str();
    sub->add_flag("--json", args->json, "JSON output");
  };
  auto profile_opts = [&](CLI::App* sub) {
    sub->add_option("--profile", args->profile,
                    "baseline, synflood, high-rate-client, low-latency, or a sysctl.d file of your own")
        ->capture_default_str();
    sub->add_option("--expected-connections", args->expected_connections,
                    "Size tcp_max_syn_backlog and somaxconn for this many connections arriving at once");
    sub->add_option("--persist-path", args->persist_path, "The sysctl.d file apply writes ('' : live only)")->capture_default_str();
  };
  auto backup_opts = [&](CLI::App* sub) {
    sub->add_option("--dir", args->dir, "Where backups go")->capture_default_str();
    sub->add_option("--include", args->include, "Keep this file in the backup too; repeatable");
    sub->add_option("--keep-days", args->keep_days, "Remove backups older than this (never the newest)");
  };
  CLI::App* audit = cmd->add_subcommand("audit", "Current versus recommended, per key (exit 0 all match, 1 some differ, 2 bad keys)");
  common(audit);
  profile_opts(audit);
  CLI::App* plan = cmd->add_subcommand("plan", "The changes apply would make and the exact file it would write");
  common(plan);
  profile_opts(plan);
  CLI::App* apply = cmd->add_subcommand("apply", "Back up, apply live, persist atomically, read back; roll back on any failure (root)");
  common(apply);
  profile_opts(apply);
  backup_opts(apply);
  CLI::App* backup = cmd->add_subcommand("backup", "Every net.* setting, iptables/ip6tables/nft rules and --include files, with sha256 sums");
  common(backup);
  backup_opts(backup);
  CLI::App* restore = cmd->add_subcommand("restore", "Verify a backup's checksums, then restore its settings (and --firewall rules)");
  common(restore);
  restore->add_option("backup", args->backup_path, "A backup folder (synscope tune backup prints it)")->required();
  restore->add_flag("--firewall", args->firewall, "Restore the saved firewall rules too");
  CLI::App* firewall = cmd->add_subcommand("firewall", "The seed's SYN rate limit as rules in a chain of their own: print, --apply, --remove");
  firewall->add_option("--netns", args->netns, "Work in this network namespace (ip netns add NAME)");
  firewall->add_option("--syn-rate", args->syn_rate, "New SYNs allowed, 10/s or 600/m")->capture_default_str();
  firewall->add_option("--burst", args->burst, "Allowed above the rate at once")->capture_default_str();
  firewall->add_option("--port", args->port, "Only SYNs to this port (default: all, as the seed did)");
  firewall->add_option("--format", args->format, "nft (table inet synscope) or iptables (chain SYNSCOPE-SYN-LIMIT)")
      ->capture_default_str();
  auto* fa = firewall->add_flag("--apply", args->fw_apply, "Load the rules (root)");
  firewall->add_flag("--remove", args->fw_remove, "Remove them again (root)")->excludes(fa);
  cmd->footer(
      "Examples:\n"
      "  synscope tune audit --profile synflood             # what differs, and why each value\n"
      "  synscope tune plan --profile baseline --expected-connections 20000\n"
      "  sudo synscope tune apply --profile high-rate-client  # backup, apply, persist, read back\n"
      "  sudo synscope tune backup --dir /var/backups/synscope --keep-days 30\n"
      "  sudo synscope tune restore /var/backups/synscope/synscope-backup-20261127T063000Z\n"
      "  synscope tune firewall --syn-rate 10/s --burst 20 --port 443 --format nft      # print; --apply to load\n"
      "Exit codes: 0 ok, 1 audit: some values differ / apply: read-back mismatch, 2 bad profile, key or backup folder,\n"
      "3 a write or a tool failed, 4 a tampered backup, 77 not root.");
  return [args, audit, plan, apply, backup, restore, firewall] {
    if (firewall->parsed()) return run_firewall(*args);
    if (audit->parsed()) return run_audit(*args, false);
    if (plan->parsed()) return run_audit(*args, true);
    if (apply->parsed()) return run_apply(*args);
    if (backup->parsed()) return run_backup(*args);
    if (restore->parsed()) return run_restore(*args);
    return static_cast<int>(core::exit_code::usage);
  };
}

}  // namespace synscope::cli
