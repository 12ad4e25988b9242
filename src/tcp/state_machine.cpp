#include "tcp/state_machine.h"

#include <array>

namespace synscope::tcp {
namespace {

using S = tcp_state;
using E = tcp_event;

struct transition {
  S from;
  E event;
  S to;
};

// RFC 9293 Figure 5, row by row. Comments name the segment the RFC has the endpoint send.
constexpr transition rows[] = {
    {S::closed, E::passive_open, S::listen},
    {S::closed, E::snd_syn, S::syn_sent},                 // active open: snd SYN
    {S::listen, E::rcv_syn, S::syn_received},             // snd SYN,ACK
    {S::listen, E::snd_syn, S::syn_sent},                 // SEND: snd SYN
    {S::listen, E::snd_fin, S::closed},                   // CLOSE: delete TCB
    {S::syn_sent, E::rcv_syn, S::syn_received},           // simultaneous open: snd SYN,ACK
    {S::syn_sent, E::rcv_syn_ack, S::established},        // snd ACK
    {S::syn_sent, E::snd_fin, S::closed},                 // CLOSE: delete TCB
    {S::syn_sent, E::rcv_rst, S::closed},                 // RST acknowledging our SYN: refused
    {S::syn_received, E::rcv_ack_of_syn, S::established},
    {S::syn_received, E::rcv_syn_ack, S::established},    // simultaneous open: the peer's SYN,ACK
    {S::syn_received, E::snd_fin, S::fin_wait_1},         // CLOSE: snd FIN
    {S::syn_received, E::rcv_rst, S::closed},             // (LISTEN again if it was a passive open)
    {S::established, E::snd_fin, S::fin_wait_1},
    {S::established, E::rcv_fin, S::close_wait},          // snd ACK
    {S::established, E::rcv_rst, S::closed},
    {S::fin_wait_1, E::rcv_ack_of_fin, S::fin_wait_2},
    {S::fin_wait_1, E::rcv_fin, S::closing},              // simultaneous close: snd ACK
    {S::fin_wait_1, E::rcv_fin_ack_of_fin, S::time_wait}, // snd ACK
    {S::fin_wait_1, E::rcv_rst, S::closed},
    {S::fin_wait_2, E::rcv_fin, S::time_wait},            // snd ACK
    {S::fin_wait_2, E::rcv_fin_ack_of_fin, S::time_wait},
    {S::fin_wait_2, E::rcv_rst, S::closed},
    {S::close_wait, E::snd_fin, S::last_ack},
    {S::close_wait, E::rcv_rst, S::closed},
    {S::closing, E::rcv_ack_of_fin, S::time_wait},
    {S::closing, E::rcv_rst, S::closed},
    {S::last_ack, E::rcv_ack_of_fin, S::closed},
    {S::last_ack, E::rcv_rst, S::closed},
    {S::time_wait, E::timeout_2msl, S::closed},
    {S::time_wait, E::rcv_rst, S::closed},                // RFC 1337 hazard; Linux closes too
};

// The rows as a [state][event] table built at compile time; `to` is nullopt where no row is.
constexpr auto table = [] {
  std::array<std::array<std::optional<S>, tcp_event_count>, tcp_state_count> t{};
  for (const auto& r : rows) {
    t[static_cast<size_t>(r.from)][static_cast<size_t>(r.event)] = r.to;
  }
  // ABORT (or sending a RST) ends every state but CLOSED itself.
  for (int s = 1; s < tcp_state_count; ++s) {
    t[static_cast<size_t>(s)][static_cast<size_t>(E::abort)] = S::closed;
  }
  return t;
}();

}  // namespace

std::optional<tcp_state> next_state(tcp_state state, tcp_event event) noexcept {
  auto s = static_cast<size_t>(state);
  auto e = static_cast<size_t>(event);
  if (s >= tcp_state_count || e >= tcp_event_count) return std::nullopt;
  return table[s][e];
}

const char* tcp_state_name(tcp_state s) noexcept {
  switch (s) {
    case S::closed: return "CLOSED";
    case S::listen: return "LISTEN";
    case S::syn_sent: return "SYN-SENT";
    case S::syn_received: return "SYN-RECEIVED";
    case S::established: return "ESTABLISHED";
    case S::fin_wait_1: return "FIN-WAIT-1";
    case S::fin_wait_2: return "FIN-WAIT-2";
    case S::close_wait: return "CLOSE-WAIT";
    case S::closing: return "CLOSING";
    case S::last_ack: return "LAST-ACK";
    case S::time_wait: return "TIME-WAIT";
  }
  return "?";
}

const char* tcp_event_name(tcp_event e) noexcept {
  switch (e) {
    case E::passive_open: return "passive_open";
    case E::snd_syn: return "snd_syn";
    case E::rcv_syn: return "rcv_syn";
    case E::rcv_syn_ack: return "rcv_syn_ack";
    case E::rcv_ack_of_syn: return "rcv_ack_of_syn";
    case E::snd_fin: return "snd_fin";
    case E::rcv_fin: return "rcv_fin";
    case E::rcv_ack_of_fin: return "rcv_ack_of_fin";
    case E::rcv_fin_ack_of_fin: return "rcv_fin_ack_of_fin";
    case E::rcv_rst: return "rcv_rst";
    case E::abort: return "abort";
    case E::timeout_2msl: return "timeout_2msl";
  }
  return "?";
}

}  // namespace synscope::tcp
