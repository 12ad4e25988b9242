// synscope sockets: TCP sockets from sock_diag, listed, counted, summarised and grouped. The
// filter, the summary and the grouping are kernel/'s (socket_filter.h, snapshot.h); this file
// renders them.
#include <netinet/in.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "render/json.h"
#include "render/table.h"
#include "kernel/netns.h"
#include "kernel/snapshot.h"
#include "kernel/socket_filter.h"
#include "kernel/sockets.h"
#include "kernel/sysctl.h"
#include "kernel/tcp_info.h"

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
};

// -i's options in ss's layout: "timestamps,sack,wscale:7,7,ecn".
std::string options_text(const kernel::tcp_info_view& i) {
  std::string out;
  for (const auto& name : kernel::option_names(i.options)) {
    if (!out.empty()) out += ',';
    out += name == "wscale" ? fmt::format("wscale:{},{}", i.snd_wscale, i.rcv_wscale) : name;
  }
  return out;
}

render::json_object socket_json(const kernel::tcp_socket& s, const std::string& process) {
  render::json_object j;
  j.field("state", kernel::state_name(s.state))
      .field("family", s.local.address.version == 4 ? "ipv4" : "ipv6")
      .field("local", kernel::socket_text(s.local))
      .field("remote", kernel::socket_text(s.remote))
      .field("recv_q", s.rqueue)
      .field("send_q", s.wqueue)
      .field("uid", s.uid)
      .field("inode", s.inode);
  if (!process.empty()) j.field("process", process);
  if (s.info) {
    j.field("rtt_us", s.info->rtt_us)
        .field("rttvar_us", s.info->rttvar_us)
        .field("retransmits", s.info->retransmits)
        .field("total_retrans", s.info->total_retrans)
        .field("cwnd", s.info->snd_cwnd)
        .field("mss", s.info->snd_mss)
        .field("options", kernel::option_names(s.info->options));
    if ((s.info->options & 4) != 0) j.field("snd_wscale", s.info->snd_wscale).field("rcv_wscale", s.info->rcv_wscale);
  }
  return j;
}

// The states a summary lists: every kernel state but NEW_SYN_RECV (counted as syn-recv).
template <typename F>
void each_listed_state(F&& f) {
  for (int i = 1; i <= kernel::tcp_state_max; ++i) {
    if (i != static_cast<int>(kernel::tcp_state::new_syn_recv)) f(static_cast<kernel::tcp_state>(i));
  }
}

int render_summary(const kernel::socket_summary& sum, bool json) {
  if (json) {
    render::json_object states;
    each_listed_state([&](kernel::tcp_state st) {
      const auto& c = sum.counts[static_cast<size_t>(st)];
      states.field(kernel::state_name(st), render::json_object().field("ipv4", c[0]).field("ipv6", c[1]).field("total", c[0] + c[1]));
    });
    render::json_array listeners;
    for (const auto& l : sum.listeners) {
      listeners.add(render::json_object()
                        .field("local", kernel::socket_text(l.local))
                        .field("accept_queue", l.accept_queue)
                        .field("backlog", l.backlog)
                        .field("half_open", l.half_open)
                        .field("backlog_capped_by_somaxconn", sum.capped_by_somaxconn(l)));
    }
    fmt::print("{}\n", render::json_object()
                           .field("total", sum.total)
                           .field("states", states)
                           .field("somaxconn", sum.somaxconn)
                           .field("listeners", listeners)
                           .str());
    return 0;
  }
  render::table t({{"state"}, {"ipv4", render::table::align::right}, {"ipv6", render::table::align::right},
                 {"total", render::table::align::right}});
  each_listed_state([&](kernel::tcp_state st) {
    const auto& c = sum.counts[static_cast<size_t>(st)];
    t.add_row({kernel::state_name(st), std::to_string(c[0]), std::to_string(c[1]), std::to_string(c[0] + c[1])});
  });
  fmt::print("{}TCP sockets: {}\n", t.render(), sum.total);
  if (sum.listeners.empty()) return 0;
  render::table lt({{"listener"}, {"accept_queue", render::table::align::right}, {"backlog", render::table::align::right},
                  {"half_open", render::table::align::right}, {"note"}});
  for (const auto& l : sum.listeners) {
    std::string note;
    if (sum.capped_by_somaxconn(l)) {
      note = fmt::format("backlog = somaxconn ({}): the application may have asked for more", sum.somaxconn);
    }
    if (l.backlog > 0 && l.fill() >= 0.8) note = "accept queue over 80% full";
    lt.add_row({kernel::socket_text(l.local), std::to_string(l.accept_queue), std::to_string(l.backlog),
                std::to_string(l.half_open), note});
  }
  fmt::print("\n{}", lt.render());
  return 0;
}

