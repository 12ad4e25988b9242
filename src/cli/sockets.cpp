// synscope sockets: TCP sockets from sock_diag, listed, counted, summarised and grouped.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/json.h"
#include "core/table.h"
#include "kernel/netns.h"
#include "kernel/snapshot.h"
#include "kernel/sockets.h"

namespace synscope::cli {
namespace {

struct sockets_args {
  std::string netns;
  bool summary = false;
  std::vector<std::string> states;
  int sport = -1;
  int dport = -1;
  std::string src;
  std::string dst;
  bool listening = false;
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

// An address or prefix filter: "10.0.0.0/8", "::1", "fd00::/8".
struct prefix {
  uint8_t family = 0;
  std::array<uint8_t, 16> addr{};
  int bits = 0;
  bool matches(const kernel::ip_endpoint& e) const {
    if (e.family != family) return false;
    int full = bits / 8;
    if (!std::equal(addr.begin(), addr.begin() + full, e.addr.begin())) return false;
    int rest = bits % 8;
    if (rest == 0) return true;
    auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (addr[static_cast<size_t>(full)] & mask) == (e.addr[static_cast<size_t>(full)] & mask);
  }
};

core::result<prefix> parse_prefix(const std::string& text, const char* option) {
  std::string a = text;
  int bits = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    a = text.substr(0, slash);
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 || !std::all_of(len.begin(), len.end(), ::isdigit)) bits = 999;
    else bits = std::stoi(len);
  }
  if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  prefix p;
  if (inet_pton(AF_INET, a.c_str(), p.addr.data()) == 1) {
    p.family = AF_INET;
    p.bits = bits < 0 ? 32 : bits;
  } else if (inet_pton(AF_INET6, a.c_str(), p.addr.data()) == 1) {
    p.family = AF_INET6;
    p.bits = bits < 0 ? 128 : bits;
  } else {
    return core::error{core::exit_code::usage,
                       fmt::format("{} '{}': not an IPv4 or IPv6 address or prefix", option, core::printable(text))};
  }
  if (p.bits > (p.family == AF_INET ? 32 : 128)) {
    return core::error{core::exit_code::usage, fmt::format("{} '{}': bad prefix length", option, core::printable(text))};
  }
  return p;
}

std::string address_only(const kernel::ip_endpoint& e) {
  std::string s = kernel::to_string(e);
  return s.substr(0, s.rfind(':'));
}

int read_somaxconn() {
  std::ifstream in("/proc/sys/net/core/somaxconn");
  int v = -1;
  in >> v;
  return v;
}

std::string options_text(const kernel::socket_info& i) {
  std::vector<std::string> o;
  if (i.options & 1) o.emplace_back("ts");
  if (i.options & 2) o.emplace_back("sack");
  if (i.options & 4) o.push_back(fmt::format("wscale:{},{}", i.snd_wscale, i.rcv_wscale));
  if (i.options & 8) o.emplace_back("ecn");
  if (i.options & 32) o.emplace_back("syn_data");
  std::string out;
  for (const auto& s : o) out += (out.empty() ? "" : ",") + s;
  return out;
}

core::json_object socket_json(const kernel::tcp_socket& s, const std::string& process) {
  core::json_object j;
  j.field("state", kernel::state_name(s.state))
      .field("family", s.local.family == AF_INET ? "ipv4" : "ipv6")
      .field("local", kernel::to_string(s.local))
      .field("remote", kernel::to_string(s.remote))
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
        .field("options", options_text(*s.info));
  }
  return j;
}

