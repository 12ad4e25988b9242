#include "kernel/sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include "core/file.h"
#include "kernel/counters.h"

namespace synscope::kernel {
namespace {

struct mnl_closer {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using mnl_handle = std::unique_ptr<mnl_socket, mnl_closer>;

core::error malformed(const std::string& what) {
  return core::error{core::exit_code::bad_data, "sock_diag: malformed reply: " + what};
}

void copy_endpoint(ip_endpoint& e, uint8_t family, const __be32 addr[4], __be16 port) {
  e.address.version = family == AF_INET ? 4 : 6;
  std::memcpy(e.address.bytes.data(), addr, family == AF_INET ? 4 : 16);
  e.port = ntohs(port);
}

}  // namespace

const char* state_name(tcp_state s) {
  switch (s) {
    case tcp_state::established: return "established";
    case tcp_state::syn_sent: return "syn-sent";
    case tcp_state::syn_recv: return "syn-recv";
    case tcp_state::fin_wait1: return "fin-wait-1";
    case tcp_state::fin_wait2: return "fin-wait-2";
    case tcp_state::time_wait: return "time-wait";
    case tcp_state::close: return "closed";  // ss shows UNCONN and filters by "closed": one name here
    case tcp_state::close_wait: return "close-wait";
    case tcp_state::last_ack: return "last-ack";
    case tcp_state::listen: return "listen";
    case tcp_state::closing: return "closing";
    case tcp_state::new_syn_recv: return "syn-recv";
  }
  return "unknown";
}

std::optional<uint32_t> parse_states(std::string_view text) {
  using s = tcp_state;
  std::string name(text);  // ss's names in any case: TIME-WAIT, time-wait
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const uint32_t bucket = state_bit(s::syn_recv) | state_bit(s::time_wait);
  const uint32_t connected = all_states & ~(state_bit(s::listen) | state_bit(s::close));
  if (name == "all") return all_states;
  if (name == "connected") return connected;
  if (name == "synchronized") return connected & ~state_bit(s::syn_sent);
  if (name == "bucket") return bucket;
  if (name == "big") return all_states & ~bucket;
  if (name == "listening" || name == "listen") return state_bit(s::listen);
  if (name == "closed" || name == "unconnected") return state_bit(s::close);
  for (int i = 1; i <= tcp_state_max; ++i) {
    auto st = static_cast<tcp_state>(i);
    if (st != s::new_syn_recv && name == state_name(st)) return state_bit(st);
  }
  return std::nullopt;
}

std::string socket_text(const ip_endpoint& e) {
  // As ss: the wildcard address in its family's spelling, a port of zero as '*' (0.0.0.0:*, [::]:*).
  if (e.port != 0) return core::to_string(e);
  std::string a = core::to_string(e.address);
  return e.address.version == 6 ? fmt::format("[{}]:*", a) : a + ":*";
}

bool parse_diag_message(const void* msg, size_t len, tcp_socket& out) {
  const auto* nlh = static_cast<const nlmsghdr*>(msg);
  if (len < sizeof(nlmsghdr) || nlh->nlmsg_len > len || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    return false;
  }
  const auto* m = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6) return false;
  if (m->idiag_state < 1 || m->idiag_state > tcp_state_max) return false;
  out = tcp_socket{};
  out.state = static_cast<tcp_state>(m->idiag_state);
  if (out.state == tcp_state::new_syn_recv) out.state = tcp_state::syn_recv;  // ss shows request sockets so
  copy_endpoint(out.local, m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
  copy_endpoint(out.remote, m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
  out.rqueue = m->idiag_rqueue;
  out.wqueue = m->idiag_wqueue;
  out.uid = m->idiag_uid;
  out.inode = m->idiag_inode;
  out.timer = m->idiag_timer;
  out.retrans = m->idiag_retrans;
  out.expires_ms = m->idiag_expires;
  // Attributes follow the message, each aligned to 4 bytes.
  const auto* base = static_cast<const char*>(msg);
  size_t at = NLMSG_LENGTH(sizeof(inet_diag_msg));
  at = MNL_ALIGN(at);
  while (at + sizeof(nlattr) <= nlh->nlmsg_len) {
    const auto* a = reinterpret_cast<const nlattr*>(base + at);  // NOLINT: netlink's layout
    if (a->nla_len < sizeof(nlattr) || at + a->nla_len > nlh->nlmsg_len) return false;
    if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO) {
      out.info = decode_tcp_info(base + at + sizeof(nlattr), a->nla_len - sizeof(nlattr));
    }
    at += MNL_ALIGN(a->nla_len);
  }
  return true;
}

core::result<int> walk_replies(const void* buf, size_t len, const std::function<void(const tcp_socket&)>& each) {
  // Not libmnl's mnl_nlmsg_ok/next: they compare lengths as int, and a nlmsg_len near 2^32
  // passes the check and aligns to 0, which never advances (found by the netlink fuzz target).
  const auto* base = static_cast<const char*>(buf);
  size_t at = 0;
  tcp_socket s;
  while (len - at >= sizeof(nlmsghdr)) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(base + at);  // NOLINT: 4-byte aligned by NLMSG_ALIGN
    size_t msg_len = nlh->nlmsg_len;
    if (msg_len < sizeof(nlmsghdr) || msg_len > len - at) {
      return malformed(fmt::format("a message of {} bytes at offset {} of {}", msg_len, at, len));
    }
    if (nlh->nlmsg_type == NLMSG_DONE) return 1;
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      if (msg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return malformed("a short NLMSG_ERROR");
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      int e = err->error;  // a negative errno
      if (e >= 0 || e == INT32_MIN) return malformed(fmt::format("NLMSG_ERROR with error {}", e));
      return core::system_error("sock_diag dump", "netlink", -e);
    }
    if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY || nlh->nlmsg_type == TCPDIAG_GETSOCK) {
      if (!parse_diag_message(nlh, msg_len, s)) return malformed(fmt::format("a message of {} bytes", msg_len));
      each(s);
    }
    at = std::min(len, at + NLMSG_ALIGN(msg_len));
  }
  if (at != len) return malformed(fmt::format("{} bytes left over", len - at));
  return 0;
}

