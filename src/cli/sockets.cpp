// synscope sockets: TCP sockets from sock_diag, listed, counted, summarised and grouped. The
// filter, the summary and the grouping are kernel/'s (socket_filter.h, snapshot.h); this file
// renders them.
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "render/json.h"
#include "render/sockets.h"
#include "render/table.h"
#include "kernel/netns.h"
#include "kernel/snapshot.h"
#include "kernel/socket_filter.h"
#include "kernel/sockets.h"
#include "kernel/sysctl.h"

namespace synscope::cli {
namespace {

struct sockets_args {
  std::string netns;
  std::string proc_root = "/proc";
  bool summary = false;
  kernel::filter_spec filter;
  bool processes = false;
  bool info = false;
  bool count = false;
  std::string top;
  size_t top_n = 10;
  std::string by;
  bool json = false;
  bool ipv4_only = false;
  bool ipv6_only = false;
  std::vector<std::string> expression;  ///< ss's words: state time-wait dport = :443
};

int run(sockets_args args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  if (auto r = kernel::parse_ss_words(args.expression, args.filter); !r) return fail(r.error());
  args.filter.ipv4 = !args.ipv6_only;
  args.filter.ipv6 = !args.ipv4_only;
  auto filter = kernel::socket_filter::parse(args.filter);
  if (!filter) return fail(filter.error());
  if (args.summary) filter->states = kernel::all_states;
  std::optional<kernel::group_key> group;
  if (!args.top.empty()) {
    group = kernel::parse_group_key(args.top);
    if (!group) {
      return fail(core::error{core::exit_code::usage, fmt::format("--top '{}': one of remote, local, port, process",
                                                                  core::printable(args.top))});
    }
  }
  if (!args.by.empty()) {
    if (args.by != "port") {
      return fail(core::error{core::exit_code::usage, fmt::format("--by '{}': only 'port' is known", core::printable(args.by))});
    }
    group = kernel::group_key::local_port;
  }

  if (args.count) {
    auto n = kernel::count_matching(*filter);
    if (!n) return fail(n.error());
    fmt::print("{}\n", args.json ? render::json_object().field("count", *n).str() : std::to_string(*n));
    return 0;
  }
  if (args.summary) {
    auto sum = kernel::summarize_sockets(*filter, kernel::sysctl_tree(args.proc_root));
    if (!sum) return fail(sum.error());
    fmt::print("{}", args.json ? render::socket_summary_json(*sum) : render::socket_summary_text(*sum));
    return 0;
  }
  std::unordered_map<uint64_t, std::string> owners;
  if (args.processes || group == kernel::group_key::process) owners = kernel::socket_owner_names(args.proc_root);
  if (group) {
    std::optional<std::pair<int, int>> ephemeral;
    if (group == kernel::group_key::local_port) {
      // This namespace's range, read after entering it; unreadable: every port its own row.
      auto range = kernel::sysctl_tree(args.proc_root).read_ints("net.ipv4.ip_local_port_range");
      if (range && range->size() == 2) ephemeral = std::make_pair(static_cast<int>((*range)[0]), static_cast<int>((*range)[1]));
    }
    auto rows = kernel::group_sockets(*filter, *group, args.top.empty() ? 0 : args.top_n, owners, ephemeral);
    if (!rows) return fail(rows.error());
    const char* key = kernel::group_key_name(*group);
    fmt::print("{}", args.json ? render::socket_groups_json(*rows, key) : render::socket_groups_text(*rows, key));
    return 0;
  }

  // The listing.
  auto owner_of = [&](const kernel::tcp_socket& s) -> std::string {
    auto it = owners.find(s.inode);
    return it == owners.end() ? std::string() : it->second;
  };
  render::table t(render::socket_columns(args.processes, args.info));
  auto r = kernel::dump_tcp(filter->query(args.info), [&](const kernel::tcp_socket& s) {
    if (!filter->matches(s)) return;
    if (args.json) {
      fmt::print("{}\n", render::socket_json(s, owner_of(s)).str());
    } else {
      t.add_row(render::socket_row(s, args.processes ? owner_of(s) : std::optional<std::string>(), args.info));
    }
  });
  if (!r) return fail(r.error());
  if (!args.json) fmt::print("{}", t.render());
  return 0;
}

}  // namespace

command_runner add_sockets_command(CLI::App& app) {
  auto args = std::make_shared<sockets_args>();
  CLI::App* cmd = app.add_subcommand("sockets", "TCP sockets from the kernel (sock_diag), like ss: list, count, summarise");
  cmd->add_option("filter", args->expression,
                  "ss's filter words: state S, exclude S, sport = :N, dport = :N, src ADDR, dst ADDR");
  cmd->add_option("--netns", args->netns, "Look into this network namespace (ip netns add NAME)");
  cmd->add_option("--proc-root", args->proc_root,
                  "Read somaxconn (-s) and socket owners (-p) under this /proc instead")
      ->capture_default_str();
  cmd->add_flag("-s,--summary", args->summary, "Sockets per state and family, and every listener's queues");
  cmd->add_option("--state", args->filter.states,
                  "States or groups, as ss names them, in any case: established, syn-sent, syn-recv, fin-wait-1, "
                  "fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing; all, connected, "
                  "synchronized, bucket, big")
      ->delimiter(',');
  cmd->add_option("--sport", args->filter.sport, "Local port")->check(CLI::Range(0, 65535));
  cmd->add_option("--dport", args->filter.dport, "Remote port")->check(CLI::Range(0, 65535));
  cmd->add_option("--src", args->filter.src, "Local address or prefix (10.0.0.0/8, ::1)");
  cmd->add_option("--dst", args->filter.dst, "Remote address or prefix");
  cmd->add_flag("-l,--listening", args->filter.listening, "Listening sockets only");
  cmd->add_flag("-p,--processes", args->processes, "The process holding each socket (pid/comm, from /proc)");
  cmd->add_flag("-i,--info", args->info, "TCP_INFO of each connected socket: rtt, retransmits, cwnd, options");
  cmd->add_flag("--count", args->count, "Only the number of matching sockets");
  cmd->add_option("--top", args->top, "The groups holding most sockets: remote, local, port or process");
  cmd->add_option("--top-n", args->top_n, "Rows of --top")->capture_default_str();
  cmd->add_option("--by", args->by,
                  "Socket counts per state for each local port: --by port (the ephemeral range's client ports, where "
                  "nothing listens, are one row)");
  cmd->add_flag("--json", args->json, "JSON: one object per socket or group, or one summary object");
  // ss's habits, so that -tan, -tanp and -ltn work as typed: TCP is all this lists, every state
  // is listed unless a filter says otherwise, and addresses and ports are never resolved.
  cmd->add_flag("-t,--tcp")->description("TCP sockets (the only kind listed; accepted as ss's -t)");
  cmd->add_flag("-a,--all")->description("Every state (the default; accepted as ss's -a)");
  cmd->add_flag("-n,--numeric")->description("Numeric addresses and ports (always; accepted as ss's -n)");
  cmd->add_flag("-4", args->ipv4_only, "IPv4 only");
  cmd->add_flag("-6", args->ipv6_only, "IPv6 only");
  cmd->get_option("-4")->excludes(cmd->get_option("-6"));
  cmd->get_option("--count")->excludes(cmd->get_option("--summary"));
  cmd->footer(
      "Examples:\n"
      "  synscope sockets -s                                # per state, and each listener's queues\n"
      "  synscope sockets -tan state TIME-WAIT dport = :443 # ss's options and filter words\n"
      "  synscope sockets --state time-wait --count         # how many TIME-WAIT, without formatting them\n"
      "  synscope sockets --state time-wait --top remote    # which peers hold most TIME-WAIT\n"
      "  synscope sockets --state close-wait --top process  # who is not closing their sockets\n"
      "  synscope sockets --by port --netns lab0            # state counts per local port, in a namespace\n"
      "Exit codes: 0 ok, 2 bad arguments or no such namespace, 3 netlink failed, 77 not permitted.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
