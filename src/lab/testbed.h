#pragma once
// A lab's own network: two network namespaces it creates and removes itself, a client and a
// server, joined by a veth pair, or with a delay by a user-space delay line. Nothing of the host
// is touched: sysctls are written and tools run from threads inside the namespaces.
//
//   lab::guardian::start();                          // first, before any thread
//   auto tb = lab::testbed::create({});
//   (*tb)->sysctl((*tb)->server(), "net.ipv4.tcp_syncookies", "0");
//   (*tb)->in((*tb)->server(), [&] { /* sockets made here live in the server namespace */ });
//
// Names: synscope-lab-<pid>-<n>-client and -server, so that `synscope lab cleanup` can tell
// the namespaces of a lab that died (its pid is gone) from those of one still running.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/endpoint.h"
#include "core/error.h"

namespace synscope::lab {

inline constexpr std::string_view name_prefix = "synscope-lab-";

/// The lab's addresses, host byte order. Only ever used inside the lab's namespaces.
inline constexpr uint32_t lab_network = 0x0acb0000;     ///< 10.203.0.0/24: the veth link
inline constexpr uint32_t server_ip = 0x0acb0001;       ///< 10.203.0.1
inline constexpr uint32_t client_ip = 0x0acb0002;       ///< 10.203.0.2 (more from .10 on)
inline constexpr uint32_t spoofed_network = 0x0acc0000; ///< 10.204.0.0/16: flood sources
/// True for an address in 10.203.0.0/24.
bool in_lab(uint32_t ip);
core::socket_address ipv4_address(uint32_t ip, uint16_t port);

struct link_options {
  /// One-way delay on the link (the round trip gains twice this). 0: a veth pair. Otherwise
  /// the link is a delay line of the lab's own: a TUN device in each namespace, and a thread
  /// per direction holding each packet for the delay. (netem is not in every kernel: this
  /// VM's has no sch_netem.)
  int delay_ms = 0;
};

struct delay_line;  // testbed.cpp

class testbed {
 public:
  /// Creates the namespaces and the link; everything made is removed again on failure.
  /// Errors: not root (77), `ip` or `tc` failing (3).
  static core::result<std::unique_ptr<testbed>> create(const link_options& link);
  ~testbed();  ///< deletes both namespaces (and with them the veth pair)
  testbed(const testbed&) = delete;
  testbed& operator=(const testbed&) = delete;

  [[nodiscard]] const std::string& client() const { return client_; }
  [[nodiscard]] const std::string& server() const { return server_; }

  /// Runs `f` on a new thread inside namespace `ns` and waits for it. Threads `f` starts, and
  /// programs it runs, are in `ns` too.
  core::result<void> in(const std::string& ns, const std::function<void()>& f) const;
  /// Writes /proc/sys/<key with / for .> as seen from inside `ns`.
  core::result<void> sysctl(const std::string& ns, const std::string& key, const std::string& value) const;
  /// Adds `n` more addresses to the client's side of the link (10.203.0.10 on) and returns
  /// them, port 0.
  core::result<std::vector<core::socket_address>> add_client_addresses(int n);

 private:
  testbed() = default;
  std::string client_;
  std::string server_;
  std::string device_ = "veth0";  ///< the link's device, the same name on both sides
  int extra_addresses_ = 0;
  std::unique_ptr<delay_line> delay_;
};

/// A process forked at the start of a drill that outlives it: when the drill's process ends in
/// any way (SIGKILL too), the guardian deletes every namespace the drill still had, then exits.
namespace guardian {
/// Forks the guardian; call it while the process has one thread. Idempotent.
core::result<void> start();
}  // namespace guardian

/// Deletes the lab namespaces (synscope-lab-<pid>-...) whose process is gone; returns their names.
std::vector<std::string> cleanup_stale();

}  // namespace synscope::lab
