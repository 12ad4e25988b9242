#pragma once
// The one listener maker: `serve`'s listeners (one per thread, SO_REUSEPORT), the loopback
// listener of `probe --self-test` and the doctor, and the lab's slow server all open theirs here.
//
//   active::listen_options o;  o.backlog = 4096;  o.fastopen_qlen = 64;
//   auto fd = active::make_listener(addr, o, "serve");
#include <string_view>

#include "core/endpoint.h"
#include "core/error.h"
#include "core/unique_fd.h"

namespace synscope::active {

struct listen_options {
  int backlog = 128;         ///< listen()'s, capped by net.core.somaxconn
  bool reuseport = false;    ///< SO_REUSEPORT (serve: one listener per thread)
  int defer_accept_s = 0;    ///< TCP_DEFER_ACCEPT seconds; 0 = off
  int fastopen_qlen = 0;     ///< TCP_FASTOPEN queue; 0 = off
  bool nonblocking = true;
};

/// A listening socket on `addr`: SO_REUSEADDR (a TIME-WAIT is no conflict), IPV6_V6ONLY on
/// IPv6, then `o`. Errors name the address (bind, listen) or `who` and the call; a port below 1024 without the
/// right is exit 77.
core::result<core::unique_fd> make_listener(const core::socket_address& addr, const listen_options& o,
                                            std::string_view who);

/// The address `fd` is bound to (the port the kernel chose for port 0).
core::result<core::socket_address> bound_address(int fd, std::string_view who);

}  // namespace synscope::active
