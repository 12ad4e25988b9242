// synscope tune: audit, plan, apply, back up and restore the handshake's kernel settings.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "render/tune.h"
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
  std::string persist_path;  // "" until given; the default depends on the namespace (tune::defaults_for)
  std::string dir;
  bool persist_given = false;
  bool dir_given = false;
  bool no_firewall = false;
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

// Enters --netns, then settles the paths: what the user gave, else this namespace's defaults
// (outside the host's own namespace nothing is persisted and backups go under /run).
int enter(tune_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  auto d = tune::defaults_for(kernel::in_initial_netns(), args.proc_root != "/proc");
  if (!args.persist_given) args.persist_path = d.persist_path;
  if (!args.dir_given) args.dir = d.backup_dir;
  return 0;
}

// Where the namespace rule left persisting out, the reason, for plan and apply.
std::string live_only_reason(const tune_args& args) {
  if (args.persist_given) return "--persist-path ''";
  if (!kernel::in_initial_netns()) {
    return args.netns.empty() ? "not the host's own network namespace" : "network namespace " + args.netns;
  }
  return "--proc-root " + args.proc_root;
}

int run_audit(tune_args& args, bool plan) {
  if (int rc = enter(args); rc != 0) return rc;
  auto p = chosen_profile(args);
  if (!p) return fail(p.error());
  kernel::sysctl_tree tree(args.proc_root);
  auto rows = tune::audit(*p, tree, kernel::in_initial_netns());
  bool differs = false;
  bool bad = false;
  for (const auto& r : rows) {
    differs = differs || r.state == tune::status::differs;
    bad = bad || r.state == tune::status::invalid || r.state == tune::status::missing;
  }
  render::plan_target target{args.profile, args.persist_path, live_only_reason(args), args.persist_given, args.dir};
  if (args.json) {
    fmt::print("{}", render::audit_json(rows));
    if (plan) fmt::print("{}", render::plan_file_json(*p, target));
  } else if (!plan) {
    fmt::print("{}", render::audit_text(*p, rows, args.proc_root));
  } else {
    fmt::print("{}", render::plan_text(*p, rows, target));
  }
  // audit: 0 all as recommended, 1 some differ, 2 invalid or missing keys.
  if (plan) return bad ? static_cast<int>(core::exit_code::usage) : 0;
  return bad ? static_cast<int>(core::exit_code::usage) : differs ? static_cast<int>(core::exit_code::failed) : 0;
}

int run_apply(tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  auto p = chosen_profile(args);
  if (!p) return fail(p.error());
  if (geteuid() != 0 && args.proc_root == "/proc") {
    return fail(core::error{core::exit_code::no_permission, "tune apply: needs root (writes /proc/sys and /etc/sysctl.d)"});
  }
  kernel::sysctl_tree tree(args.proc_root);
  tune::apply_options o;
  o.persist_path = args.persist_path;
  o.backup_dir = args.dir;
  o.backup.include = args.include;
  o.backup.keep_days = args.keep_days;
  o.backup.firewall = !args.no_firewall;
  o.initial_netns = kernel::in_initial_netns();
  auto r = tune::apply(*p, tree, o);
  if (!r) return fail(r.error());
  fmt::print("{}", args.json ? render::apply_json(*r) : render::apply_text(*r, live_only_reason(args)));
  return 0;
}

int run_backup(tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  kernel::sysctl_tree tree(args.proc_root);
  tune::backup_options o;
  o.include = args.include;
  o.keep_days = args.keep_days;
  o.firewall = !args.no_firewall;
  o.persist_path = args.persist_path;
  o.initial_netns = kernel::in_initial_netns();
  auto r = tune::backup(tree, args.dir, o);
  if (!r) return fail(r.error());
  fmt::print("{}", args.json ? render::backup_json(*r) : render::backup_text(*r, args.keep_days));
  return 0;
}

int run_restore(tune_args& args) {
  if (int rc = enter(args); rc != 0) return rc;
  if (geteuid() != 0 && args.proc_root == "/proc") {
    return fail(core::error{core::exit_code::no_permission, "tune restore: needs root (writes /proc/sys)"});
  }
  kernel::sysctl_tree tree(args.proc_root);
  auto r = tune::restore(args.backup_path, tree, {args.firewall, kernel::in_initial_netns()});
  if (!r) return fail(r.error());
  fmt::print("{}", args.json ? render::restore_json(*r) : render::restore_text(*r));
  if (!r->differs.empty()) {
    std::fflush(stdout);
    fmt::print(stderr, "{}", render::restore_differences(*r));
    return static_cast<int>(core::exit_code::failed);
  }
  return 0;
}