core::result<void> dump_tcp(const socket_query& query, const std::function<void(const tcp_socket&)>& each) {
  mnl_handle nl(mnl_socket_open(NETLINK_SOCK_DIAG));
  if (!nl) return core::system_error("sock_diag", "socket(NETLINK_SOCK_DIAG)", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return core::system_error("sock_diag", "bind", errno);
  // Large reads: the kernel fills what the buffer can take, so fewer system calls per socket.
  std::vector<char> buf(256 * 1024);
  uint32_t seq = 1;
  auto filtered = [&](const tcp_socket& s) {
    // Keep exactly what was asked, whichever state's bit a kernel matches FIN-WAIT-2 mini-sockets
    // by (6.x: FIN-WAIT-2's, their substate).
    if (query.states & state_bit(s.state)) each(s);
  };
  // Both families: one TCPDIAG_GETSOCK request, which the kernel serves with the family left
  // open (AF_UNSPEC), so it walks its socket hash tables once instead of once per family.
  // One family: a SOCK_DIAG_BY_FAMILY request for it.
  std::vector<uint8_t> requests;
  if (query.ipv4 && query.ipv6) {
    requests.push_back(AF_UNSPEC);
  } else if (query.ipv4) {
    requests.push_back(AF_INET);
  } else if (query.ipv6) {
    requests.push_back(AF_INET6);
  }
  for (uint8_t family : requests) {
    alignas(nlmsghdr) char request[512];
    nlmsghdr* nlh = mnl_nlmsg_put_header(request);
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq++;
    if (family == AF_UNSPEC) {
      nlh->nlmsg_type = TCPDIAG_GETSOCK;
      auto* req = static_cast<inet_diag_req*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req)));
      req->idiag_family = AF_INET;  // ignored by the kernel for dumps of this type
      req->idiag_states = query.states;
      if (query.tcp_info) req->idiag_ext = static_cast<uint8_t>(1u << (INET_DIAG_INFO - 1));
    } else {
      nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
      auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
      req->sdiag_family = family;
      req->sdiag_protocol = IPPROTO_TCP;
      req->idiag_states = query.states;
      if (query.tcp_info) req->idiag_ext |= 1u << (INET_DIAG_INFO - 1);
    }
    if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return core::system_error("sock_diag", "sendto", errno);
    for (;;) {
      ssize_t n = core::retry_on_eintr([&] { return mnl_socket_recvfrom(nl.get(), buf.data(), buf.size()); });
      if (n < 0) {
        return core::system_error("sock_diag", "recvfrom", errno);
      }
      auto done = walk_replies(buf.data(), static_cast<size_t>(n), filtered);
      if (!done) return done.error();
      if (*done == 1) break;
      if (n == 0) return malformed("the dump ended without NLMSG_DONE");
    }
  }
  return {};
}