int render_groups(const std::vector<kernel::socket_group>& rows, const char* key_name, bool json) {
  if (json) {
    for (const auto& g : rows) {
      render::json_object states;
      for (size_t i = 1; i < g.by_state.size(); ++i) {
        if (g.by_state[i] > 0) states.field(kernel::state_name(static_cast<kernel::tcp_state>(i)), g.by_state[i]);
      }
      fmt::print("{}\n", render::json_object().field(key_name, g.key).field("sockets", g.sockets).field("states", states).str());
    }
    return 0;
  }
  std::array<bool, kernel::tcp_state_max + 1> present{};
  for (const auto& g : rows) {
    for (size_t i = 0; i < present.size(); ++i) present[i] = present[i] || g.by_state[i] > 0;
  }
  std::vector<render::table::column> cols{{key_name}, {"sockets", render::table::align::right}};
  std::vector<size_t> state_cols;
  for (size_t i = 1; i < present.size(); ++i) {
    if (!present[i]) continue;
    cols.push_back({kernel::state_name(static_cast<kernel::tcp_state>(i)), render::table::align::right});
    state_cols.push_back(i);
  }
  render::table t(cols);
  for (const auto& g : rows) {
    std::vector<std::string> cells{g.key, std::to_string(g.sockets)};
    for (size_t i : state_cols) cells.push_back(std::to_string(g.by_state[i]));
    t.add_row(cells);
  }
  fmt::print("{}", t.render());
  return 0;
}

int run(sockets_args args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
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
    return render_summary(*sum, args.json);
  }
  std::unordered_map<uint64_t, std::string> owners;
  if (args.processes || group == kernel::group_key::process) owners = kernel::socket_owner_names(args.proc_root);
  if (group) {
    auto rows = kernel::group_sockets(*filter, *group, args.top.empty() ? 0 : args.top_n, owners);
    if (!rows) return fail(rows.error());
    return render_groups(*rows, kernel::group_key_name(*group), args.json);
  }

  // The listing.
  auto owner_of = [&](const kernel::tcp_socket& s) -> std::string {
    auto it = owners.find(s.inode);
    return it == owners.end() ? std::string() : it->second;
  };
  std::vector<render::table::column> cols{{"State"}, {"Recv-Q", render::table::align::right},
                                        {"Send-Q", render::table::align::right}, {"Local"}, {"Peer"}};
  if (args.processes) cols.push_back({"Process"});
  if (args.info) cols.push_back({"Info"});
  render::table t(cols);
  auto r = kernel::dump_tcp(filter->query(args.info), [&](const kernel::tcp_socket& s) {
    if (!filter->matches(s)) return;
    if (args.json) {
      fmt::print("{}\n", socket_json(s, owner_of(s)).str());
      return;
    }
    std::vector<std::string> cells{kernel::state_name(s.state), std::to_string(s.rqueue), std::to_string(s.wqueue),
                                   kernel::socket_text(s.local), kernel::socket_text(s.remote)};
    if (args.processes) cells.push_back(owner_of(s));
    if (args.info) {
      cells.push_back(s.info ? fmt::format("rtt:{:.3f}/{:.3f}ms retrans:{}/{} cwnd:{} mss:{} {}", s.info->rtt_us / 1e3,
                                           s.info->rttvar_us / 1e3, s.info->retransmits, s.info->total_retrans,
                                           s.info->snd_cwnd, s.info->snd_mss, options_text(*s.info))
                             : "");
    }
    t.add_row(std::move(cells));
  });
  if (!r) return fail(r.error());
  if (!args.json) fmt::print("{}", t.render());
  return 0;
}

}  // namespace

command_runner add_sockets_command(CLI::App& app) {
  auto args = std::make_shared<sockets_args>();
  CLI::App* cmd = app.add_subcommand("sockets", "TCP sockets from the kernel (sock_diag), like ss: list, count, summarise");
  cmd->add_option("--netns", args->netns, "Look into this network namespace (ip netns add NAME)");
  cmd->add_option("--proc-root", args->proc_root,
                  "Read somaxconn (-s) and socket owners (-p) under this /proc instead")
      ->capture_default_str();
  cmd->add_flag("-s,--summary", args->summary, "Sockets per state and family, and every listener's queues");
  cmd->add_option("--state", args->filter.states,
                  "States or groups, as ss names them: established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, "
                  "time-wait, closed, close-wait, last-ack, listening, closing; all, connected, synchronized, "
                  "bucket, big")
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
  cmd->add_option("--by", args->by, "Socket counts per state for each local port: --by port");
  cmd->add_flag("--json", args->json, "JSON: one object per socket or group, or one summary object");
  cmd->add_flag("-4", args->ipv4_only, "IPv4 only");
  cmd->add_flag("-6", args->ipv6_only, "IPv6 only");
  cmd->get_option("-4")->excludes(cmd->get_option("-6"));
  cmd->get_option("--count")->excludes(cmd->get_option("--summary"));
  cmd->footer(
      "Examples:\n"
      "  synscope sockets -s                                # per state, and each listener's queues\n"
      "  synscope sockets --state time-wait --count         # how many TIME-WAIT, without formatting them\n"
      "  synscope sockets --state time-wait --top remote    # which peers hold most TIME-WAIT\n"
      "  synscope sockets --state close-wait --top process  # who is not closing their sockets\n"
      "  synscope sockets --by port --netns lab0            # state counts per local port, in a namespace\n"
      "Exit codes: 0 ok, 2 bad arguments or no such namespace, 3 netlink failed, 77 not permitted.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
