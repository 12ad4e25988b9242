#pragma once
// A listener on loopback that accepts every connection, drains what the client sends, and
// closes. `synscope probe` with no target measures the local kernel's handshake against it.
//
//   auto listener = active::loopback_listener::start({});
//   core::socket_address where = listener->address();   // 127.0.0.1:<ephemeral>
#include <memory>

#include "core/endpoint.h"
#include "core/error.h"

namespace synscope::active {

struct listener_options {
  core::address_family family = core::address_family::ipv4;  ///< ipv4: 127.0.0.1, ipv6: ::1
  int backlog = 4096;                                          ///< listen() backlog
  int fastopen_queue = 0;                                      ///< TCP_FASTOPEN queue length; 0 = off
};

class loopback_listener {
 public:
  /// Binds an ephemeral port on loopback, listens, and starts the accepting thread.
  static core::result<loopback_listener> start(const listener_options& options);

  loopback_listener(loopback_listener&&) noexcept;
  loopback_listener& operator=(loopback_listener&&) noexcept;
  ~loopback_listener();  ///< stops the thread and closes every socket

  [[nodiscard]] const core::socket_address& address() const;
  /// Connections accepted so far.
  [[nodiscard]] uint64_t accepted() const;

 private:
  struct state;
  explicit loopback_listener(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

}  // namespace synscope::active