core::result<state_counts> count_tcp(const std::function<void(const tcp_socket&)>& each) {
  auto family_of = [](const tcp_socket& s) { return s.local.address.version == 4 ? 0u : 1u; };
  state_counts counts{};
  uint64_t minisockets = 0;  // FIN-WAIT-2 mini-sockets: in sockstat's tw, and in this dump
  uint64_t v6_time_wait = 0;
  socket_query v6;
  v6.states = state_bit(tcp_state::time_wait);
  v6.ipv4 = false;
  core::result<void> v6_result;
  // The thread inherits this thread's network namespace, which the caller may have entered.
  std::thread other([&] {
    v6_result = dump_tcp(v6, [&](const tcp_socket& s) {
      if (s.state == tcp_state::time_wait) ++v6_time_wait;
    });
  });
  socket_query rest;
  rest.states = all_states & ~state_bit(tcp_state::time_wait);
  auto rest_result = dump_tcp(rest, [&](const tcp_socket& s) {
    ++counts[static_cast<size_t>(s.state)][family_of(s)];
    if (s.state == tcp_state::fin_wait2 && s.timer == 3) ++minisockets;  // the TIME-WAIT timer: a mini-socket
    each(s);
  });
  other.join();
  if (!rest_result) return rest_result.error();
  if (!v6_result) return v6_result.error();
  // thread-self: the namespace this thread's sock_diag socket saw (/proc/self/net is the
  // process's, which may differ after a setns() in one thread).
  const std::string path = "/proc/thread-self/net/sockstat";
  auto text = core::read_file(path);
  if (!text) return text.error();
  auto sockstat = parse_sockstat_tcp(*text, path);
  if (!sockstat) return sockstat.error();
  const uint64_t tw = sockstat->tw;
  uint64_t others = minisockets + v6_time_wait;
  counts[static_cast<size_t>(tcp_state::time_wait)][0] = tw > others ? tw - others : 0;
  counts[static_cast<size_t>(tcp_state::time_wait)][1] = v6_time_wait;
  return counts;
}

std::vector<std::pair<uint64_t, socket_owner>> socket_owners(const std::string& proc_root) {
  std::vector<std::pair<uint64_t, socket_owner>> out;
  std::unique_ptr<DIR, int (*)(DIR*)> procs(opendir(proc_root.c_str()), closedir);
  if (!procs) return out;
  while (dirent* p = readdir(procs.get())) {
    char* end = nullptr;
    long pid = std::strtol(p->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::string fd_dir = fmt::format("{}/{}/fd", proc_root, p->d_name);
    std::unique_ptr<DIR, int (*)(DIR*)> fds(opendir(fd_dir.c_str()), closedir);
    if (!fds) continue;  // gone, or not ours to look at
    std::string comm;
    while (dirent* f = readdir(fds.get())) {
      if (f->d_name[0] == '.') continue;
      char target[64];
      std::string link = fd_dir;
      link.push_back('/');
      link.append(f->d_name);
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 9 || std::strncmp(target, "socket:[", 8) != 0) continue;
      target[n] = '\0';
      uint64_t inode = std::strtoull(target + 8, nullptr, 10);
      if (comm.empty()) {
        std::ifstream c(fmt::format("{}/{}/comm", proc_root, p->d_name));
        std::getline(c, comm);
        if (comm.empty()) comm.assign(1, '?');  // (not = "?": a g++ 12 -Wrestrict false positive)
      }
      out.push_back({inode, socket_owner{static_cast<int>(pid), comm}});
    }
  }
  return out;
}

}  // namespace synscope::kernel