int run(const sockets_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  kernel::socket_query q;
  if (!args.states.empty()) {
    q.states = 0;
    for (const auto& name : args.states) {
      auto bits = kernel::parse_states(name);
      if (!bits) {
        return fail(core::error{core::exit_code::usage,
                                fmt::format("--state '{}': not a state (established, syn-sent, syn-recv, fin-wait-1, "
                                            "fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing) "
                                            "nor a group (all, connected, synchronized, bucket, big)",
                                            core::printable(name))});
      }
      q.states |= *bits;
    }
  }
  if (args.listening) q.states = kernel::state_bit(kernel::tcp_state::listen);
  if (args.summary) q.states = kernel::all_states;
  q.ipv4 = !args.ipv6_only;
  q.ipv6 = !args.ipv4_only;
  q.tcp_info = args.info;
  std::optional<prefix> src, dst;
  if (!args.src.empty()) {
    auto p = parse_prefix(args.src, "--src");
    if (!p) return fail(p.error());
    src = *p;
  }
  if (!args.dst.empty()) {
    auto p = parse_prefix(args.dst, "--dst");
    if (!p) return fail(p.error());
    dst = *p;
  }
  if (!args.top.empty() && args.top != "remote" && args.top != "local" && args.top != "port" && args.top != "process") {
    return fail(core::error{core::exit_code::usage, fmt::format("--top '{}': one of remote, local, port, process",
                                                                core::printable(args.top))});
  }
  if (!args.by.empty() && args.by != "port") {
    return fail(core::error{core::exit_code::usage, fmt::format("--by '{}': only 'port' is known", core::printable(args.by))});
  }
  auto selected = [&](const kernel::tcp_socket& s) {
    if (args.sport >= 0 && s.local.port != args.sport) return false;
    if (args.dport >= 0 && s.remote.port != args.dport) return false;
    if (src && !src->matches(s.local)) return false;
    if (dst && !dst->matches(s.remote)) return false;
    return true;
  };

  if (args.count) {
    // Counting builds no strings: a filter and an increment per socket.
    uint64_t n = 0;
    auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket& s) { n += selected(s) ? 1 : 0; });
    if (!r) return fail(r.error());
    if (args.json) {
      fmt::print("{}\n", core::json_object().field("count", n).str());
    } else {
      fmt::print("{}\n", n);
    }
    return 0;
  }

  std::unordered_map<uint64_t, std::string> owners;
  if (args.processes || args.top == "process") {
    for (auto& [inode, o] : kernel::socket_owners()) {
      auto& text = owners[inode];
      text += (text.empty() ? "" : ",") + fmt::format("{}/{}", o.pid, o.comm);
    }
  }
  auto owner_of = [&](const kernel::tcp_socket& s) -> std::string {
    if (owners.empty()) return "";
    auto it = owners.find(s.inode);
    return it == owners.end() ? std::string() : it->second;
  };

  if (args.summary) {
    std::array<std::array<uint64_t, 2>, kernel::tcp_state_max + 1> counts{};
    std::vector<kernel::tcp_socket> listeners;
    std::vector<kernel::tcp_socket> half_open;
    auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket& s) {
      if (!selected(s)) return;
      ++counts[static_cast<size_t>(s.state)][s.local.family == AF_INET ? 0 : 1];
      if (s.state == kernel::tcp_state::listen) listeners.push_back(s);
      if (s.state == kernel::tcp_state::syn_recv) half_open.push_back(s);
    });
    if (!r) return fail(r.error());
    int somaxconn = read_somaxconn();
    auto loads = kernel::listener_loads(listeners, half_open);
    uint64_t total = 0;
    if (args.json) {
      core::json_object states;
      for (int i = 1; i <= kernel::tcp_state_max; ++i) {
        if (i == static_cast<int>(kernel::tcp_state::new_syn_recv)) continue;
        const auto& c = counts[static_cast<size_t>(i)];
        total += c[0] + c[1];
        states.field(kernel::state_name(static_cast<kernel::tcp_state>(i)),
                     core::json_object().field("ipv4", c[0]).field("ipv6", c[1]).field("total", c[0] + c[1]));
      }
      std::string list = "[";
      for (const auto& l : loads) {
        if (list.size() > 1) list += ",";
        list += core::json_object()
                    .field("local", kernel::to_string(l.local))
                    .field("accept_queue", l.accept_queue)
                    .field("backlog", l.backlog)
                    .field("half_open", l.half_open)
                    .field("backlog_capped_by_somaxconn", somaxconn >= 0 && l.backlog == static_cast<uint32_t>(somaxconn))
                    .str();
      }
      list += "]";
      fmt::print("{}\n", core::json_object()
                             .field("total", total)
                             .field("states", states)
                             .field("somaxconn", somaxconn)
                             .raw_field("listeners", list)
                             .str());
      return 0;
    }
    core::table t({{"state"}, {"ipv4", core::table::align::right}, {"ipv6", core::table::align::right},
                   {"total", core::table::align::right}});
    for (int i = 1; i <= kernel::tcp_state_max; ++i) {
      if (i == static_cast<int>(kernel::tcp_state::new_syn_recv)) continue;
      const auto& c = counts[static_cast<size_t>(i)];
      total += c[0] + c[1];
      t.add_row({kernel::state_name(static_cast<kernel::tcp_state>(i)), std::to_string(c[0]), std::to_string(c[1]),
                 std::to_string(c[0] + c[1])});
    }
    fmt::print("{}TCP sockets: {}\n", t.render(), total);
    if (!loads.empty()) {
      core::table lt({{"listener"}, {"accept_queue", core::table::align::right}, {"backlog", core::table::align::right},
                      {"half_open", core::table::align::right}, {"note"}});
      for (const auto& l : loads) {
        std::string note;
        if (somaxconn >= 0 && l.backlog == static_cast<uint32_t>(somaxconn)) {
          note = fmt::format("backlog = somaxconn ({}): the application may have asked for more", somaxconn);
        }
        if (l.backlog > 0 && l.fill() >= 0.8) note = "accept queue over 80% full";
        lt.add_row({kernel::to_string(l.local), std::to_string(l.accept_queue), std::to_string(l.backlog),
                    std::to_string(l.half_open), note});
      }
      fmt::print("\n{}", lt.render());
    }
    return 0;
  }

  if (!args.top.empty() || !args.by.empty()) {
    // key -> count per state
    std::map<std::string, std::array<uint64_t, kernel::tcp_state_max + 1>> groups;
    auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket& s) {
      if (!selected(s)) return;
      std::string key;
      if (!args.by.empty() || args.top == "port") key = std::to_string(s.local.port);
      else if (args.top == "remote") key = address_only(s.remote);
      else if (args.top == "local") key = address_only(s.local);
      else key = owner_of(s).empty() ? "-" : owner_of(s);
      ++groups[key][static_cast<size_t>(s.state)];
    });
    if (!r) return fail(r.error());
    struct row {
      std::string key;
      uint64_t total;
      std::array<uint64_t, kernel::tcp_state_max + 1> by_state;
    };
    std::vector<row> rows;
    std::array<bool, kernel::tcp_state_max + 1> present{};
    for (auto& [k, c] : groups) {
      uint64_t sum = 0;
      for (size_t i = 0; i < c.size(); ++i) {
        sum += c[i];
        present[i] = present[i] || c[i] > 0;
      }
      rows.push_back({k, sum, c});
    }
    if (!args.top.empty()) {
      std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.total > b.total; });
      if (rows.size() > args.top_n) rows.resize(args.top_n);
    }
    std::string key_name = !args.by.empty() ? "port" : args.top;
    if (args.json) {
      for (const auto& r2 : rows) {
        core::json_object states;
        for (size_t i = 1; i < r2.by_state.size(); ++i) {
          if (r2.by_state[i] > 0) states.field(kernel::state_name(static_cast<kernel::tcp_state>(i)), r2.by_state[i]);
        }
        fmt::print("{}\n", core::json_object().field(key_name, r2.key).field("sockets", r2.total).field("states", states).str());
      }
      return 0;
    }
    std::vector<core::table::column> cols{{key_name}, {"sockets", core::table::align::right}};
    std::vector<size_t> state_cols;
    for (size_t i = 1; i < present.size(); ++i) {
      if (present[i]) {
        cols.push_back({kernel::state_name(static_cast<kernel::tcp_state>(i)), core::table::align::right});
        state_cols.push_back(i);
      }
    }
    core::table t(cols);
    for (const auto& r2 : rows) {
      std::vector<std::string> cells{r2.key, std::to_string(r2.total)};
      for (size_t i : state_cols) cells.push_back(std::to_string(r2.by_state[i]));
      t.add_row(cells);
    }
    fmt::print("{}", t.render());
    return 0;
  }

  // The listing.
  std::vector<core::table::column> cols{{"State"}, {"Recv-Q", core::table::align::right},
                                        {"Send-Q", core::table::align::right}, {"Local"}, {"Peer"}};
  if (args.processes) cols.push_back({"Process"});
  if (args.info) cols.push_back({"Info"});
  core::table t(cols);
  auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket& s) {
    if (!selected(s)) return;
    if (args.json) {
      fmt::print("{}\n", socket_json(s, owner_of(s)).str());
      return;
    }
    std::vector<std::string> cells{kernel::state_name(s.state), std::to_string(s.rqueue), std::to_string(s.wqueue),
                                   kernel::to_string(s.local), kernel::to_string(s.remote)};
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
  cmd->add_flag("-s,--summary", args->summary, "Sockets per state and family, and every listener's queues");
  cmd->add_option("--state", args->states,
                  "States or groups, as ss names them: established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, "
                  "time-wait, closed, close-wait, last-ack, listening, closing; all, connected, synchronized, "
                  "bucket, big")
      ->delimiter(',');
  cmd->add_option("--sport", args->sport, "Local port")->check(CLI::Range(0, 65535));
  cmd->add_option("--dport", args->dport, "Remote port")->check(CLI::Range(0, 65535));
  cmd->add_option("--src", args->src, "Local address or prefix (10.0.0.0/8, ::1)");
  cmd->add_option("--dst", args->dst, "Remote address or prefix");
  cmd->add_flag("-l,--listening", args->listening, "Listening sockets only");
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