int run_firewall(tune_args& args) {
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
  // Before the subcommands: each takes its parent's footer when it is made, so tune's examples,
  // not the top level's, end `synscope tune apply --help`.
  cmd->footer(
      "Examples:\n"
      "  synscope tune audit --profile synflood             # what differs, and why each value\n"
      "  synscope tune plan --profile baseline --expected-connections 20000\n"
      "  sudo synscope tune apply --profile high-rate-client  # backup, apply, persist, read back\n"
      "  sudo synscope tune backup --dir /var/backups/synscope --keep-days 30\n"
      "  sudo synscope tune restore /var/backups/synscope/synscope-backup-20261127T063000Z\n"
      "  synscope tune firewall --syn-rate 10/s --burst 20 --port 443 --format nft      # print; --apply to load\n"
      "Exit codes: 0 ok, 1 audit: some values differ / apply, restore: a value reads back wrong, 2 bad profile, key,\n"
      "path or backup folder, 3 a write or a tool failed, 4 a backup refused (not root's, writable by others,\n"
      "changed after it was made, or naming a key outside net.*), 77 not root.");
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
  };
  auto persist_opt = [&](CLI::App* sub) {
    sub->add_option_function<std::string>(
        "--persist-path",
        [args](const std::string& v) {
          args->persist_path = v;
          args->persist_given = true;
        },
        "The sysctl.d file apply writes ('' : live only). Default /etc/sysctl.d/99-synscope.conf in the host's own "
        "network namespace; outside it (--netns, ip netns exec) nothing is persisted unless this is given");
  };
  auto backup_opts = [&](CLI::App* sub) {
    sub->add_option_function<std::string>(
        "--dir",
        [args](const std::string& v) {
          args->dir = v;
          args->dir_given = true;
        },
        "Where backups go, a folder only root can change. Default /var/backups/synscope; outside the host's own "
        "network namespace /run/synscope/backups");
    sub->add_option("--include", args->include, "Keep this file in the backup too; repeatable");
    sub->add_option("--keep-days", args->keep_days, "Remove backups older than this (never the newest)");
    sub->add_flag("--no-firewall", args->no_firewall, "Leave the firewall rules out of the backup");
  };
  CLI::App* audit = cmd->add_subcommand("audit", "Current versus recommended, per key (exit 0 all match, 1 some differ, 2 bad keys)");
  common(audit);
  profile_opts(audit);
  CLI::App* plan = cmd->add_subcommand("plan", "The changes apply would make and the exact file it would write");
  common(plan);
  profile_opts(plan);
  persist_opt(plan);
  CLI::App* apply = cmd->add_subcommand("apply", "Back up, apply live, persist atomically, read back; roll back on any failure (root)");
  common(apply);
  profile_opts(apply);
  persist_opt(apply);
  backup_opts(apply);
  CLI::App* backup = cmd->add_subcommand(
      "backup", "Every net.* setting, the persisted sysctl.d file, iptables/ip6tables/nft rules and --include files");
  common(backup);
  backup_opts(backup);
  persist_opt(backup);
  CLI::App* restore = cmd->add_subcommand(
      "restore", "Verify a backup (root's own, checksums), restore its settings and the persisted file (and --firewall rules)");
  common(restore);
  restore->add_option("backup", args->backup_path, "A backup folder (synscope tune backup prints it)")->required();
  restore->add_flag("--firewall", args->firewall, "Restore the saved firewall rules too");
  CLI::App* firewall = cmd->add_subcommand("firewall", "A SYN rate limit as rules in a chain of their own: print, --apply, --remove");
  firewall->add_option("--netns", args->netns, "Work in this network namespace (ip netns add NAME)");
  firewall->add_option("--syn-rate", args->syn_rate, "New SYNs allowed, 10/s or 600/m")->capture_default_str();
  firewall->add_option("--burst", args->burst, "Allowed above the rate at once")->capture_default_str();
  firewall->add_option("--port", args->port, "Only SYNs to this port (default: every port, a global limit)");
  firewall->add_option("--format", args->format, "nft (table inet synscope) or iptables (chain SYNSCOPE-SYN-LIMIT)")
      ->capture_default_str();
  auto* fa = firewall->add_flag("--apply", args->fw_apply, "Load the rules (root)");
  firewall->add_flag("--remove", args->fw_remove, "Remove them again (root)")->excludes(fa);
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
