#include "kernel/tcp_info.h"

// linux/tcp.h, not netinet/tcp.h: glibc's copy of struct tcp_info stops before the fields added
// since Linux 4.x (tcpi_fastopen_client_fail among them). The two headers cannot be mixed.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

#ifndef TCPI_OPT_SYN_DATA
#define TCPI_OPT_SYN_DATA 32
#endif

namespace synscope::kernel {
namespace {

// The one table of option names, in the order of the TCPI_OPT_* bits.
constexpr std::pair<uint8_t, const char*> option_table[] = {
    {TCPI_OPT_TIMESTAMPS, "timestamps"}, {TCPI_OPT_SACK, "sack"},         {TCPI_OPT_WSCALE, "wscale"},
    {TCPI_OPT_ECN, "ecn"},               {TCPI_OPT_ECN_SEEN, "ecn_seen"}, {TCPI_OPT_SYN_DATA, "syn_data"},
};

}  // namespace

tcp_info_view decode_tcp_info(const void* bytes, size_t len) noexcept {
  tcp_info_view view;
  struct tcp_info info {};
  std::memcpy(&info, bytes, std::min(len, sizeof info));  // the rest stays zero
  view.valid = true;
  view.state = info.tcpi_state;
  view.options = info.tcpi_options;
  view.snd_wscale = info.tcpi_snd_wscale;
  view.rcv_wscale = info.tcpi_rcv_wscale;
  view.retransmits = info.tcpi_retransmits;
  view.rtt_us = info.tcpi_rtt;
  view.rttvar_us = info.tcpi_rttvar;
  view.snd_mss = info.tcpi_snd_mss;
  view.snd_cwnd = info.tcpi_snd_cwnd;
  view.total_retrans = info.tcpi_total_retrans;
  // A 2-bit field in the struct's eighth byte, present in every kernel's answer (0 before 5.5).
  view.fastopen_client_fail = info.tcpi_fastopen_client_fail;
  return view;
}

tcp_info_view read_tcp_info(int fd) noexcept {
  struct tcp_info info {};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return {};
  return decode_tcp_info(&info, len);
}

std::vector<std::string> option_names(uint8_t options) {
  std::vector<std::string> names;
  for (const auto& [bit, name] : option_table) {
    if ((options & bit) != 0) names.emplace_back(name);
  }
  return names;
}

bool syn_data_acked(const tcp_info_view& view) { return (view.options & TCPI_OPT_SYN_DATA) != 0; }

std::string fastopen_fail_name(uint8_t reason) {
  // enum tcp_fastopen_client_fail in linux/tcp.h (TFO_STATUS_UNSPEC = 0 is "no failure").
  switch (reason) {
    case 1: return "cookie_unavailable";
    case 2: return "data_not_acked";
    case 3: return "syn_retransmitted";
    default: return "";
  }
}

}  // namespace synscope::kernel
