#include "render/sockets.h"

#include <netinet/tcp.h>

#include <array>

#include <fmt/format.h>

#include "kernel/tcp_info.h"

namespace synscope::render {
namespace {

// -i's options in ss's layout: "timestamps,sack,wscale:7,7,ecn".
std::string options_text(const kernel::tcp_info_view& i) {
  std::string out;
  for (const auto& name : kernel::option_names(i.options)) {
    if (!out.empty()) out += ',';
    out += name == "wscale" ? fmt::format("wscale:{},{}", i.snd_wscale, i.rcv_wscale) : name;
  }
  return out;
}

// The states a summary lists: every kernel state but NEW_SYN_RECV (counted as syn-recv).
template <typename F>
void each_listed_state(F&& f) {
  for (int i = 1; i <= kernel::tcp_state_max; ++i) {
    if (i != static_cast<int>(kernel::tcp_state::new_syn_recv)) f(static_cast<kernel::tcp_state>(i));
  }
}

}  // namespace

json_object socket_json(const kernel::tcp_socket& s, const std::string& process) {
  json_object j;
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
    if ((s.info->options & TCPI_OPT_WSCALE) != 0) j.field("snd_wscale", s.info->snd_wscale).field("rcv_wscale", s.info->rcv_wscale);
  }
  return j;
}

std::vector<table::column> socket_columns(bool processes, bool info) {
  std::vector<table::column> cols{{"State"}, {"Recv-Q", table::align::right}, {"Send-Q", table::align::right},
                                  {"Local"}, {"Peer"}};
  if (processes) cols.push_back({"Process"});
  if (info) cols.push_back({"Info"});
  return cols;
}

std::vector<std::string> socket_row(const kernel::tcp_socket& s, const std::optional<std::string>& process, bool info) {
  std::vector<std::string> cells{kernel::state_name(s.state), std::to_string(s.rqueue), std::to_string(s.wqueue),
                                 kernel::socket_text(s.local), kernel::socket_text(s.remote)};
  if (process) cells.push_back(*process);
  if (info) {
    cells.push_back(s.info ? fmt::format("rtt:{:.3f}/{:.3f}ms retrans:{}/{} cwnd:{} mss:{} {}", s.info->rtt_us / 1e3,
                                         s.info->rttvar_us / 1e3, s.info->retransmits, s.info->total_retrans,
                                         s.info->snd_cwnd, s.info->snd_mss, options_text(*s.info))
                           : "");
  }
  return cells;
}

std::string socket_summary_json(const kernel::socket_summary& sum) {
  json_object states;
  each_listed_state([&](kernel::tcp_state st) {
    const auto& c = sum.counts[static_cast<size_t>(st)];
    states.field(kernel::state_name(st), json_object().field("ipv4", c[0]).field("ipv6", c[1]).field("total", c[0] + c[1]));
  });
  json_array listeners;
  for (const auto& l : sum.listeners) {
    listeners.add(json_object()
                      .field("local", kernel::socket_text(l.local))
                      .field("accept_queue", l.accept_queue)
                      .field("backlog", l.backlog)
                      .field("half_open", l.half_open)
                      .field("backlog_capped_by_somaxconn", sum.capped_by_somaxconn(l)));
  }
  return json_object()
             .field("total", sum.total)
             .field("states", states)
             .field("somaxconn", sum.somaxconn)
             .field("listeners", listeners)
             .str() +
         "\n";
}

std::string socket_summary_text(const kernel::socket_summary& sum) {
  table t({{"state"}, {"ipv4", table::align::right}, {"ipv6", table::align::right}, {"total", table::align::right}});
  each_listed_state([&](kernel::tcp_state st) {
    const auto& c = sum.counts[static_cast<size_t>(st)];
    t.add_row({kernel::state_name(st), std::to_string(c[0]), std::to_string(c[1]), std::to_string(c[0] + c[1])});
  });
  std::string out = fmt::format("{}TCP sockets: {}\n", t.render(), sum.total);
  if (sum.listeners.empty()) return out;
  table lt({{"listener"}, {"accept_queue", table::align::right}, {"backlog", table::align::right},
            {"half_open", table::align::right}, {"note"}});
  for (const auto& l : sum.listeners) {
    std::string note;
    if (sum.capped_by_somaxconn(l)) {
      note = fmt::format("backlog = somaxconn ({}): the application may have asked for more", sum.somaxconn);
    }
    if (l.backlog > 0 && l.fill() >= 0.8) note = "accept queue over 80% full";
    lt.add_row({kernel::socket_text(l.local), std::to_string(l.accept_queue), std::to_string(l.backlog),
                std::to_string(l.half_open), note});
  }
  return out + "\n" + lt.render();
}

std::string socket_groups_json(const std::vector<kernel::socket_group>& rows, const char* key_name) {
  std::string out;
  for (const auto& g : rows) {
    json_object states;
    for (size_t i = 1; i < g.by_state.size(); ++i) {
      if (g.by_state[i] > 0) states.field(kernel::state_name(static_cast<kernel::tcp_state>(i)), g.by_state[i]);
    }
    out += json_object().field(key_name, g.key).field("sockets", g.sockets).field("states", states).str() + "\n";
  }
  return out;
}

std::string socket_groups_text(const std::vector<kernel::socket_group>& rows, const char* key_name) {
  std::array<bool, kernel::tcp_state_max + 1> present{};
  for (const auto& g : rows) {
    for (size_t i = 0; i < present.size(); ++i) present[i] = present[i] || g.by_state[i] > 0;
  }
  std::vector<table::column> cols{{key_name}, {"sockets", table::align::right}};
  std::vector<size_t> state_cols;
  for (size_t i = 1; i < present.size(); ++i) {
    if (!present[i]) continue;
    cols.push_back({kernel::state_name(static_cast<kernel::tcp_state>(i)), table::align::right});
    state_cols.push_back(i);
  }
  table t(cols);
  for (const auto& g : rows) {
    std::vector<std::string> cells{g.key, std::to_string(g.sockets)};
    for (size_t i : state_cols) cells.push_back(std::to_string(g.by_state[i]));
    t.add_row(cells);
  }
  return t.render();
}


}  // namespace synscope::render
